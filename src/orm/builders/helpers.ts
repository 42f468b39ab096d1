/**
 * Stand-alone expression helpers, for places without a typed callback:
 * `ref("col")`, `val(x)`, `excluded("col")` (ON CONFLICT's rejected row).
 *
 * @module
 */

import { type Expression, newExpression, parseRef, valueNode } from "./expression.ts";
import { assertIdentifier } from "../identifier.ts";
import { freeze } from "../nodes/freeze.ts";

/**
 * A column reference, `"col"` or `"alias.col"`, resolved (and checked) when
 * the query compiles. Untyped; inside callbacks prefer `eb.ref`.
 *
 * @param reference the column, optionally qualified
 * @returns the expression
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, ref, table, text } from "../mod.ts";
 * const t = table("t", { k: text().primaryKey(), a: int4(), b: int4() });
 * const q = createQueryBuilder().updateTable(t).set({ a: ref("b") }).where("k", "=", "x").compile();
 * assert.equal(q.sql, 'UPDATE "t" SET "a" = "t"."b" WHERE "t"."k" = $1');
 * ```
 */
export function ref<T = unknown>(reference: string): Expression<T> {
  return newExpression<T>(parseRef(reference));
}

/**
 * A value as an expression, bound as a parameter.
 *
 * @param value any value (`undefined` is refused)
 * @returns the expression
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, table, val } from "../mod.ts";
 * const t = table("t", { a: int4() });
 * const q = createQueryBuilder().selectFrom(t).select(val(1).as("one")).compile();
 * assert.equal(q.sql, 'SELECT $1 AS "one" FROM "t"');
 * ```
 */
export function val<T>(value: T): Expression<T> {
  return newExpression<T>(valueNode(value));
}

/**
 * `excluded.col` inside `onConflict(… doUpdateSet({ col: excluded("col") }))`:
 * the value the failed insert proposed.
 *
 * @param column a column of the insert's table
 * @returns the expression
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, excluded, table, text } from "../mod.ts";
 * const kv = table("kv", { k: text().primaryKey(), v: text() });
 * const q = createQueryBuilder().insertInto(kv).values({ k: "a", v: "1" })
 *   .onConflict((oc) => oc.columns("k").doUpdateSet({ v: excluded("v") })).compile();
 * assert.equal(
 *   q.sql,
 *   'INSERT INTO "kv" ("k", "v") VALUES ($1, $2) ON CONFLICT ("k") DO UPDATE SET "v" = "excluded"."v"',
 * );
 * ```
 */
export function excluded<T = unknown>(column: string): Expression<T> {
  assertIdentifier(column, "column");
  return newExpression<T>(freeze({ kind: "ref", table: "excluded", column }));
}
