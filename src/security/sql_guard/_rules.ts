/**
 * The detector's rules, run over the token stream of `_lexer.ts`. Each rule
 * reports a {@linkcode Finding}; only the strongest finding per kind is kept,
 * so the result is bounded by the number of kinds whatever the input.
 *
 * Every scan is linear or uses precomputed tables (matching parentheses,
 * prefix counts); nested expression parsing is capped by a step budget, so
 * hostile input cannot make a check quadratic or overflow the stack.
 */

import { type Token, tokenize } from "./_lexer.ts";
import { excerpt, type Finding, type FindingKind } from "./finding.ts";

/**
 * Where the text came from:
 * - `raw`: SQL written by the caller (screened before it runs);
 * - `bare` / `single` / `double`: a parameter value as it would read if a
 *   careless caller interpolated it unquoted, inside '…', or inside "…".
 */
export type Context = "raw" | "bare" | "single" | "double";

// Statements that make `;` a stacked query in a parameter value.
const STATEMENT_KEYWORDS = new Set([
  "abort",
  "alter",
  "analyze",
  "begin",
  "call",
  "checkpoint",
  "commit",
  "copy",
  "create",
  "deallocate",
  "declare",
  "delete",
  "do",
  "drop",
  "exec",
  "execute",
  "grant",
  "insert",
  "load",
  "lock",
  "merge",
  "prepare",
  "rename",
  "replace",
  "reset",
  "revoke",
  "rollback",
  "select",
  "set",
  "show",
  "shutdown",
  "truncate",
  "update",
  "use",
  "vacuum",
  "waitfor",
  "with",
]);

// Functions whose result is a constant when their arguments are, for
// recognising `OR CHR(49)=CHR(49)`, `OR LENGTH('a')=1`.
const PURE_FNS = new Set([
  "abs",
  "ascii",
  "bin",
  "char",
  "chr",
  "coalesce",
  "concat",
  "hex",
  "left",
  "len",
  "length",
  "lower",
  "lpad",
  "ltrim",
  "md5",
  "nchar",
  "nullif",
  "ord",
  "repeat",
  "replace",
  "reverse",
  "right",
  "rpad",
  "rtrim",
  "space",
  "substr",
  "substring",
  "trim",
  "unhex",
  "upper",
]);
const CMP_OPS: ReadonlySet<string> = new Set([
  "=",
  "==",
  "<>",
  "!=",
  "<",
  ">",
  "<=",
  ">=",
  "<=>",
  "~",
  "~*",
  "!~",
  "!~*",
]);
const ARITH_OPS: ReadonlySet<string> = new Set([
  "+",
  "-",
  "*",
  "/",
  "%",
  "||",
  "^",
  "&",
  "|",
  "<<",
  ">>",
  "#",
]);
const UNARY_OPS: ReadonlySet<string> = new Set(["+", "-", "~", "!"]);
const SIGN_OPS: ReadonlySet<string> = new Set(["+", "-"]);
const CONCAT_OPS: ReadonlySet<string> = new Set(["||", "+"]);
const CONST_WORDS: ReadonlySet<string> = new Set(["true", "false", "null", "unknown"]);
const LIKE_WORDS: ReadonlySet<string> = new Set(["like", "ilike", "rlike", "regexp", "glob"]);
const ALL_DISTINCT: ReadonlySet<string> = new Set(["all", "distinct"]);
const WAIT_WORDS: ReadonlySet<string> = new Set(["delay", "time"]);
const FILE_WORDS: ReadonlySet<string> = new Set(["outfile", "dumpfile"]);
const TO_FROM: ReadonlySet<string> = new Set(["to", "from"]);
const EXEC_WORDS: ReadonlySet<string> = new Set(["exec", "execute"]);
// Type names that may prefix a string literal (`DATE '2024-01-01'`).
const TYPE_WORDS: ReadonlySet<string> = new Set([
  "bool",
  "boolean",
  "bytea",
  "cidr",
  "date",
  "inet",
  "int",
  "integer",
  "interval",
  "json",
  "jsonb",
  "numeric",
  "text",
  "time",
  "timestamp",
  "timestamptz",
  "uuid",
  "varchar",
]);
// What may follow `OR <constant>` for it to be the whole condition.
const CONDITION_END = new Set([
  "and",
  "fetch",
  "group",
  "having",
  "limit",
  "offset",
  "or",
  "order",
  "returning",
  "union",
  "xor",
]);
const SELECT_LIST_END = new Set([
  "except",
  "fetch",
  "from",
  "group",
  "having",
  "intersect",
  "into",
  "limit",
  "offset",
  "order",
  "union",
  "where",
  "window",
]);

// Time-based blind probes (function calls).
const TIME_CALLS = new Map<string, number>([
  ["pg_sleep", 0.95],
  ["pg_sleep_for", 0.95],
  ["pg_sleep_until", 0.95],
  ["sleep", 0.9],
  ["benchmark", 0.9],
  ["randomblob", 0.6],
]);
// Server-side file, program, network or process access (function calls).
const DANGEROUS_CALLS = new Map<string, number>([
  ["pg_read_file", 0.95],
  ["pg_read_binary_file", 0.95],
  ["pg_ls_dir", 0.9],
  ["pg_stat_file", 0.9],
  ["pg_ls_logdir", 0.85],
  ["pg_ls_waldir", 0.85],
  ["pg_file_write", 0.95],
  ["pg_file_rename", 0.95],
  ["pg_file_unlink", 0.95],
  ["pg_reload_conf", 0.85],
  ["pg_terminate_backend", 0.85],
  ["pg_cancel_backend", 0.8],
  ["pg_rotate_logfile", 0.8],
  ["lo_import", 0.95],
  ["lo_export", 0.95],
  ["dblink", 0.95],
  ["dblink_exec", 0.95],
  ["dblink_connect", 0.95],
  ["dblink_connect_u", 0.95],
  ["dblink_send_query", 0.95],
  ["load_file", 0.95],
  ["sys_exec", 0.95],
  ["sys_eval", 0.95],
  ["openrowset", 0.9],
  ["opendatasource", 0.9],
  ["openquery", 0.85],
  ["query_to_xml", 0.8],
  ["database_to_xml", 0.8],
]);
// Dangerous procedures and packages, recognised without a call.
const DANGEROUS_WORDS = new Map<string, number>([
  ["xp_cmdshell", 0.95],
  ["xp_dirtree", 0.9],
  ["xp_fileexist", 0.9],
  ["xp_regread", 0.9],
  ["xp_regwrite", 0.95],
  ["xp_servicecontrol", 0.95],
  ["xp_subdirs", 0.9],
  ["sp_oacreate", 0.95],
  ["sp_oamethod", 0.95],
  ["sp_configure", 0.9],
  ["sp_executesql", 0.9],
  ["sp_makewebtask", 0.95],
  ["sp_addlogin", 0.9],
  ["sp_addsrvrolemember", 0.95],
  ["sp_password", 0.9],
]);
// Oracle packages used for out-of-band exfiltration (`utl_http.request(`).
const DANGEROUS_PACKAGES = new Map<string, number>([
  ["utl_http", 0.9],
  ["utl_inaddr", 0.9],
  ["utl_file", 0.9],
  ["utl_tcp", 0.9],
  ["dbms_java", 0.9],
  ["dbms_xmlquery", 0.85],
  ["dbms_pipe", 0.9], // dbms_pipe.receive_message: a time probe too
  ["dbms_lock", 0.9], // dbms_lock.sleep
]);
// Fingerprinting and error-based extraction (function calls).
const SYSTEM_CALLS = new Map<string, number>([
  ["version", 0.5], // `SELECT version()` is a legitimate diagnostic query
  ["database", 0.75], // MySQL database(): never valid in PostgreSQL
  ["user", 0.75], // MySQL user()
  ["schema", 0.75],
  ["system_user", 0.75],
  ["db_name", 0.75],
  ["user_name", 0.75],
  ["host_name", 0.75],
  ["suser_sname", 0.75],
  ["current_database", 0.5],
  ["inet_server_addr", 0.6],
  ["extractvalue", 0.9],
  ["updatexml", 0.9],
  ["name_const", 0.85],
  ["geometrycollection", 0.8],
  ["multipoint", 0.8],
]);
// Catalog tables an attacker reads to map or loot the database.
const SYSTEM_TABLES = new Map<string, number>([
  ["information_schema", 0.5], // migrations and admin queries read it too
  ["pg_shadow", 0.85],
  ["pg_authid", 0.85],
  ["pg_user", 0.6],
  ["pg_roles", 0.5],
  ["pg_database", 0.5],
  ["pg_tables", 0.5],
  ["pg_stat_activity", 0.5],
  ["pg_settings", 0.5],
  ["sysobjects", 0.75],
  ["syscolumns", 0.75],
  ["sysdatabases", 0.75],
  ["sysusers", 0.75],
  ["syslogins", 0.8],
  ["msysobjects", 0.8],
  ["sqlite_master", 0.75],
  ["sqlite_schema", 0.75],
  ["all_tables", 0.7],
  ["all_tab_columns", 0.7],
  ["all_users", 0.7],
  ["dba_users", 0.8],
  ["user_tables", 0.6],
  ["v$version", 0.85],
]);
// Functions used to pull one character at a time in blind boolean probes.
const EXTRACT_FNS = new Set([
  "ascii",
  "bin",
  "char_length",
  "hex",
  "left",
  "len",
  "length",
  "mid",
  "ord",
  "right",
  "substr",
  "substring",
  "unicode",
]);
const CHR_FNS = new Set(["chr", "char", "nchar"]);
// Characters that look like quotes but are not (NFKC or a sloppy gateway may fold them).
const LOOKALIKE_QUOTES =
  /[\u02b9\u02bc\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2032\uff02\uff07]/;
// Percent-escapes an attacker uses to smuggle ', ", NUL, ; and # past a filter.
const PERCENT_ESCAPE = /%([0-9a-f]{2})/iy;
const PERCENT_SEVERE: ReadonlySet<string> = new Set(["27", "22", "00", "3b", "23"]);
const E_ESCAPE = /\\(?:x[0-9a-f]{1,2}|[0-7]{1,3}|u[0-9a-f]{4}|U[0-9a-f]{8})/gi;
const U_ESCAPE = /\\(?:[0-9a-f]{4}|\+[0-9a-f]{6})/gi;
const ALNUM = /[\p{L}\p{N}]/u;
// Expression-parsing steps per candidate and parenthesis depth inside a
// constant, against nesting bombs (deeper constants are not recognised).
const PARSE_BUDGET = 128;
const MAX_NESTING = 32;

/** Run every rule over `text` in `context`; the strongest finding per kind, strongest first. */
export function analyze(text: string, context: Context): Finding[] {
  const all = tokenize(text);
  const sig: Token[] = [];
  const gap: boolean[] = []; // whitespace or a comment before sig[k]
  let pendingGap = true;
  for (const t of all) {
    if (t.type === "line_comment" || t.type === "block_comment") {
      pendingGap = true;
      continue;
    }
    sig.push(t);
    gap.push(pendingGap || t.spaceBefore);
    pendingGap = false;
  }
  const n = sig.length;
  const value = context !== "raw";

  // Strongest finding per kind; the excerpt is only built for a new best.
  const best = new Map<FindingKind, Finding>();
  const addAt = (
    kind: FindingKind,
    severity: number,
    label: string,
    start: number,
    end: number,
  ) => {
    const prev = best.get(kind);
    if (prev && severity <= prev.severity) return;
    best.set(kind, {
      kind,
      severity,
      detail: `${label} ${excerpt(text, start, end)}`,
      offset: start,
    });
  };
  const add = (kind: FindingKind, severity: number, label: string, from: number, to = from + 1) => {
    const first = sig[Math.max(0, from)];
    const last = sig[Math.min(to, n) - 1];
    addAt(kind, severity, label, first?.start ?? text.length, last?.end ?? text.length);
  };

  // Matching parentheses and statement ends, one pass each.
  const match = new Int32Array(n).fill(-1);
  const opens: number[] = [];
  let strayClose = -1;
  for (let k = 0; k < n; k++) {
    if (isPunct(sig[k], "(")) opens.push(k);
    else if (isPunct(sig[k], ")")) {
      const o = opens.pop();
      if (o === undefined) {
        if (strayClose < 0) strayClose = k;
      } else {
        match[o] = k;
        match[k] = o;
      }
    }
  }
  const stmtEnd = new Int32Array(n + 1).fill(n);
  for (let k = n - 1; k >= 0; k--) stmtEnd[k] = isPunct(sig[k], ";") ? k : stmtEnd[k + 1];
  // Prefix counts (filled by the function rule): system-probe tokens and SELECTs in sig[0, k).
  const probeHits = new Int32Array(n + 1);
  const selectHits = new Int32Array(n + 1);

  // --- constant expressions (for tautologies and probes) ----------------------
  let budget = 0;
  const constTerm = (i: number, depth: number): number => {
    if (--budget < 0 || depth > MAX_NESTING) return -1;
    let j = i;
    while (inOps(sig[j], UNARY_OPS)) j++;
    const t = sig[j];
    if (!t) return -1;
    let end: number;
    if (t.type === "number" || t.type === "string") end = j + 1;
    else if (t.type === "word" && CONST_WORDS.has(t.value) && !isPunct(sig[j + 1], "(")) {
      end = j + 1;
    } else if (isPunct(t, "(")) {
      const k = constExpr(j + 1, depth + 1);
      if (k < 0 || !isPunct(sig[k], ")")) return -1;
      end = k + 1;
    } else if (t.type === "word" && PURE_FNS.has(t.value) && isPunct(sig[j + 1], "(")) {
      let k = j + 2;
      if (!isPunct(sig[k], ")")) {
        for (;;) {
          k = constExpr(k, depth + 1);
          if (k < 0) return -1;
          if (!isPunct(sig[k], ",")) break;
          k++;
        }
        if (!isPunct(sig[k], ")")) return -1;
      }
      end = k + 1;
    } else return -1;
    while (isPunct(sig[end], "::") && sig[end + 1]?.type === "word") end += 2;
    return end;
  };
  const constExpr = (i: number, depth: number): number => {
    let j = constTerm(i, depth);
    if (j < 0) return -1;
    while (inOps(sig[j], ARITH_OPS)) {
      const k = constTerm(j + 1, depth);
      if (k < 0) break;
      j = k;
    }
    return j;
  };
  const constList = (k: number): number => { // `(` already consumed; returns after `)`
    for (;;) {
      k = constExpr(k, 0);
      if (k < 0) return -1;
      if (!isPunct(sig[k], ",")) break;
      k++;
    }
    return isPunct(sig[k], ")") ? k + 1 : -1;
  };
  const constComparison = (i: number): number => {
    const a = constExpr(i, 0);
    if (a < 0) return -1;
    let k = a;
    if (inOps(sig[k], CMP_OPS)) return constExpr(k + 1, 0);
    if (isWord(sig[k], "not")) k++;
    const t = sig[k];
    if (inWords(t, LIKE_WORDS)) return constExpr(k + 1, 0);
    if (isWord(t, "similar") && isWord(sig[k + 1], "to")) return constExpr(k + 2, 0);
    if (isWord(t, "is")) {
      k++;
      if (isWord(sig[k], "not")) k++;
      if (inWords(sig[k], CONST_WORDS)) return k + 1;
      if (isWord(sig[k], "distinct") && isWord(sig[k + 1], "from")) return constExpr(k + 2, 0);
      return -1;
    }
    if (isWord(t, "between")) {
      const b = constExpr(k + 1, 0);
      return b >= 0 && isWord(sig[b], "and") ? constExpr(b + 1, 0) : -1;
    }
    if (isWord(t, "in") && isPunct(sig[k + 1], "(")) return constList(k + 2);
    return -1;
  };
  const dotted = (i: number): { end: number; key: string } | undefined => {
    if (!isName(sig[i])) return undefined;
    let key = sig[i].value;
    let j = i + 1;
    // At most database.schema.table.column, so each OR scans O(1) tokens.
    while (j < i + 7 && isPunct(sig[j], ".") && isName(sig[j + 1])) {
      key += "." + sig[j + 1].value;
      j += 2;
    }
    return isPunct(sig[j], "(") ? undefined : { end: j, key };
  };

  // --- quoting, gluing, parentheses ------------------------------------------
  for (const t of all) {
    if ((t.type === "string" || t.type === "qident") && t.unterminated) {
      const what = t.type === "qident"
        ? "quoted identifier"
        : t.prefix.startsWith("$")
        ? "dollar-quoted string"
        : "string literal";
      addAt("quote_imbalance", 0.9, `unterminated ${what}`, t.start, t.end);
    }
  }
  for (let k = 1; k < n; k++) {
    if (gap[k]) continue;
    const a = sig[k - 1];
    const b = sig[k];
    // Typed literals may touch their type name: DATE'2024-01-01'.
    if (inWords(a, TYPE_WORDS) && b.type === "string") continue;
    if ((isLiteral(a) && isOperand(b)) || (isOperand(a) && isLiteral(b))) {
      add("malformed_token", 0.8, "quote glued to a token:", k - 1, k + 1);
    } else if (a.type === "number" && b.type === "word") {
      add("malformed_token", 0.7, "number glued to a word:", k - 1, k + 1);
    }
  }
  if (strayClose >= 0) {
    add(
      "paren_imbalance",
      0.8,
      "')' closes a parenthesis opened before:",
      strayClose,
      strayClose + 3,
    );
  } else if (opens.length > 0) {
    add("paren_imbalance", 0.6, "'(' never closed:", opens[0], opens[0] + 3);
  }

  // --- stacked statements ----------------------------------------------------
  for (let k = 0; k + 1 < n; k++) {
    if (!isPunct(sig[k], ";")) continue;
    // A value's "…; fine" is prose; it must be followed by a statement keyword.
    if (value && !inWords(sig[k + 1], STATEMENT_KEYWORDS)) continue;
    add("stacked_query", 0.95, "';' followed by another statement:", k, k + 3);
    break;
  }

  // --- comments --------------------------------------------------------------
  for (let r = 0; r < all.length; r++) {
    const t = all[r];
    const prev = all[r - 1];
    if (t.type === "line_comment") {
      const body = t.value.trim();
      const empty = !ALNUM.test(body);
      if (context === "bare") {
        // Unquoted free text often has "--" (a dash, "wait--"); in a value
        // only an empty comment after a number or ")" counts.
        if (empty && prev && (prev.type === "number" || isPunct(prev, ")"))) {
          addAt("comment_truncation", 0.8, "empty line comment after", prev.start, t.end);
        }
        continue;
      }
      // A value that broke out of '…' closes a literal (or ends a number or
      // ")") right before its comment; prose with an apostrophe and a dash
      // ("I'd say -- no") does not.
      if (value && !(prev && (isLiteral(prev) || prev.type === "number" || isPunct(prev, ")")))) {
        continue;
      }
      if (empty) {
        addAt(
          "comment_truncation",
          0.9,
          "empty line comment cutting the statement:",
          t.start,
          t.end,
        );
      } else if (/^['"`]|['"`]$/.test(body)) {
        addAt("comment_truncation", 0.9, "line comment swallowing a quote:", t.start, t.end);
      } else if (
        prev && !t.spaceBefore &&
        (isLiteral(prev) || prev.type === "number" || isPunct(prev, ")"))
      ) {
        addAt("comment_truncation", 0.8, "line comment glued to a literal:", prev.start, t.end);
      }
    } else if (t.type === "block_comment") {
      const next = all[r + 1];
      if (t.value.startsWith("!")) {
        addAt("comment_obfuscation", 0.95, "MySQL executable comment", t.start, t.end);
      } else if (t.unterminated) {
        if (context !== "bare") {
          addAt("comment_truncation", 0.9, "unterminated block comment", t.start, t.end);
        }
      } else if (!ALNUM.test(t.value)) {
        addAt(
          "comment_obfuscation",
          0.85,
          "empty block comment used as whitespace:",
          t.start,
          t.end,
        );
      } else if (
        prev && next && !t.spaceBefore && !next.spaceBefore && isGlueable(prev) && isGlueable(next)
      ) {
        addAt("comment_obfuscation", 0.85, "block comment splitting tokens:", prev.start, next.end);
      }
    }
  }
  if (context !== "bare") {
    for (let k = 0; k < n; k++) {
      if (!isOp(sig[k], "#")) continue;
      const next = sig[k + 1];
      if (!next || (next.type === "string" && next.unterminated)) {
        add("comment_truncation", 0.85, "'#' (MySQL comment) cutting the statement:", k - 1, k + 2);
      }
    }
  }

  // --- tautologies and boolean probes -----------------------------------------
  for (let i = 0; i < n; i++) {
    const t = sig[i];
    let kind: FindingKind;
    let severity: number;
    let bare = false;
    if (isWord(t, "or")) [kind, severity, bare] = ["tautology", 0.9, true];
    else if (isWord(t, "xor")) [kind, severity, bare] = ["tautology", 0.85, true];
    else if (isOp(t, "||")) [kind, severity] = ["tautology", 0.85]; // MySQL's OR
    else if (isWord(t, "and") || isOp(t, "&&")) [kind, severity] = ["boolean_probe", 0.75];
    else if (isWord(t, "having")) [kind, severity] = ["boolean_probe", 0.8];
    else if (isWord(t, "when")) [kind, severity] = ["boolean_probe", 0.75];
    else continue;
    const label = `constant condition after ${t.value.toUpperCase()}:`;
    // Skip `(` and NOT: `OR ('1'='1')`, `OR NOT 1=2`.
    let k = i + 1;
    let found = -1;
    budget = PARSE_BUDGET; // shared by the attempts below
    for (let steps = 0; steps < 8 && k < n; steps++) {
      const e = constComparison(k);
      if (e >= 0) {
        found = e;
        break;
      }
      if (isPunct(sig[k], "(") || isWord(sig[k], "not")) k++;
      else break;
    }
    if (found >= 0) {
      add(kind, severity, label, i, found);
      continue;
    }
    if (!isWord(t, "or")) continue;
    const same = dotted(i + 1);
    if (same && isOp(sig[same.end], "=")) {
      const other = dotted(same.end + 1);
      if (other && other.key === same.key) {
        add("tautology", 0.8, "self-comparison after OR:", i, other.end);
        continue;
      }
    }
    if (bare) {
      budget = PARSE_BUDGET;
      const e = constExpr(k, 0);
      const after = sig[e];
      if (
        e >= 0 &&
        // Unquoted free text says "2 or 3"; only `OR true` counts there.
        (context !== "bare" || (e === k + 1 && isWord(sig[k], "true"))) &&
        (!after || isPunct(after, ")") || isPunct(after, ";") || isOp(after, "#") ||
          inWords(after, CONDITION_END))
      ) {
        add("tautology", 0.85, `constant after ${t.value.toUpperCase()}:`, i, e);
      }
    }
  }

  // --- functions, procedures, catalogs, file access ---------------------------
  for (let i = 0; i < n; i++) {
    const t = sig[i];
    probeHits[i + 1] = probeHits[i];
    selectHits[i + 1] = selectHits[i] + (isWord(t, "select") ? 1 : 0);
    if (!isName(t)) {
      if (isOp(t, "@@") && !gap[i + 1] && isName(sig[i + 1]) && !isPunct(sig[i + 2], "(")) {
        add("system_probe", 0.85, "server variable", i, i + 2);
        probeHits[i + 1]++;
      }
      continue;
    }
    const name = t.value;
    const call = isPunct(sig[i + 1], "(");
    if (call) {
      const time = TIME_CALLS.get(name);
      if (time) add("time_delay", time, "delay function", i, i + 2);
      const danger = DANGEROUS_CALLS.get(name);
      if (danger) add("dangerous_function", danger, "dangerous function", i, i + 2);
      const sys = SYSTEM_CALLS.get(name);
      if (sys) {
        add("system_probe", sys, "fingerprinting function", i, i + 2);
        probeHits[i + 1]++;
      }
      if (name === "exp" && isOp(sig[i + 2], "~")) {
        add("system_probe", 0.85, "error-based probe", i, i + 3);
      } else if (name === "floor" && isWord(sig[i + 2], "rand") && isPunct(sig[i + 3], "(")) {
        add("system_probe", 0.8, "error-based probe", i, i + 4);
      } else if (name === "convert" && isWord(sig[i + 2], "int") && isPunct(sig[i + 3], ",")) {
        add("system_probe", 0.8, "error-based probe", i, i + 4);
      } else if (t.type === "word" && EXEC_WORDS.has(name)) {
        add("dangerous_function", 0.85, "dynamic SQL", i, i + 2);
      }
    } else if (t.type === "word" && EXEC_WORDS.has(name) && sig[i + 1]?.type === "string") {
      add("dangerous_function", 0.85, "dynamic SQL", i, i + 2);
    }
    const word = DANGEROUS_WORDS.get(name);
    if (word) add("dangerous_function", word, "dangerous procedure", i);
    const pkg = DANGEROUS_PACKAGES.get(name);
    if (pkg && isPunct(sig[i + 1], ".")) {
      const time = name === "dbms_lock" || name === "dbms_pipe";
      add(time ? "time_delay" : "dangerous_function", pkg, "dangerous package", i, i + 3);
    }
    const table = SYSTEM_TABLES.get(name);
    if (table) {
      add("system_probe", table, "system catalog", i);
      probeHits[i + 1]++;
    }
    if (name === "mysql" && isPunct(sig[i + 1], ".") && isWord(sig[i + 2], "user")) {
      add("system_probe", 0.8, "system catalog", i, i + 3);
      probeHits[i + 1]++;
    } else if (name === "master" && isPunct(sig[i + 1], ".") && isPunct(sig[i + 2], ".")) {
      add("system_probe", 0.8, "system database", i, i + 4);
      probeHits[i + 1]++;
    }
    if (t.type !== "word") continue;
    if (name === "waitfor" && inWords(sig[i + 1], WAIT_WORDS)) {
      add("time_delay", 0.95, "delay statement", i, i + 3);
    } else if (name === "into" && inWords(sig[i + 1], FILE_WORDS)) {
      add("dangerous_function", 0.95, "file write", i, i + 3);
    } else if ((name === "load" && isWord(sig[i + 1], "data")) || name === "infile") {
      add("dangerous_function", 0.9, "file read", i, i + 3);
    } else if (name === "copy" && (i === 0 || isPunct(sig[i - 1], ";"))) {
      // One scan per statement: COPY only counts at a statement start.
      for (let k = i + 1; k < stmtEnd[i]; k++) {
        if (isWord(sig[k], "program")) {
          add("dangerous_function", 0.95, "COPY … PROGRAM", k, k + 2);
          break;
        }
        if (inWords(sig[k], TO_FROM) && sig[k + 1]?.type === "string") {
          add("dangerous_function", 0.9, "COPY with a server file", k, k + 2);
          break;
        }
      }
    }
  }
  // Blind extraction: ASCII(SUBSTRING((SELECT …),1,1)) > 64, a subquery or
  // fingerprint inside, the result compared (through at most 4 ")") with a
  // constant. Needs the prefix counts.
  for (let i = 0; i + 1 < n; i++) {
    if (!inWords(sig[i], EXTRACT_FNS) || !isPunct(sig[i + 1], "(")) continue;
    const close = match[i + 1];
    if (close < 0) continue;
    if (selectHits[close] === selectHits[i + 1] && probeHits[close] === probeHits[i + 1]) continue;
    let k = close + 1;
    while (k < close + 5 && isPunct(sig[k], ")")) k++;
    budget = PARSE_BUDGET;
    if (inOps(sig[k], CMP_OPS) && constExpr(k + 1, 0) >= 0) {
      add("boolean_probe", 0.85, "character extraction", i, i + 4);
      break;
    }
  }

  // --- UNION SELECT ------------------------------------------------------------
  for (let i = 0; i < n; i++) {
    if (!isWord(sig[i], "union")) continue;
    let j = i + 1;
    if (inWords(sig[j], ALL_DISTINCT)) j++;
    while (isPunct(sig[j], "(")) j++;
    if (!isWord(sig[j], "select")) continue;
    let severity = 0.6;
    let why = "UNION SELECT:";
    // The select list (to FROM/WHERE/… at depth 0), as [start, end) items.
    // Parenthesised groups are skipped whole (match[]), keeping this linear.
    const items: [number, number][] = [];
    let itemStart = j + 1;
    let k = j + 1;
    for (; k < n; k++) {
      const u = sig[k];
      if (isPunct(u, "(")) {
        if (match[k] < 0) break;
        k = match[k];
      } else if (isPunct(u, ",")) {
        items.push([itemStart, k]);
        itemStart = k + 1;
      } else if (isPunct(u, ")") || isPunct(u, ";") || inWords(u, SELECT_LIST_END)) break;
    }
    items.push([itemStart, k]);
    // All constants / NULLs / fingerprints: column-count probing (UNION SELECT NULL,NULL).
    const constant = items.every(([s, e]) => {
      if (e <= s) return false;
      budget = PARSE_BUDGET;
      const c = constExpr(s, 0);
      if (c === e || (c >= 0 && c + 1 === e && isName(sig[c]))) return true;
      if (c >= 0 && c + 2 === e && isWord(sig[c], "as")) return true;
      return probeHits[e] > probeHits[s] && e - s <= 4;
    });
    if (constant) [severity, why] = [0.9, "UNION SELECT of constants:"];
    // Left arm ends in a comparison with an inline literal: `… = 1 UNION SELECT`.
    let p = i - 1;
    if (isLiteral(sig[p]) || sig[p]?.type === "number") {
      p--;
      while (inOps(sig[p], SIGN_OPS)) p--;
      if ((inOps(sig[p], CMP_OPS) || inWords(sig[p], LIKE_WORDS)) && severity < 0.85) {
        [severity, why] = [0.85, "UNION SELECT after an inline literal:"];
      }
    }
    if (probeHits[stmtEnd[i]] > probeHits[j]) {
      [severity, why] = [0.9, "UNION SELECT over system catalogs:"];
    }
    add("union_select", severity, why, i, j + 3);
  }

  // --- encodings -------------------------------------------------------------
  const nul = text.indexOf("\0");
  if (nul >= 0) addAt("encoding_trick", 0.9, "NUL character", nul, nul);
  let percentCount = 0;
  for (let i = 0; i < n; i++) {
    const t = sig[i];
    if (t.type === "number" && t.value.startsWith("0x")) {
      const hex = t.value.slice(2).replaceAll("_", "");
      if (hex.length >= 6 && hex.length % 2 === 0 && printableHex(hex)) {
        add("encoding_trick", 0.85, "hex-encoded text", i);
      }
    } else if (t.type === "string") {
      const body = t.value;
      if (t.prefix === "x" && body.length >= 6 && body.length % 2 === 0 && printableHex(body)) {
        add("encoding_trick", 0.8, "hex-encoded text", i);
      } else if (t.prefix === "e" && countMatches(body, E_ESCAPE) >= 3) {
        add("encoding_trick", 0.75, "escape-encoded text", i);
      } else if (t.prefix === "u&" && countMatches(body, U_ESCAPE) >= 3) {
        add("encoding_trick", 0.75, "escape-encoded text", i);
      }
      if (inOps(sig[i + 1], CONCAT_OPS)) {
        const r = sig[i + 2];
        if (r?.type === "string") {
          add("encoding_trick", 0.5, "literal concatenation", i, i + 3);
        } else if (isPunct(r, "(") && isWord(sig[i + 3], "select")) {
          add("encoding_trick", 0.85, "literal concatenated with a subquery", i, i + 4);
        }
      }
    } else if (isPunct(t, ")")) {
      const open = match[i];
      if (
        open >= 0 && isWord(sig[open + 1], "select") && inOps(sig[i + 1], CONCAT_OPS) &&
        sig[i + 2]?.type === "string"
      ) {
        add("encoding_trick", 0.85, "subquery concatenated with a literal", i, i + 3);
      }
    } else if (inWords(t, CHR_FNS) && isPunct(sig[i + 1], "(")) {
      const close = match[i + 1];
      const after = close < 0 ? undefined : sig[close + 1];
      if (
        (inOps(after, CONCAT_OPS) || isPunct(after, ",")) && inWords(sig[close + 2], CHR_FNS) &&
        isPunct(sig[close + 3], "(")
      ) {
        add("encoding_trick", 0.85, "CHR()/CHAR() chain", i, i + 4);
      } else if (
        sig[i + 2]?.type === "number" && isPunct(sig[i + 3], ",") && sig[i + 4]?.type === "number"
      ) {
        add("encoding_trick", 0.85, "CHAR() of character codes", i, i + 5);
      } else add("encoding_trick", 0.4, "character function", i, i + 2);
    } else if (t.type === "op" && t.value.includes("%")) {
      let severe = false;
      for (let k = t.start; k < t.end; k++) {
        if (text.charCodeAt(k) !== 0x25) continue;
        PERCENT_ESCAPE.lastIndex = k;
        const m = PERCENT_ESCAPE.exec(text);
        if (!m) continue;
        if (PERCENT_SEVERE.has(m[1].toLowerCase())) severe = true;
        // `id%20 = 0` is modulo; an escape runs into another escape or a word.
        else if (/^(?:%|[A-Za-z]|$)/.test(text.slice(k + 3, k + 4))) percentCount++;
      }
      if (severe || percentCount >= 2) {
        add("encoding_trick", 0.85, "percent-encoded characters", i, i + 2);
      }
    } else if ((t.type === "word" || t.type === "other") && LOOKALIKE_QUOTES.test(t.value)) {
      add("encoding_trick", 0.8, "look-alike quote character", i);
    }
  }

  return [...best.values()].sort((a, b) => b.severity - a.severity || a.offset - b.offset);
}

function isWord(t: Token | undefined, word?: string): boolean {
  return t?.type === "word" && (word === undefined || t.value === word);
}
function inWords(t: Token | undefined, words: ReadonlySet<string>): boolean {
  return t?.type === "word" && words.has(t.value);
}
function isName(t: Token | undefined): boolean {
  return t?.type === "word" || t?.type === "qident";
}
function isPunct(t: Token | undefined, p: string): boolean {
  return t?.type === "punct" && t.value === p;
}
function isOp(t: Token | undefined, op: string): boolean {
  return t?.type === "op" && t.value === op;
}
function inOps(t: Token | undefined, ops: ReadonlySet<string>): boolean {
  return t?.type === "op" && ops.has(t.value);
}
function isLiteral(t: Token | undefined): boolean {
  return t?.type === "string" || t?.type === "qident";
}
function isOperand(t: Token): boolean {
  return t.type === "word" || t.type === "number" || t.type === "param" || isLiteral(t);
}
function isGlueable(t: Token): boolean {
  return t.type === "word" || t.type === "number" || t.type === "string" || t.type === "qident";
}
function printableHex(hex: string): boolean {
  for (let k = 0; k < hex.length; k += 2) {
    const b = parseInt(hex.slice(k, k + 2), 16);
    if (!(b >= 0x20 && b <= 0x7e) && b !== 0x0a && b !== 0x09) return false;
  }
  return true;
}
function countMatches(s: string, re: RegExp): number {
  let c = 0;
  for (const _ of s.matchAll(re)) c++;
  return c;
}
