/**
 * The `sql` tagged template: the one way to write SQL text yourself. Its
 * string parts are reported in `CompiledQuery.rawText` (the executor screens
 * them for injection); every interpolated value becomes a parameter, except
 * expressions and select builders, which are compiled in place.
 *
 * @module
 */

import { compileNode } from "../compiler.ts";
import { invalidQuery } from "../errors.ts";
import { freeze } from "../nodes/freeze.ts";
import type { RawNode } from "../nodes/mod.ts";
import type { CompiledQuery, QueryExecutor } from "../public_types.ts";
import { Expression, expressionNode, valueNode } from "./expression.ts";
import { runWith } from "./select.ts";

let makeRaw: (node: RawNode, executor: QueryExecutor | undefined) => RawBuilder<unknown>;

/**
 * A raw SQL fragment from the {@linkcode sql} tag: usable as an expression
 * inside builders, or compiled / run as a statement (`operation: "raw"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RawBuilder, sql } from "../mod.ts";
 * const frag = sql<number>`select ${41} + 1`;
 * assert.ok(frag instanceof RawBuilder);
 * assert.deepEqual(frag.compile().params, [41]);
 * ```
 */
export class RawBuilder<T> extends Expression<T> {
  readonly #executor: QueryExecutor | undefined;

  private constructor(node: RawNode, executor: QueryExecutor | undefined) {
    super(node);
    this.#executor = executor;
  }

  static {
    makeRaw = (node, executor) => new RawBuilder(node, executor);
  }

  /** Compile as a statement (`operation: "raw"`). */
  compile(): CompiledQuery {
    return compileNode(expressionNode(this) as RawNode);
  }

  /** Run as a statement; `T` is the row type. */
  async execute(): Promise<T[]> {
    return await runWith<T>(this.#executor, this.compile());
  }
}

/**
 * The type of the `sql` tag (and of `db.sql`): `T` is the fragment's value
 * type, or the row type when it runs as a statement.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, type SqlTag } from "../mod.ts";
 * const tag: SqlTag = createQueryBuilder().sql;
 * assert.equal(tag`select ${1}`.compile().sql, "select $1");
 * ```
 */
export type SqlTag = <T = unknown>(
  strings: TemplateStringsArray,
  ...values: readonly unknown[]
) => RawBuilder<T>;

/** A `sql` tag whose fragments run on `executor`. */
export function createSqlTag(executor: QueryExecutor | undefined): SqlTag {
  return <T>(strings: TemplateStringsArray, ...values: readonly unknown[]): RawBuilder<T> => {
    if (
      !Array.isArray(strings) || strings.length !== values.length + 1 ||
      strings.some((s) => typeof s !== "string")
    ) {
      throw invalidQuery("sql must be used as a tagged template: sql`…`");
    }
    const node: RawNode = freeze({
      kind: "raw",
      strings: Object.freeze([...strings]),
      values: Object.freeze(values.map((v) => valueNode(v, "sql template value"))),
    });
    return makeRaw(node, executor) as RawBuilder<T>;
  };
}

/**
 * The `sql` tagged template, the one way to write SQL text yourself. Its
 * string parts are reported in `CompiledQuery.rawText` (the executor screens
 * them); every interpolated value becomes a `$n` parameter, except
 * expressions and select builders, which compile in place. This instance has
 * no executor (use it inside builders or to compile); `db.sql` is the same
 * tag bound to a query builder's executor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, sql, table, text } from "../mod.ts";
 * const users = table("users", { name: text(), age: int4() });
 * const name = "x' OR 1=1 --";
 * const q = createQueryBuilder().selectFrom(users).select("age")
 *   .where(sql`lower(${sql`name`}) = ${name}`).compile();
 * assert.equal(q.sql, 'SELECT "users"."age" FROM "users" WHERE lower(name) = $1');
 * assert.deepEqual(q.params, [name]);
 * assert.deepEqual(q.rawText, ["lower(", "name", ") = ", ""]);
 * ```
 */
export const sql: SqlTag = createSqlTag(undefined);
