/**
 * What the injection detector reports: a stable kind, a 0..1 severity and a
 * short, truncated description.
 */

/**
 * Stable names of the patterns the detector recognises. Reputation and audit
 * code may branch on these; new kinds may be added, existing ones keep their
 * meaning.
 */
export type FindingKind =
  /** `;` followed by another statement outside literals and comments. */
  | "stacked_query"
  /** A comment that cuts the statement short: empty `--`, `--'`, `#`, unterminated `/*`. */
  | "comment_truncation"
  /** A comment used as a token separator or executable comment: `UNION/∗∗/SELECT`, `/∗!…∗/`. */
  | "comment_obfuscation"
  /** A condition that is always true after OR: `OR 1=1`, `OR 'a'='a'`, `OR true`. */
  | "tautology"
  /** A blind boolean probe: constant comparison after AND/HAVING/WHEN, `ASCII(SUBSTRING((SELECT…`. */
  | "boolean_probe"
  /** `UNION [ALL] SELECT` (severe when constant-only, after an inline literal, or over catalogs). */
  | "union_select"
  /** Time-based probes: `pg_sleep(`, `WAITFOR DELAY`, `benchmark(`, `sleep(`. */
  | "time_delay"
  /** Server-side file, program or network access: `pg_read_file`, `COPY … PROGRAM`, `dblink`, `xp_cmdshell`. */
  | "dangerous_function"
  /** Fingerprinting and catalog reads: `@@version`, `pg_shadow`, `information_schema`, error-based probes. */
  | "system_probe"
  /** Encoding tricks: CHR()/CHAR() chains, hex strings, percent-encoding, look-alike quotes, NUL. */
  | "encoding_trick"
  /** An unterminated string literal, quoted identifier or dollar-quoted string. */
  | "quote_imbalance"
  /** Tokens glued in a way SQL never writes: `'a'OR`, `admin'`, `1AND`. */
  | "malformed_token"
  /** A `)` without its `(` (closing the caller's parenthesis), or `(` never closed. */
  | "paren_imbalance";

/** One suspicious pattern found in SQL text or in a parameter value. */
export interface Finding {
  /** Which pattern was found. */
  readonly kind: FindingKind;
  /** 0..1: how strongly this alone indicates injection (1 = certain). */
  readonly severity: number;
  /** A short description with at most a 40-character excerpt of the input. */
  readonly detail: string;
  /** Offset in the inspected text (in the value, for parameter findings). */
  readonly offset: number;
}

const EXCERPT_CHARS = 40;

/** A JSON-quoted excerpt of `text[start, end)`, at most 40 characters plus "…". */
export function excerpt(text: string, start: number, end: number): string {
  const s = Math.max(0, start);
  const e = Math.min(text.length, Math.max(s, end));
  const cut = e - s > EXCERPT_CHARS;
  return JSON.stringify(text.slice(s, cut ? s + EXCERPT_CHARS : e) + (cut ? "…" : ""));
}
