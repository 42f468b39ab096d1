/**
 * Screens what the database executor is about to run. Raw SQL written by the
 * caller (the `rawText` of a `CompiledQuery`) is tokenized the way PostgreSQL
 * reads it, and rejected when it shows injection; bound parameter values are
 * harmless (they never become SQL), but values that look like payloads are
 * reported so the reputation layer can act on the caller.
 */

import { OrmError } from "../../errors.ts";
import { type Clock, systemClock } from "../../util/mod.ts";
import { analyze, type Context } from "./_rules.ts";
import { type DbSecurityEventSink, emitEvent } from "./events.ts";
import type { Finding, FindingKind } from "./finding.ts";

/** The parts of a `CompiledQuery` the guard reads (structurally compatible). */
export interface GuardedQuery {
  /** SQL text with `$n` placeholders. */
  readonly sql: string;
  /** Values for the placeholders. */
  readonly params: readonly unknown[];
  /** Caller-written SQL fragments (empty for builder output). */
  readonly rawText: readonly string[];
}

/** Options for {@linkcode SqlInjectionDetector}. */
export interface SqlInjectionDetectorOptions {
  /**
   * Reject raw SQL whose findings reach `rejectThreshold`. When false such
   * SQL still runs and is reported with `rejected: false` (monitor mode);
   * the length limit always applies.
   * @default {true}
   */
  readonly enabled?: boolean;
  /** Characters of SQL text accepted. @default {100000} */
  readonly maxQueryLength?: number;
  /** Severity (0..1] at which a raw SQL finding rejects the query. @default {0.7} */
  readonly rejectThreshold?: number;
  /** Severity (0..1] at which a parameter value finding is reported. @default {0.5} */
  readonly reportThreshold?: number;
  /** Characters of each string parameter inspected (its head). @default {16384} */
  readonly maxValueChars?: number;
  /** Receives `SQLInjectionAttempt` events. */
  readonly onEvent?: DbSecurityEventSink;
  /** Timestamps events (`clock.now()`). @default {systemClock} */
  readonly clock?: Clock;
}

/**
 * Raw SQL refused as injection (`OrmError`, code `SQL_INJECTION_DETECTED`);
 * `findings` (not enumerable) says why.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqlInjectionDetector, SqlInjectionError } from "./mod.ts";
 * const sql = "SELECT * FROM users WHERE id = 1; DROP TABLE users";
 * try {
 *   new SqlInjectionDetector().check({ sql, params: [], rawText: [sql] }, "client-1");
 *   assert.fail("not rejected");
 * } catch (e) {
 *   assert.ok(e instanceof SqlInjectionError);
 *   assert.equal(e.code, "SQL_INJECTION_DETECTED");
 *   assert.equal(e.findings[0].kind, "stacked_query");
 *   assert.ok(!e.message.includes("DROP"), "the query is never echoed");
 * }
 * ```
 */
export class SqlInjectionError extends OrmError {
  /** The findings at or above the reject threshold, strongest first. */
  declare readonly findings: readonly Finding[];

  /**
   * Make the error for a rejected query. The message lists the finding kinds.
   *
   * @param findings the findings that caused the rejection (non-empty)
   */
  constructor(findings: readonly Finding[]) {
    const kinds = [...new Set(findings.map((f) => f.kind))].join(", ");
    super("SQL_INJECTION_DETECTED", `Cannot run raw SQL: it looks like SQL injection (${kinds})`);
    // Not enumerable: the excerpts come from attacker input and stay out of
    // structured logs unless asked for (postgres.js attaches parameters so).
    Object.defineProperty(this, "findings", { value: findings, enumerable: false });
  }
}

// Placeholder for parameters between raw fragments: a PostgreSQL parameter
// token, so `a = ${v}` reads as `a = $0` and never glues to its neighbours.
const RAW_PLACEHOLDER = " $0 ";
// Kinds that make a *value* suspicious. Broken quotes and parentheses alone
// are normal in free text (O'Reilly, "(sic"), so they are not reported.
const VALUE_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>([
  "stacked_query",
  "comment_truncation",
  "comment_obfuscation",
  "tautology",
  "boolean_probe",
  "union_select",
  "time_delay",
  "dangerous_function",
  "system_probe",
  "encoding_trick",
]);
const VALUE_CONTEXTS: readonly [Context, string, string, string][] = [
  ["bare", "", "", "unquoted"],
  ["single", "'", "'", "inside '…'"],
  ["double", '"', '"', 'inside "…"'],
];
// Strings made only of these cannot form a finding in any context (no quote,
// operator or punctuation) unless they spell a keyword from INTERESTING_WORDS.
const PLAIN = /^[\p{L}\p{N} _.,:@+]*$/u;
const INTERESTING_WORDS =
  /union|select|sleep|waitfor|benchmark|exec|xp_|sp_|pg_|dblink|information_schema|sys|0x|outfile|infile|@@|\bor\s+true\b/i;
const MAX_VALUE_STRINGS = 64;
const MAX_VALUE_DEPTH = 4;

/**
 * The SQL injection detector and guard. See the module doc of `mod.ts` for
 * the rules and their known limits.
 *
 * @example Inspect raw SQL and parameter values
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqlInjectionDetector } from "./mod.ts";
 * const detector = new SqlInjectionDetector();
 *
 * assert.deepEqual(detector.inspectRawSql("SELECT 'a;b' AS x WHERE y = $1"), []);
 * const kinds = detector.inspectRawSql("SELECT * FROM users WHERE name = 'admin'--'")
 *   .map((f) => f.kind);
 * assert.ok(kinds.includes("comment_truncation"));
 *
 * assert.equal(detector.inspectValue("O'Reilly").length, 0);
 * assert.equal(detector.inspectValue("' OR '1'='1")[0].kind, "tautology");
 * ```
 */
export class SqlInjectionDetector {
  readonly #enabled: boolean;
  readonly #maxQueryLength: number;
  readonly #rejectThreshold: number;
  readonly #reportThreshold: number;
  readonly #maxValueChars: number;
  readonly #onEvent: DbSecurityEventSink | undefined;
  readonly #clock: Clock;

  /**
   * Make a detector; all options have defaults matching `DatabaseConfig`.
   *
   * @param options see {@linkcode SqlInjectionDetectorOptions}
   * @throws {RangeError} when a limit or threshold is out of range
   */
  constructor(options: SqlInjectionDetectorOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.#maxQueryLength = positiveInt(options.maxQueryLength ?? 100_000, "maxQueryLength");
    this.#rejectThreshold = threshold(options.rejectThreshold ?? 0.7, "rejectThreshold");
    this.#reportThreshold = threshold(options.reportThreshold ?? 0.5, "reportThreshold");
    this.#maxValueChars = positiveInt(options.maxValueChars ?? 16_384, "maxValueChars");
    this.#onEvent = options.onEvent;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Inspect caller-written SQL. String literals (with `''` escapes, E'…',
   * dollar quotes), quoted identifiers and comments are read as PostgreSQL
   * reads them, so `SELECT 'a;b'` is clean and `'admin'--'` is not.
   *
   * @param text SQL text (placeholders as `$n`)
   * @returns the strongest finding per kind, strongest first; empty when clean
   */
  inspectRawSql(text: string): Finding[] {
    return analyze(text, "raw");
  }

  /**
   * Inspect a bound parameter value as it would read if it were pasted into
   * SQL unquoted, inside '…' and inside "…" (also after URL-decoding,
   * HTML-entity decoding and NFKC normalisation). Values are never executed
   * as SQL; findings here are for reporting only.
   *
   * @param value a parameter; strings are inspected, arrays and plain objects
   *   walked (4 levels, 64 strings), everything else is clean
   * @returns findings at or above `reportThreshold`, strongest per kind first
   */
  inspectValue(value: unknown): Finding[] {
    const strings: string[] = [];
    collectStrings(value, strings, 0);
    const best = new Map<FindingKind, Finding>();
    for (const s of strings) {
      const head = s.length > this.#maxValueChars ? s.slice(0, this.#maxValueChars) : s;
      if (PLAIN.test(head) && !INTERESTING_WORDS.test(head)) continue;
      for (const [form, how] of variants(head)) {
        for (const [context, open, close, where] of VALUE_CONTEXTS) {
          for (const f of analyze(open + form + close, context)) {
            if (!VALUE_KINDS.has(f.kind) || f.severity < this.#reportThreshold) continue;
            const prev = best.get(f.kind);
            if (prev && prev.severity >= f.severity) continue;
            best.set(f.kind, {
              kind: f.kind,
              severity: f.severity,
              detail: `${how}${where}: ${f.detail}`,
              offset: how === "" ? Math.max(0, Math.min(s.length, f.offset - open.length)) : 0,
            });
          }
        }
      }
    }
    return [...best.values()].sort((a, b) => b.severity - a.severity || a.offset - b.offset);
  }

  /**
   * Guard one query before it runs: enforce `maxQueryLength`, reject raw SQL
   * that looks like injection (when enabled), and report suspicious parameter
   * values through `onEvent` without rejecting them.
   *
   * @param query the compiled query (`sql`, `params`, `rawText`)
   * @param caller identity for events (client IP, session id)
   * @throws {OrmError} `QUERY_TOO_LONG` when the SQL text exceeds `maxQueryLength`
   * @throws {SqlInjectionError} (`OrmError`, `SQL_INJECTION_DETECTED`) when raw
   *   SQL has a finding at or above `rejectThreshold`; the message names the
   *   finding kinds, never the query
   */
  check(query: GuardedQuery, caller: string): void {
    tooLong(query.sql.length, this.#maxQueryLength);
    if (query.rawText.length > 0) {
      const text = query.rawText.join(RAW_PLACEHOLDER);
      tooLong(text.length, this.#maxQueryLength);
      const blocking = this.inspectRawSql(text).filter((f) => f.severity >= this.#rejectThreshold);
      if (blocking.length > 0) {
        const kinds = blocking.map((f) => f.kind).join(", ");
        emitEvent(this.#onEvent, {
          kind: "SQLInjectionAttempt",
          caller,
          detail: this.#enabled
            ? `raw SQL rejected: ${kinds}`
            : `raw SQL allowed (protection disabled): ${kinds}`,
          findings: blocking,
          atMs: this.#clock.now(),
          rejected: this.#enabled,
        });
        if (this.#enabled) throw new SqlInjectionError(blocking);
      }
    }
    if (!this.#onEvent || query.params.length === 0) return;
    const found: Finding[] = [];
    const where: string[] = [];
    query.params.forEach((p, i) => {
      const f = this.inspectValue(p);
      if (f.length === 0) return;
      found.push(...f);
      where.push(`$${i + 1} (${f.map((x) => x.kind).join(", ")})`);
    });
    if (found.length === 0) return;
    found.sort((a, b) => b.severity - a.severity);
    emitEvent(this.#onEvent, {
      kind: "SQLInjectionAttempt",
      caller,
      detail: `suspicious parameter values: ${where.join("; ")}`,
      findings: found,
      atMs: this.#clock.now(),
      rejected: false,
    });
  }
}

function tooLong(length: number, max: number): void {
  if (length > max) {
    throw new OrmError(
      "QUERY_TOO_LONG",
      `Cannot run query: length ${length} exceeds maxQueryLength ${max}`,
    );
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`Cannot create SqlInjectionDetector: ${name} must be a positive integer`);
  }
  return v;
}

function threshold(v: number, name: string): number {
  if (!(v > 0 && v <= 1)) {
    throw new RangeError(`Cannot create SqlInjectionDetector: ${name} must be in (0, 1]`);
  }
  return v;
}

function collectStrings(v: unknown, out: string[], depth: number): void {
  if (out.length >= MAX_VALUE_STRINGS) return;
  if (typeof v === "string") {
    out.push(v);
  } else if (depth < MAX_VALUE_DEPTH && Array.isArray(v)) {
    for (const x of v) {
      if (out.length >= MAX_VALUE_STRINGS) break;
      collectStrings(x, out, depth + 1);
    }
  } else if (depth < MAX_VALUE_DEPTH && isPlainObject(v)) {
    for (const x of Object.values(v)) {
      if (out.length >= MAX_VALUE_STRINGS) break;
      collectStrings(x, out, depth + 1);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The value, plus the forms a lenient layer in front of the database might turn it into. */
function variants(s: string): [string, string][] {
  const out: [string, string][] = [[s, ""]];
  const seen = new Set([s]);
  const push = (form: string, how: string) => {
    if (!seen.has(form)) {
      seen.add(form);
      out.push([form, how]);
    }
  };
  let decoded = s;
  for (let round = 0; round < 2 && /%[0-9a-f]{2}/i.test(decoded); round++) {
    decoded = percentDecode(decoded);
    push(decoded, round === 0 ? "URL-decoded, " : "URL-decoded twice, ");
  }
  if (/&(?:#\d{1,7}|#x[0-9a-f]{1,6}|apos|quot|lt|gt|amp);/i.test(s)) {
    push(entityDecode(s), "HTML-decoded, ");
  }
  push(s.normalize("NFKC"), "NFKC-normalised, ");
  return out;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    // Not valid UTF-8 percent-encoding: decode byte by byte (Latin-1).
    return s.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

const ENTITIES: Record<string, string> = { apos: "'", quot: '"', lt: "<", gt: ">", amp: "&" };

function entityDecode(s: string): string {
  return s.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|apos|quot|lt|gt|amp);/gi, (m, e: string) => {
    const lower = e.toLowerCase();
    if (lower in ENTITIES) return ENTITIES[lower];
    const code = lower.startsWith("#x")
      ? parseInt(lower.slice(2), 16)
      : parseInt(lower.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}
