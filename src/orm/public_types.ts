/**
 * The contract types of `query.ts` and the operator vocabularies, re-declared
 * here with examples for the public face (`query.ts` itself is the fixed
 * contract shared with the database layer).
 *
 * @module
 */

import type * as contract from "./query.ts";
import type * as n from "./nodes/mod.ts";

/**
 * A statement ready to run: SQL text with `$n` placeholders, its parameters,
 * its kind, the tables it reads and writes, and any raw text written by the
 * caller through the `sql` tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CompiledQuery, createQueryBuilder, int8, table, text } from "./mod.ts";
 * const users = table("users", { id: int8().primaryKey(), name: text() });
 * const q: CompiledQuery = createQueryBuilder().deleteFrom(users).where("id", "=", 1n).compile();
 * assert.equal(q.sql, 'DELETE FROM "users" WHERE "users"."id" = $1');
 * assert.deepEqual([q.operation, q.writes, q.rawText], ["delete", ["users"], []]);
 * ```
 */
export type CompiledQuery = contract.CompiledQuery;

/**
 * Runs compiled statements (implemented by the database layer and by
 * transactions). Builders call it from `execute()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int8, type QueryExecutor, table } from "./mod.ts";
 * const seen: string[] = [];
 * const executor: QueryExecutor = {
 *   execute<R>(q: { sql: string }): Promise<R[]> {
 *     seen.push(q.sql);
 *     return Promise.resolve([]);
 *   },
 * };
 * const t = table("t", { id: int8() });
 * await createQueryBuilder(executor).selectFrom(t).select("id").execute();
 * assert.deepEqual(seen, ['SELECT "t"."id" FROM "t"']);
 * ```
 */
export type QueryExecutor = contract.QueryExecutor;

/**
 * The kind of a compiled statement: `select`, `insert`, `update`, `delete`,
 * or `raw` (the `sql` tag and DDL).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type QueryOperation, sql } from "./mod.ts";
 * const op: QueryOperation = sql`select 1`.compile().operation;
 * assert.equal(op, "raw");
 * ```
 */
export type QueryOperation = contract.QueryOperation;

/**
 * Operators of `where(lhs, op, rhs)` (a closed set; anything else is
 * `ORM_INVALID_QUERY`): comparisons, `like`/`ilike` (and `not`), `in`/`not in`
 * (an array or a subquery; an empty array is FALSE/TRUE), `between`/`not
 * between` (a pair), `is`/`is not` (null, true or false), `is null`/`is not
 * null` (no value), `is [not] distinct from`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, type Operator, table } from "./mod.ts";
 * const t = table("t", { n: int4() });
 * const op: Operator = "between";
 * const q = createQueryBuilder().selectFrom(t).select("n").where("n", op, [1, 9]).compile();
 * assert.equal(q.sql, 'SELECT "t"."n" FROM "t" WHERE "t"."n" BETWEEN $1 AND $2');
 * ```
 */
export type Operator = n.Operator;

/**
 * Operators comparing two operands (`=`, `!=`/`<>`, `<`, `<=`, `>`, `>=`,
 * `like`, `ilike` and their `not` forms, `is [not] distinct from`), as taken
 * by `whereRef` and `eb.cmpRef`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ComparisonOperator, createQueryBuilder, int4, table } from "./mod.ts";
 * const t = table("t", { a: int4(), b: int4() });
 * const op: ComparisonOperator = "<=";
 * const q = createQueryBuilder().selectFrom(t).select("a").whereRef("a", op, "b").compile();
 * assert.equal(q.sql, 'SELECT "t"."a" FROM "t" WHERE "t"."a" <= "t"."b"');
 * ```
 */
export type ComparisonOperator = n.ComparisonOperator;

/**
 * Arithmetic and concatenation operators of `eb.op(lhs, op, rhs)`:
 * `+ - * / % ||`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ArithmeticOperator, createQueryBuilder, int4, table, text } from "./mod.ts";
 * const t = table("t", { k: text().primaryKey(), n: int4() });
 * const op: ArithmeticOperator = "+";
 * const q = createQueryBuilder().updateTable(t).set({ n: (eb) => eb.op("n", op, 1) })
 *   .where("k", "=", "a").compile();
 * assert.equal(q.sql, 'UPDATE "t" SET "n" = "t"."n" + $1 WHERE "t"."k" = $2');
 * ```
 */
export type ArithmeticOperator = n.ArithmeticOperator;

/**
 * What a foreign key does when the referenced row is deleted or updated:
 * `cascade`, `restrict`, `set null`, `set default`, `no action`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTableSql, int8, type ReferentialAction, table } from "./mod.ts";
 * const onDelete: ReferentialAction = "cascade";
 * const posts = table("posts", { user_id: int8().references("users", "id", { onDelete }) });
 * assert.match(createTableSql(posts).sql, /REFERENCES "users" \("id"\) ON DELETE CASCADE/);
 * ```
 */
export type ReferentialAction = n.ReferentialAction;
