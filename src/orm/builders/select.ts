/**
 * The SELECT builder. Immutable: every method returns a new builder over a
 * new frozen node, so a base query can be extended in several directions.
 *
 * Type parameters: `C` CTEs in reach, `S` the scope (alias → row, including
 * an enclosing query's tables for correlated subqueries), `F` the aliases of
 * this query's own FROM/JOIN sources (what `selectAll()` returns), `O` the
 * output row.
 *
 * @module
 */

import { compileNode } from "../compiler.ts";
import { invalidQuery } from "../errors.ts";
import { assertIdentifier, describe } from "../identifier.ts";
import { freeze } from "../nodes/freeze.ts";
import type {
  ExpressionNode,
  JoinNode,
  JoinType,
  LockNode,
  SelectItemNode,
  SelectNode,
  SourceNode,
  ValueNode,
} from "../nodes/mod.ts";
import type {
  ComparisonOperator,
  CompiledQuery,
  Operator,
  QueryExecutor,
} from "../public_types.ts";
import { AliasedTable, Table, tableSpec } from "../schema.ts";
import {
  AliasedQuery,
  aliasedQueryNode,
  andNode,
  newAliasedQuery,
  operandNode,
  parseSelectItem,
  setSelectNodeReader,
} from "./expression.ts";
import {
  type Condition,
  conditionFromArgs,
  type ExpressionBuilder,
  expressionBuilder,
  refComparisonNode,
} from "./expression_builder.ts";
import type {
  CteMap,
  FullJoined,
  Joined,
  JoinOn,
  LeftJoined,
  Operand,
  OperandType,
  Ref,
  Rhs,
  RightJoined,
  Scope,
  SelectArg,
  Selection,
  Simplify,
  SourceAlias,
  SourceArg,
  UnionToIntersection,
  UsingColumn,
} from "./types.ts";

/** A FROM/JOIN argument → source node (runtime checks). */
export function sourceNode(source: SourceArg<CteMap>): SourceNode {
  if (source instanceof Table) {
    return freeze({ kind: "table", table: tableSpec(source), alias: null });
  }
  if (source instanceof AliasedTable) {
    return freeze({ kind: "table", table: tableSpec(source.table), alias: source.alias });
  }
  if (source instanceof AliasedQuery) {
    return freeze({ kind: "subquery", query: aliasedQueryNode(source), alias: source.alias });
  }
  if (typeof source === "string") {
    const at = source.indexOf(" as ");
    const name = at < 0 ? source : source.slice(0, at);
    const alias = at < 0 ? null : source.slice(at + 4);
    assertIdentifier(name, "CTE");
    if (alias !== null) assertIdentifier(alias, "alias");
    return freeze({ kind: "cte", name, alias });
  }
  throw invalidQuery(
    `invalid source ${
      describe(source)
    } (a declared table, table.as(alias), an aliased subquery or a CTE name)`,
  );
}

/** A non-negative integer for LIMIT/OFFSET, as a parameter node. */
function countNode(n: unknown, what: string): ValueNode {
  const ok = (typeof n === "number" && Number.isSafeInteger(n) && n >= 0) ||
    (typeof n === "bigint" && n >= 0n);
  if (!ok) throw invalidQuery(`${what} must be a non-negative integer, got ${describe(n)}`);
  return freeze({ kind: "value", value: n });
}

/**
 * Options of `forUpdate`, `forNoKeyUpdate`, `forShare`, `forKeyShare`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int8, type LockOptions, table } from "../mod.ts";
 * const jobs = table("jobs", { id: int8() });
 * const options: LockOptions<"jobs"> = { of: ["jobs"], skipLocked: true };
 * const q = createQueryBuilder().selectFrom(jobs).select("id").limit(1).forUpdate(options);
 * assert.equal(
 *   q.compile().sql,
 *   'SELECT "jobs"."id" FROM "jobs" LIMIT $1 FOR UPDATE OF "jobs" SKIP LOCKED',
 * );
 * ```
 */
export interface LockOptions<F extends string = string> {
  /** Lock only these tables' rows (`FOR UPDATE OF …`). */
  readonly of?: readonly F[];
  /** `SKIP LOCKED`. */
  readonly skipLocked?: boolean;
  /** `NOWAIT`. */
  readonly noWait?: boolean;
}

/** A fresh SELECT node reading `source` (with the given CTEs). */
export function emptySelectNode(source: SourceNode, ctes: SelectNode["ctes"] = []): SelectNode {
  return freeze({
    kind: "select",
    ctes,
    distinct: false,
    distinctOn: [],
    selections: [],
    from: Object.freeze([source]),
    joins: [],
    where: null,
    groupBy: [],
    having: null,
    orderBy: [],
    limit: null,
    offset: null,
    lock: null,
  });
}

// deno-lint-ignore no-explicit-any
type AnySelect = SelectQueryBuilder<any, any, any, any>;
let makeSelect: (node: SelectNode, executor: QueryExecutor | undefined) => AnySelect;

/** A select builder over `node` (the builders' constructor, kept off the public API). */
export function newSelectQueryBuilder<C extends CteMap, S extends Scope, F extends string, O>(
  node: SelectNode,
  executor: QueryExecutor | undefined,
): SelectQueryBuilder<C, S, F, O> {
  return makeSelect(node, executor);
}

/**
 * A SELECT query under construction (from `db.selectFrom(…)`). Immutable:
 * every method returns a new builder.
 *
 * Type parameters: `C` CTEs in reach, `S` the scope (alias → row, including
 * an enclosing query's tables in a correlated subquery), `F` the aliases of
 * this query's own FROM/JOIN sources (what `selectAll()` returns), `O` the
 * output row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int8, table, text } from "../mod.ts";
 * const users = table("users", { id: int8().primaryKey(), name: text() });
 * const posts = table("posts", { id: int8().primaryKey(), user_id: int8(), title: text() });
 * const db = createQueryBuilder();
 * const base = db.selectFrom(users.as("u")).leftJoin(posts.as("p"), "p.user_id", "u.id");
 * const q = base.select((eb) => ["u.name", eb.count("p.id").as("posts")])
 *   .groupBy("u.name").having((eb) => eb.cmp(eb.count("p.id"), ">", 1)).compile();
 * assert.equal(
 *   q.sql,
 *   'SELECT "u"."name", count("p"."id") AS "posts" FROM "users" AS "u" LEFT JOIN "posts" AS "p" ' +
 *     'ON "p"."user_id" = "u"."id" GROUP BY "u"."name" HAVING count("p"."id") > $1',
 * );
 * ```
 */
export class SelectQueryBuilder<
  C extends CteMap,
  S extends Scope,
  F extends string,
  O,
> {
  /** Type-level only: the output row. */
  declare readonly $output: O;
  readonly #node: SelectNode;
  readonly #executor: QueryExecutor | undefined;

  private constructor(node: SelectNode, executor: QueryExecutor | undefined) {
    this.#node = node;
    this.#executor = executor;
  }

  static {
    makeSelect = (node, executor) => new SelectQueryBuilder(node, executor);
    setSelectNodeReader((v) => v instanceof SelectQueryBuilder ? v.#node : undefined);
  }

  #with<B>(patch: Partial<SelectNode>): B {
    return new SelectQueryBuilder(freeze({ ...this.#node, ...patch }), this.#executor) as B;
  }

  /** Add columns: `"col"`, `"alias.col"`, `"col as name"`, aliased expressions or subqueries. */
  select<const I extends readonly SelectArg<S>[]>(
    ...items: I
  ): SelectQueryBuilder<C, S, F, O & Selection<S, I[number]>>;
  /** Add the columns a callback returns: `select((eb) => ["id", eb.count().as("n")])`. */
  select<const I extends readonly SelectArg<S>[]>(
    items: (eb: ExpressionBuilder<C, S>) => I,
  ): SelectQueryBuilder<C, S, F, O & Selection<S, I[number]>>;
  /** Implementation of the overloads above. */
  select(...args: unknown[]): unknown {
    const items = args.length === 1 && typeof args[0] === "function"
      ? (args[0] as (eb: unknown) => unknown)(expressionBuilder)
      : args;
    if (!Array.isArray(items)) throw invalidQuery("a select callback must return an array");
    const added: SelectItemNode[] = items.map((i) => parseSelectItem(i));
    return this.#with({ selections: Object.freeze([...this.#node.selections, ...added]) });
  }

  /** `SELECT *`: every column of every table in FROM/JOIN. */
  selectAll(): SelectQueryBuilder<C, S, F, O & UnionToIntersection<S[F]>>;
  /** `SELECT alias.*`: every column of one table. */
  selectAll<A extends F>(table: A): SelectQueryBuilder<C, S, F, O & S[A]>;
  /** Implementation of the overloads above. */
  selectAll(table?: string): unknown {
    if (table !== undefined) assertIdentifier(table, "table");
    const item: SelectItemNode = freeze({ kind: "selectAll", table: table ?? null });
    return this.#with({ selections: Object.freeze([...this.#node.selections, item]) });
  }

  /** `SELECT DISTINCT`. */
  distinct(): SelectQueryBuilder<C, S, F, O> {
    return this.#with({ distinct: true });
  }

  /** `SELECT DISTINCT ON (…)`. */
  distinctOn(...operands: readonly Operand<S>[]): SelectQueryBuilder<C, S, F, O> {
    if (operands.length === 0) throw invalidQuery("distinctOn() needs at least one column");
    return this.#with({ distinctOn: Object.freeze(operands.map((o) => operandNode(o))) });
  }

  /**
   * Add a WHERE condition (ANDed with earlier ones): `where("age", ">", 18)`,
   * `where("email", "is null")`, `where("id", "in", [1, 2])`. The operator
   * must be one of {@linkcode Operator}; values are bound as parameters.
   */
  where<L extends Operand<S>, Op extends Operator>(
    lhs: L,
    op: Op,
    ...rhs: Rhs<Op, OperandType<S, L>>
  ): SelectQueryBuilder<C, S, F, O>;
  /** Add a WHERE condition built by a callback (`(eb) => eb.or([…])`) or given as an expression. */
  where(condition: Condition<C, S>): SelectQueryBuilder<C, S, F, O>;
  /** Implementation of the overloads above. */
  where(...args: unknown[]): unknown {
    return this.#with({ where: andNode(this.#node.where, conditionFromArgs(args)) });
  }

  /** WHERE column op column: `whereRef("p.user_id", "=", "u.id")`. */
  whereRef(lhs: Ref<S>, op: ComparisonOperator, rhs: Ref<S>): SelectQueryBuilder<C, S, F, O> {
    return this.#with({ where: andNode(this.#node.where, refComparisonNode(lhs, op, rhs)) });
  }

  #join(type: JoinType, source: SourceArg<C>, rest: unknown[]): unknown {
    const src = sourceNode(source);
    const [a, b] = rest;
    let on: ExpressionNode | null = null;
    let using: readonly string[] | null = null;
    if (rest.length === 2) {
      on = refComparisonNode(a, "=", b);
    } else if (rest.length === 1 && typeof a === "function") {
      on = conditionFromArgs([a]);
    } else if (rest.length === 1 && typeof a === "object" && a !== null && "using" in a) {
      const cols = (a as { using: unknown }).using;
      if (!Array.isArray(cols) || cols.length === 0) {
        throw invalidQuery("USING needs a non-empty array of columns");
      }
      for (const c of cols) assertIdentifier(c, "column");
      using = Object.freeze([...cols]);
    } else {
      throw invalidQuery("a join needs (lhs, rhs) columns, an ON callback, or { using: [...] }");
    }
    const join: JoinNode = freeze({
      kind: "join",
      joinType: type,
      natural: false,
      source: src,
      on,
      using,
    });
    return this.#with({ joins: Object.freeze([...this.#node.joins, join]) });
  }

  /** `INNER JOIN source` ON lhs = rhs (two column references). */
  innerJoin<X extends SourceArg<C>>(
    source: X,
    lhs: Ref<Joined<C, S, X>>,
    rhs: Ref<Joined<C, S, X>>,
  ): SelectQueryBuilder<C, Joined<C, S, X>, F | SourceAlias<X>, O>;
  /** `INNER JOIN source` ON the condition the callback builds (it sees the joined table). */
  innerJoin<X extends SourceArg<C>>(
    source: X,
    on: JoinOn<C, Joined<C, S, X>>,
  ): SelectQueryBuilder<C, Joined<C, S, X>, F | SourceAlias<X>, O>;
  /** `INNER JOIN source` USING (columns present in both sides). */
  innerJoin<X extends SourceArg<C>>(
    source: X,
    using: { readonly using: readonly UsingColumn<C, S, X>[] },
  ): SelectQueryBuilder<C, Joined<C, S, X>, F | SourceAlias<X>, O>;
  /** Implementation of the overloads above. */
  innerJoin(source: SourceArg<C>, ...rest: unknown[]): unknown {
    return this.#join("inner", source, rest);
  }

  /** `LEFT JOIN source` (the joined columns become nullable) ON lhs = rhs (two column references). */
  leftJoin<X extends SourceArg<C>>(
    source: X,
    lhs: Ref<Joined<C, S, X>>,
    rhs: Ref<Joined<C, S, X>>,
  ): SelectQueryBuilder<C, LeftJoined<C, S, X>, F | SourceAlias<X>, O>;
  /** `LEFT JOIN source` (the joined columns become nullable) ON the condition the callback builds (it sees the joined table). */
  leftJoin<X extends SourceArg<C>>(
    source: X,
    on: JoinOn<C, Joined<C, S, X>>,
  ): SelectQueryBuilder<C, LeftJoined<C, S, X>, F | SourceAlias<X>, O>;
  /** `LEFT JOIN source` (the joined columns become nullable) USING (columns present in both sides). */
  leftJoin<X extends SourceArg<C>>(
    source: X,
    using: { readonly using: readonly UsingColumn<C, S, X>[] },
  ): SelectQueryBuilder<C, LeftJoined<C, S, X>, F | SourceAlias<X>, O>;
  /** Implementation of the overloads above. */
  leftJoin(source: SourceArg<C>, ...rest: unknown[]): unknown {
    return this.#join("left", source, rest);
  }

  /** `RIGHT JOIN source` (the earlier tables' columns become nullable) ON lhs = rhs (two column references). */
  rightJoin<X extends SourceArg<C>>(
    source: X,
    lhs: Ref<Joined<C, S, X>>,
    rhs: Ref<Joined<C, S, X>>,
  ): SelectQueryBuilder<C, RightJoined<C, S, F, X>, F | SourceAlias<X>, O>;
  /** `RIGHT JOIN source` (the earlier tables' columns become nullable) ON the condition the callback builds (it sees the joined table). */
  rightJoin<X extends SourceArg<C>>(
    source: X,
    on: JoinOn<C, Joined<C, S, X>>,
  ): SelectQueryBuilder<C, RightJoined<C, S, F, X>, F | SourceAlias<X>, O>;
  /** `RIGHT JOIN source` (the earlier tables' columns become nullable) USING (columns present in both sides). */
  rightJoin<X extends SourceArg<C>>(
    source: X,
    using: { readonly using: readonly UsingColumn<C, S, X>[] },
  ): SelectQueryBuilder<C, RightJoined<C, S, F, X>, F | SourceAlias<X>, O>;
  /** Implementation of the overloads above. */
  rightJoin(source: SourceArg<C>, ...rest: unknown[]): unknown {
    return this.#join("right", source, rest);
  }

  /** `FULL JOIN source` (both sides become nullable) ON lhs = rhs (two column references). */
  fullJoin<X extends SourceArg<C>>(
    source: X,
    lhs: Ref<Joined<C, S, X>>,
    rhs: Ref<Joined<C, S, X>>,
  ): SelectQueryBuilder<C, FullJoined<C, S, F, X>, F | SourceAlias<X>, O>;
  /** `FULL JOIN source` (both sides become nullable) ON the condition the callback builds (it sees the joined table). */
  fullJoin<X extends SourceArg<C>>(
    source: X,
    on: JoinOn<C, Joined<C, S, X>>,
  ): SelectQueryBuilder<C, FullJoined<C, S, F, X>, F | SourceAlias<X>, O>;
  /** `FULL JOIN source` (both sides become nullable) USING (columns present in both sides). */
  fullJoin<X extends SourceArg<C>>(
    source: X,
    using: { readonly using: readonly UsingColumn<C, S, X>[] },
  ): SelectQueryBuilder<C, FullJoined<C, S, F, X>, F | SourceAlias<X>, O>;
  /** Implementation of the overloads above. */
  fullJoin(source: SourceArg<C>, ...rest: unknown[]): unknown {
    return this.#join("full", source, rest);
  }

  /** `CROSS JOIN source`. */
  crossJoin<X extends SourceArg<C>>(
    source: X,
  ): SelectQueryBuilder<C, Joined<C, S, X>, F | SourceAlias<X>, O> {
    const join: JoinNode = freeze({
      kind: "join",
      joinType: "cross",
      natural: false,
      source: sourceNode(source),
      on: null,
      using: null,
    });
    return this.#with({ joins: Object.freeze([...this.#node.joins, join]) });
  }

  /** `NATURAL [LEFT|RIGHT|FULL] JOIN source` (joins on every same-named column). */
  naturalJoin<X extends SourceArg<C>>(
    source: X,
    type: "inner" | "left" | "right" | "full" = "inner",
  ): SelectQueryBuilder<C, Joined<C, S, X>, F | SourceAlias<X>, O> {
    if (type !== "inner" && type !== "left" && type !== "right" && type !== "full") {
      throw invalidQuery(`unknown natural join type ${describe(type)}`);
    }
    const join: JoinNode = freeze({
      kind: "join",
      joinType: type,
      natural: true,
      source: sourceNode(source),
      on: null,
      using: null,
    });
    return this.#with({ joins: Object.freeze([...this.#node.joins, join]) });
  }

  /** `GROUP BY …` (columns, output names or expressions). */
  groupBy(
    ...operands: readonly (Operand<S> | (keyof O & string))[]
  ): SelectQueryBuilder<C, S, F, O> {
    if (operands.length === 0) throw invalidQuery("groupBy() needs at least one column");
    return this.#with({
      groupBy: Object.freeze([...this.#node.groupBy, ...operands.map((o) => operandNode(o))]),
    });
  }

  /** Add a HAVING condition (ANDed), same forms as `where`. */
  having<L extends Operand<S>, Op extends Operator>(
    lhs: L,
    op: Op,
    ...rhs: Rhs<Op, OperandType<S, L>>
  ): SelectQueryBuilder<C, S, F, O>;
  /** Add a HAVING condition built by a callback or given as an expression. */
  having(condition: Condition<C, S>): SelectQueryBuilder<C, S, F, O>;
  /** Implementation of the overloads above. */
  having(...args: unknown[]): unknown {
    return this.#with({ having: andNode(this.#node.having, conditionFromArgs(args)) });
  }

  /** `ORDER BY operand ASC|DESC [NULLS FIRST|LAST]`; output names (aliases) are allowed. */
  orderBy(
    operand: Operand<S> | (keyof O & string),
    direction: "asc" | "desc" = "asc",
    nulls?: "first" | "last",
  ): SelectQueryBuilder<C, S, F, O> {
    if (direction !== "asc" && direction !== "desc") {
      throw invalidQuery(`unknown sort direction ${describe(direction)}`);
    }
    if (nulls !== undefined && nulls !== "first" && nulls !== "last") {
      throw invalidQuery(`unknown nulls ordering ${describe(nulls)}`);
    }
    const item = freeze({
      kind: "orderBy" as const,
      expr: operandNode(operand),
      direction,
      nulls: nulls ?? null,
    });
    return this.#with({ orderBy: Object.freeze([...this.#node.orderBy, item]) });
  }

  /** `LIMIT $n`. */
  limit(count: number | bigint): SelectQueryBuilder<C, S, F, O> {
    return this.#with({ limit: countNode(count, "limit") });
  }

  /** `OFFSET $n`. */
  offset(count: number | bigint): SelectQueryBuilder<C, S, F, O> {
    return this.#with({ offset: countNode(count, "offset") });
  }

  #lock(strength: LockNode["strength"], options: LockOptions): unknown {
    if (options.skipLocked && options.noWait) {
      throw invalidQuery("choose one of skipLocked and noWait");
    }
    const of = Object.freeze([...(options.of ?? [])]);
    for (const t of of) assertIdentifier(t, "table");
    const lock: LockNode = freeze({
      strength,
      of,
      wait: options.skipLocked ? "skip locked" : options.noWait ? "nowait" : null,
    });
    return this.#with({ lock });
  }

  /** `FOR UPDATE [OF …] [SKIP LOCKED | NOWAIT]`. */
  forUpdate(options: LockOptions<F> = {}): SelectQueryBuilder<C, S, F, O> {
    return this.#lock("update", options) as SelectQueryBuilder<C, S, F, O>;
  }

  /** `FOR NO KEY UPDATE …`. */
  forNoKeyUpdate(options: LockOptions<F> = {}): SelectQueryBuilder<C, S, F, O> {
    return this.#lock("no key update", options) as SelectQueryBuilder<C, S, F, O>;
  }

  /** `FOR SHARE …`. */
  forShare(options: LockOptions<F> = {}): SelectQueryBuilder<C, S, F, O> {
    return this.#lock("share", options) as SelectQueryBuilder<C, S, F, O>;
  }

  /** `FOR KEY SHARE …`. */
  forKeyShare(options: LockOptions<F> = {}): SelectQueryBuilder<C, S, F, O> {
    return this.#lock("key share", options) as SelectQueryBuilder<C, S, F, O>;
  }

  /** This query under an alias: a derived table (`selectFrom(q.as("x"))`) or a scalar subquery in a select list. */
  as<A extends string>(alias: A): AliasedQuery<O, A> {
    return newAliasedQuery(this.#node, alias);
  }

  /** Compile to SQL and parameters. */
  compile(): CompiledQuery {
    return compileNode(this.#node);
  }

  /** Run with the query builder's executor. */
  async execute(): Promise<Simplify<O>[]> {
    return await runWith<Simplify<O>>(this.#executor, this.compile());
  }

  /** The first row, or `undefined`. */
  async executeTakeFirst(): Promise<Simplify<O> | undefined> {
    const rows = await this.execute();
    return rows[0];
  }
}

/** Run `query` on `executor`, or throw when the builder has none. */
export function runWith<R>(
  executor: QueryExecutor | undefined,
  query: CompiledQuery,
): Promise<R[]> {
  if (!executor) {
    return Promise.reject(
      invalidQuery("this query builder has no executor (pass one to createQueryBuilder)"),
    );
  }
  return executor.execute<R>(query);
}
