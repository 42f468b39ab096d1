/**
 * The database safety layer: an SQL-injection detector and guard, identifier
 * and LIKE-pattern sanitizers, and a per-caller database rate limiter. Pure:
 * no I/O, time comes from an injected `Clock`, reports go to an event sink.
 *
 * The executor calls, before each query,
 * `limiter.acquire(caller)` then `detector.check(compiled, caller)`.
 *
 * **What is screened.** Only caller-written raw SQL (`rawText`) can be
 * rejected; builder output and bound parameters never are, because
 * parameters never become SQL. Parameter values that look like payloads are
 * reported (`SQLInjectionAttempt`, `rejected: false`) for the reputation layer.
 *
 * **How.** The raw fragments are joined with a `$0` placeholder and tokenized
 * as PostgreSQL reads them ('…' with '' escapes, E'…' with backslash escapes,
 * $tag$…$tag$, "identifiers", nested comments), so text inside literals and
 * identifiers is never mistaken for SQL. Rules then score stacked statements,
 * truncating or obfuscating comments, tautologies, blind boolean probes,
 * UNION SELECT, time delays, dangerous functions, catalog probes, encoding
 * tricks and broken quoting ({@linkcode FindingKind}). A finding with severity
 * ≥ `rejectThreshold` (0.7) rejects the query.
 *
 * **Allowed in raw SQL** (no finding, or one below the threshold): literals
 * containing `;`, `--`, `/*`, `'or'`; dollar-quoted bodies; a trailing `;`;
 * prose line and block comments (`-- fetch by id`) anywhere; `WHERE 1=1 AND …`;
 * `x = $1 OR $1 IS NULL`; UNION of two queries whose values are parameters;
 * reads of `information_schema`; `version()`.
 *
 * **Rejected although sometimes legitimate** (write it differently):
 * several statements in one query (`a; b`); a comment that is empty, or
 * starts or ends with a quote (`--`, `-- 'x'`); a comment glued to a literal
 * (`'a'--`); an empty block comment, or one between two words
 * (`UN/∗x∗/ION`); `UNION SELECT` of constants only, or after a comparison
 * with an inline literal (`WHERE k = 'a' UNION SELECT …`: bind `'a'` as a
 * parameter); constant comparisons after AND/OR/HAVING/WHEN (`AND 1=1`); a
 * literal glued to a word (`'a'AS x`, but `DATE'…'` is fine);
 * `CHR(…)||CHR(…)`; hex literals of printable text (`0x61646d696e`);
 * `COPY … TO/FROM 'file'`; `EXECUTE(…)`; a function such as `length()` over
 * a subquery compared with a constant.
 *
 * **Not detected** (false negatives): injected predicates that are not
 * constant (`' OR name LIKE '%adm%`, `AND (SELECT count(*) FROM t) > 0`),
 * payloads built from identifiers and parameters only, constants nested
 * deeper than 32 parentheses, MySQL-only syntax that PostgreSQL lexes
 * differently (backslash escapes in '…', `#` comments mid-line), and
 * anything that stays inside a correctly terminated literal.
 *
 * @example Guard a query, rate-limit its caller, and report suspicious values
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type DbSecurityEvent,
 *   escapeLikePattern,
 *   QueryRateLimiter,
 *   quoteIdentifier,
 *   SqlInjectionDetector,
 * } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const events: DbSecurityEvent[] = [];
 * const clock = new ManualClock();
 * const detector = new SqlInjectionDetector({ clock, onEvent: (e) => events.push(e) });
 * const limiter = new QueryRateLimiter({ maxRequestsPerMinute: 6000, clock });
 *
 * limiter.acquire("198.51.100.7");
 * detector.check({
 *   sql: `SELECT * FROM ${quoteIdentifier("users")} WHERE name LIKE $1`,
 *   params: ["%" + escapeLikePattern("' OR '1'='1") + "%"],
 *   rawText: [],
 * }, "198.51.100.7");
 * assert.equal(events[0].kind, "SQLInjectionAttempt"); // reported, not rejected
 *
 * const raw = "SELECT * FROM users WHERE name = '' OR '1'='1'";
 * assert.throws(
 *   () => detector.check({ sql: raw, params: [], rawText: [raw] }, "198.51.100.7"),
 *   { code: "SQL_INJECTION_DETECTED" },
 * );
 * ```
 *
 * @module
 */

export type { Finding, FindingKind } from "./finding.ts";
export type { DbSecurityEvent, DbSecurityEventKind, DbSecurityEventSink } from "./events.ts";
export {
  type GuardedQuery,
  SqlInjectionDetector,
  type SqlInjectionDetectorOptions,
  SqlInjectionError,
} from "./injection_detector.ts";
export {
  escapeLikePattern,
  IDENTIFIER_PATTERN,
  LIKE_ESCAPE_CLAUSE,
  quoteIdentifier,
  quoteQualifiedIdentifier,
  stripNul,
} from "./sanitizer.ts";
export {
  DbRateLimitedError,
  QueryRateLimiter,
  type QueryRateLimiterOptions,
} from "./query_rate_limiter.ts";
