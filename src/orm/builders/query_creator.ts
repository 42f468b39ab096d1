/**
 * The query builder's entry points (`selectFrom`, `insertInto`,
 * `updateTable`, `deleteFrom`, `with`, `sql`), carrying the executor and the
 * CTEs defined so far.
 *
 * @module
 */

import { invalidQuery } from "../errors.ts";
import { assertIdentifier } from "../identifier.ts";
import { freeze } from "../nodes/freeze.ts";
import type { CteNode, StatementNode } from "../nodes/mod.ts";
import type { QueryExecutor } from "../public_types.ts";
import {
  deleteNode,
  deleteNodeOf,
  type DeleteQueryBuilder,
  newDeleteQueryBuilder,
} from "./delete.ts";
import { selectNodeOf } from "./expression.ts";
import {
  insertNode,
  insertNodeOf,
  type InsertQueryBuilder,
  newInsertQueryBuilder,
} from "./insert.ts";
import { targetNode } from "./mutation.ts";
import { createSqlTag, type SqlTag } from "./raw.ts";
import {
  emptySelectNode,
  newSelectQueryBuilder,
  type SelectQueryBuilder,
  sourceNode,
} from "./select.ts";
import type {
  CteMap,
  CteRow,
  EmptyRow,
  SourceAlias,
  SourceArg,
  SourceScope,
  TargetAlias,
  TargetArg,
  TargetScope,
  TargetTable,
} from "./types.ts";
import {
  newUpdateQueryBuilder,
  updateNode,
  updateNodeOf,
  type UpdateQueryBuilder,
} from "./update.ts";

/**
 * A statement builder usable as a CTE body: a select, or an insert, update or
 * delete (read through its RETURNING). `O` is its output row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, type CteBody, int8, table } from "../mod.ts";
 * const t = table("t", { id: int8() });
 * const db = createQueryBuilder();
 * const body: CteBody<{ id: bigint }> = db.deleteFrom(t).where("id", "<", 10).returning("id");
 * const q = db.with("gone", body).selectFrom("gone").select("id").compile();
 * assert.equal(
 *   q.sql,
 *   'WITH "gone" AS (DELETE FROM "t" WHERE "t"."id" < $1 RETURNING "t"."id") ' +
 *     'SELECT "gone"."id" FROM "gone"',
 * );
 * ```
 */
export interface CteBody<O> {
  /** Type-level only: the body's output row. */
  readonly $output: O;
}

/** The statement node of a select/insert/update/delete builder, or `undefined`. */
function statementNodeOf(value: unknown): StatementNode | undefined {
  return selectNodeOf(value) ?? insertNodeOf(value) ?? updateNodeOf(value) ??
    deleteNodeOf(value);
}

let makeCreator: (executor: QueryExecutor | undefined) => QueryCreator<EmptyRow>;

/**
 * The query builder's entry points (from {@linkcode createQueryBuilder}):
 * `selectFrom`, `insertInto`, `updateTable`, `deleteFrom`, `with`, `sql`.
 * `C` holds the CTEs defined with `with`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, QueryCreator, table, text } from "../mod.ts";
 * const users = table("users", { name: text(), age: int4() });
 * const db = createQueryBuilder();
 * assert.ok(db instanceof QueryCreator);
 * const q = db.with("adults", (qb) => qb.selectFrom(users).select("name").where("age", ">=", 18))
 *   .selectFrom("adults").selectAll().compile();
 * assert.equal(
 *   q.sql,
 *   'WITH "adults" AS (SELECT "users"."name" FROM "users" WHERE "users"."age" >= $1) ' +
 *     'SELECT * FROM "adults"',
 * );
 * ```
 */
export class QueryCreator<C extends CteMap> {
  readonly #executor: QueryExecutor | undefined;
  readonly #ctes: readonly CteNode[];
  /** The `sql` tag, bound to this builder's executor. */
  readonly sql: SqlTag;

  private constructor(
    executor: QueryExecutor | undefined,
    ctes: readonly CteNode[],
    sql: SqlTag,
  ) {
    this.#executor = executor;
    this.#ctes = ctes;
    this.sql = sql;
  }

  static {
    makeCreator = (executor) => new QueryCreator(executor, [], createSqlTag(executor));
  }

  /** `SELECT … FROM source`: a table, `table.as(alias)`, `query.as(alias)` or a CTE name. */
  selectFrom<X extends SourceArg<C>>(
    source: X,
  ): SelectQueryBuilder<C, SourceScope<C, X>, SourceAlias<X>, EmptyRow> {
    return newSelectQueryBuilder(emptySelectNode(sourceNode(source), this.#ctes), this.#executor);
  }

  /** `INSERT INTO table`. */
  insertInto<X extends TargetArg>(
    target: X,
  ): InsertQueryBuilder<C, TargetTable<X>, TargetAlias<X>, EmptyRow> {
    return newInsertQueryBuilder(insertNode(targetNode(target), this.#ctes), this.#executor);
  }

  /** `UPDATE table` (then `set`, `where`). */
  updateTable<X extends TargetArg>(
    target: X,
  ): UpdateQueryBuilder<
    C,
    TargetScope<TargetTable<X>, TargetAlias<X>>,
    TargetTable<X>,
    EmptyRow
  > {
    return newUpdateQueryBuilder(updateNode(targetNode(target), this.#ctes), this.#executor);
  }

  /** `DELETE FROM table` (then `where`). */
  deleteFrom<X extends TargetArg>(
    target: X,
  ): DeleteQueryBuilder<
    C,
    TargetScope<TargetTable<X>, TargetAlias<X>>,
    TargetTable<X>,
    EmptyRow
  > {
    return newDeleteQueryBuilder(deleteNode(targetNode(target), this.#ctes), this.#executor);
  }

  /**
   * `WITH name AS (query)`: the query may be a select, or an insert/update/
   * delete (data-modifying CTE, read through its RETURNING). Later queries
   * can `selectFrom(name)`.
   */
  with<N extends string, O>(
    name: N,
    query: CteBody<O> | ((qb: QueryCreator<C>) => CteBody<O>),
  ): QueryCreator<C & { [K in N]: CteRow<O> }> {
    assertIdentifier(name, "CTE");
    if (this.#ctes.some((c) => c.name === name)) {
      throw invalidQuery(`CTE name ${JSON.stringify(name)} is used more than once`);
    }
    const body = typeof query === "function"
      ? query(new QueryCreator<C>(undefined, [], this.sql))
      : query;
    const statement = statementNodeOf(body);
    if (!statement) throw invalidQuery("with() needs a query builder or a callback returning one");
    const node: CteNode = freeze({ kind: "cteDef", name, query: statement });
    return new QueryCreator(this.#executor, Object.freeze([...this.#ctes, node]), this.sql);
  }
}

/**
 * Create the query builder. With an `executor`, builders can `execute()`;
 * without one they only `compile()`.
 *
 * @param executor runs compiled queries (the database layer, a transaction)
 * @returns the entry points
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int8, type QueryExecutor, table, text } from "../mod.ts";
 * const users = table("users", { id: int8().primaryKey(), name: text() });
 * const executor: QueryExecutor = {
 *   execute: <R>() => Promise.resolve([{ id: 1n, name: "ann" }] as R[]),
 * };
 * const db = createQueryBuilder(executor);
 * const row = await db.selectFrom(users).selectAll().where("id", "=", 1).executeTakeFirst();
 * assert.equal(row?.name, "ann");
 * ```
 */
export function createQueryBuilder(executor?: QueryExecutor): QueryCreator<EmptyRow> {
  return makeCreator(executor);
}
