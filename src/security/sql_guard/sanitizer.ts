/**
 * The few things that must be spliced into SQL text rather than bound as
 * parameters (identifiers, LIKE patterns), made safe. Everything else is a
 * parameter.
 */

import { OrmError } from "../../errors.ts";

/**
 * PostgreSQL identifiers we accept: ASCII, at most NAMEDATALEN-1 = 63 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IDENTIFIER_PATTERN } from "./mod.ts";
 * assert.ok(IDENTIFIER_PATTERN.test("user_id"));
 * assert.ok(!IDENTIFIER_PATTERN.test("1st"));
 * ```
 */
export const IDENTIFIER_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The clause to write after a pattern made by {@linkcode escapeLikePattern}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LIKE_ESCAPE_CLAUSE } from "./mod.ts";
 * assert.equal(`name LIKE $1 ${LIKE_ESCAPE_CLAUSE}`, "name LIKE $1 ESCAPE '\\'");
 * ```
 */
export const LIKE_ESCAPE_CLAUSE = "ESCAPE '\\'";

/**
 * Double-quote a plain identifier. Only names matching
 * {@linkcode IDENTIFIER_PATTERN} are accepted, so the result never needs
 * escaping and keeps its exact case.
 *
 * @param name a table, column or schema name
 * @returns `"name"`
 * @throws {OrmError} `ORM_INVALID_QUERY` for any other string
 * @throws {TypeError} when `name` is not a string
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteIdentifier } from "./mod.ts";
 * assert.equal(quoteIdentifier("Users"), '"Users"');
 * assert.throws(() => quoteIdentifier('x"; DROP TABLE y; --'), { code: "ORM_INVALID_QUERY" });
 * ```
 */
export function quoteIdentifier(name: string): string {
  if (typeof name !== "string") {
    throw new TypeError(`Cannot quote identifier ${describe(name)}: not a string`);
  }
  if (!IDENTIFIER_PATTERN.test(name)) {
    throw new OrmError(
      "ORM_INVALID_QUERY",
      `Cannot quote identifier ${
        describe(name)
      }: expected 1 to 63 of [A-Za-z0-9_], not starting with a digit`,
    );
  }
  return `"${name}"`;
}

/**
 * Quote a dotted name (`schema.table`, `table.column`,
 * `schema.table.column`), each part with {@linkcode quoteIdentifier}.
 *
 * @param name one to three identifiers joined by "."
 * @returns each part double-quoted, joined by "."
 * @throws {OrmError} `ORM_INVALID_QUERY` when a part is invalid or there are more than 3
 * @throws {TypeError} when `name` is not a string
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteQualifiedIdentifier } from "./mod.ts";
 * assert.equal(quoteQualifiedIdentifier("public.users"), '"public"."users"');
 * ```
 */
export function quoteQualifiedIdentifier(name: string): string {
  if (typeof name !== "string") {
    throw new TypeError(`Cannot quote identifier ${describe(name)}: not a string`);
  }
  const parts = name.split(".");
  if (parts.length > 3) {
    throw new OrmError(
      "ORM_INVALID_QUERY",
      `Cannot quote identifier ${describe(name)}: expected 1 to 3 dot-separated parts`,
    );
  }
  return parts.map(quoteIdentifier).join(".");
}

/**
 * Escape `\`, `%` and `_` so that `s` matches only itself in
 * `LIKE $1 ESCAPE '\'` (or ILIKE). Add your own wildcards around the result,
 * not inside it: `"%" + escapeLikePattern(term) + "%"`.
 *
 * @param s the literal text to match
 * @returns the pattern, to be bound as a parameter
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeLikePattern } from "./mod.ts";
 * assert.equal(escapeLikePattern("100%_off\\"), "100\\%\\_off\\\\");
 * const param = "%" + escapeLikePattern("50%") + "%"; // bind as $1 in: LIKE $1 ESCAPE '\'
 * assert.equal(param, "%50\\%%");
 * ```
 */
export function escapeLikePattern(s: string): string {
  return s.replace(/[\\%_]/g, "\\$&");
}

/**
 * Remove NUL characters, which PostgreSQL text cannot hold (it rejects them
 * with "invalid byte sequence"), and which some layers treat as a string end.
 *
 * @param s any text
 * @returns `s` without U+0000
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stripNul } from "./mod.ts";
 * assert.equal(stripNul("admin\u0000ignored"), "adminignored");
 * ```
 */
export function stripNul(s: string): string {
  return s.includes("\0") ? s.replaceAll("\0", "") : s;
}

function describe(v: unknown): string {
  if (typeof v !== "string") return `of type ${v === null ? "null" : typeof v}`;
  return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
}
