/**
 * The expression builder handed to callbacks (`where((eb) => …)`,
 * `select((eb) => […])`, join conditions, `set` values): references,
 * values, comparisons, AND/OR/NOT, EXISTS, aggregates, arithmetic, a few
 * scalar functions, and correlated subqueries. Typed by the calling
 * builder's scope; one shared runtime object.
 *
 * @module
 */

import { invalidQuery } from "../errors.ts";
import { freeze } from "../nodes/freeze.ts";
import type { AggregateFunction, ExpressionNode, ScalarFunction } from "../nodes/mod.ts";
import type { ArithmeticOperator, ComparisonOperator, Operator } from "../public_types.ts";
import {
  arithmeticNode,
  comparisonNode,
  conditionResult,
  Expression,
  expressionNode,
  isComparisonOperator,
  newExpression,
  operandNode,
  parseRef,
  selectNodeOf,
  valueNode,
} from "./expression.ts";
import {
  emptySelectNode,
  newSelectQueryBuilder,
  type SelectQueryBuilder,
  sourceNode,
} from "./select.ts";
import type {
  CteMap,
  EmptyRow,
  Operand,
  OperandType,
  Ref,
  RefType,
  Rhs,
  Scope,
  SourceAlias,
  SourceArg,
  SourceScope,
  SubqueryLike,
} from "./types.ts";

/**
 * A condition for `where`, `having` and joins: an expression, or a callback
 * building one from the expression builder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Condition, createQueryBuilder, int4, table } from "../mod.ts";
 * const t = table("t", { a: int4() });
 * const small: Condition<Record<never, never>, { t: { a: number } }> = (eb) => eb.cmp("a", "<", 3);
 * const q = createQueryBuilder().selectFrom(t).select("a").where(small).compile();
 * assert.equal(q.sql, 'SELECT "t"."a" FROM "t" WHERE "t"."a" < $1');
 * ```
 */
export type Condition<C extends CteMap, S extends Scope> =
  | Expression<unknown>
  | ((eb: ExpressionBuilder<C, S>) => Expression<unknown>);

/**
 * The expression builder handed to callbacks (`where((eb) => …)`,
 * `select((eb) => […])`, join conditions, `set` values): column references,
 * values, comparisons, AND/OR/NOT, EXISTS, aggregates, arithmetic, a few
 * scalar functions, and correlated subqueries. Typed by the scope `S`
 * (alias → row) and the CTEs `C`. Strings are column references; values go
 * through `val()` or the comparison's right-hand side and become parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, int8, table, text } from "../mod.ts";
 * const users = table("users", { id: int8(), name: text(), age: int4().nullable() });
 * const posts = table("posts", { id: int8(), user_id: int8() });
 * const q = createQueryBuilder().selectFrom(users).select("name").where(({ or, and, cmp, exists, selectFrom }) =>
 *   or([
 *     and([cmp("age", ">=", 18), cmp("name", "ilike", "a%")]),
 *     exists(selectFrom(posts).select("id").whereRef("posts.user_id", "=", "users.id")),
 *   ])
 * ).compile();
 * assert.equal(
 *   q.sql,
 *   'SELECT "users"."name" FROM "users" WHERE ("users"."age" >= $1 AND "users"."name" ILIKE $2) ' +
 *     'OR EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."user_id" = "users"."id")',
 * );
 * ```
 */
export interface ExpressionBuilder<C extends CteMap, S extends Scope> {
  /** A column reference: `ref("age")`, `ref("u.age")`, `ref("excluded.count")`. */
  ref<R extends Ref<S>>(reference: R): Expression<RefType<S, R>>;
  /** A value, bound as a parameter. */
  val<T>(value: T): Expression<T>;
  /** A comparison, with the same operators and operands as `where(lhs, op, rhs)`. */
  cmp<L extends Operand<S>, Op extends Operator>(
    lhs: L,
    op: Op,
    ...rhs: Rhs<Op, OperandType<S, L>>
  ): Expression<boolean>;
  /** Column compared with column: `cmpRef("p.user_id", "=", "u.id")`. */
  cmpRef(lhs: Ref<S>, op: ComparisonOperator, rhs: Ref<S>): Expression<boolean>;
  /** All of `conditions` (TRUE when empty). */
  and(conditions: readonly Expression<unknown>[]): Expression<boolean>;
  /** Any of `conditions` (FALSE when empty). */
  or(conditions: readonly Expression<unknown>[]): Expression<boolean>;
  /** `NOT (condition)`. */
  not(condition: Expression<unknown>): Expression<boolean>;
  /** `EXISTS (subquery)`. */
  exists(query: SubqueryLike): Expression<boolean>;
  /** `NOT EXISTS (subquery)`. */
  notExists(query: SubqueryLike): Expression<boolean>;
  /** `count(*)`, or `count(operand)`. PostgreSQL returns int8. */
  count(operand?: Operand<S>): Expression<bigint>;
  /** `count(DISTINCT operand)`. */
  countDistinct(operand: Operand<S>): Expression<bigint>;
  /** `sum(operand)`: int8 for int2/int4, numeric (string) for int8/numeric, float8 for floats. */
  sum<T = string | number | bigint>(operand: Operand<S>): Expression<T | null>;
  /** `avg(operand)`: numeric (string) for integers/numeric, float8 for floats. */
  avg<T = string | number>(operand: Operand<S>): Expression<T | null>;
  /** `min(operand)`. */
  min<L extends Operand<S>>(operand: L): Expression<OperandType<S, L> | null>;
  /** `max(operand)`. */
  max<L extends Operand<S>>(operand: L): Expression<OperandType<S, L> | null>;
  /** `lhs op rhs` for `+ - * / % ||`; `lhs` is a column or expression, `rhs` a value or expression. */
  op<L extends Operand<S>>(
    lhs: L,
    op: ArithmeticOperator,
    rhs: unknown,
  ): Expression<OperandType<S, L>>;
  /** `coalesce(…)`: strings are column references, use `val()` for values. */
  coalesce<L extends readonly (Operand<S>)[]>(
    ...operands: L
  ): Expression<OperandType<S, L[number]>>;
  /** `lower(operand)`. */
  lower(operand: Operand<S>): Expression<string>;
  /** `upper(operand)`. */
  upper(operand: Operand<S>): Expression<string>;
  /** `length(operand)`. */
  length(operand: Operand<S>): Expression<number>;
  /** `abs(operand)`. */
  abs<L extends Operand<S>>(operand: L): Expression<OperandType<S, L>>;
  /** `now()`. */
  now(): Expression<Date>;
  /** A subquery that may reference the enclosing query's tables (correlated). */
  selectFrom<X extends SourceArg<C>>(
    source: X,
  ): SelectQueryBuilder<
    C,
    Omit<S, SourceAlias<X>> & SourceScope<C, X>,
    SourceAlias<X>,
    EmptyRow
  >;
}

function aggregate(fn: AggregateFunction, arg: unknown, distinct = false): Expression<never> {
  return newExpression(
    freeze({ kind: "aggregate", fn, arg: arg === undefined ? null : operandNode(arg), distinct }),
  );
}

function call(fn: ScalarFunction, args: readonly unknown[]): Expression<never> {
  return newExpression(
    freeze({ kind: "function", fn, args: Object.freeze(args.map((a) => operandNode(a))) }),
  );
}

function logical(op: "and" | "or", items: readonly unknown[]): Expression<boolean> {
  if (!Array.isArray(items)) throw invalidQuery(`${op}() takes an array of conditions`);
  return newExpression(
    freeze({ kind: "logical", op, items: Object.freeze(items.map((i) => conditionResult(i))) }),
  );
}

function exists(query: unknown, negated: boolean): Expression<boolean> {
  const node = selectNodeOf(query);
  if (!node) throw invalidQuery("exists() needs a select query");
  return newExpression(freeze({ kind: "exists", negated, query: node }));
}

/** The one runtime expression builder (it holds no state; types come from the caller). */
// deno-lint-ignore no-explicit-any
export const expressionBuilder: ExpressionBuilder<any, any> = Object.freeze({
  ref: (reference: string) => newExpression(parseRef(reference)),
  val: (value: unknown) => newExpression(valueNode(value)),
  cmp: (lhs: unknown, op: unknown, ...rhs: unknown[]) =>
    newExpression(comparisonNode(lhs, op, rhs[0], 2 + rhs.length)),
  cmpRef: (lhs: string, op: unknown, rhs: string) => {
    if (!isComparisonOperator(op)) {
      throw invalidQuery(`cmpRef needs a comparison operator, got ${JSON.stringify(String(op))}`);
    }
    return newExpression(freeze({ kind: "binary", op, left: parseRef(lhs), right: parseRef(rhs) }));
  },
  and: (items: readonly unknown[]) => logical("and", items),
  or: (items: readonly unknown[]) => logical("or", items),
  not: (condition: unknown) =>
    newExpression(freeze({ kind: "not", operand: conditionResult(condition) })),
  exists: (query: unknown) => exists(query, false),
  notExists: (query: unknown) => exists(query, true),
  count: (operand?: unknown) => aggregate("count", operand),
  countDistinct: (operand: unknown) => aggregate("count", operand, true),
  sum: (operand: unknown) => aggregate("sum", operand),
  avg: (operand: unknown) => aggregate("avg", operand),
  min: (operand: unknown) => aggregate("min", operand),
  max: (operand: unknown) => aggregate("max", operand),
  op: (lhs: unknown, op: unknown, rhs: unknown) => newExpression(arithmeticNode(lhs, op, rhs)),
  coalesce: (...operands: unknown[]) => {
    if (operands.length === 0) throw invalidQuery("coalesce() needs an argument");
    return call("coalesce", operands);
  },
  lower: (operand: unknown) => call("lower", [operand]),
  upper: (operand: unknown) => call("upper", [operand]),
  length: (operand: unknown) => call("length", [operand]),
  abs: (operand: unknown) => call("abs", [operand]),
  now: () => call("now", []),
  selectFrom: (source: unknown) =>
    // deno-lint-ignore no-explicit-any
    newSelectQueryBuilder(emptySelectNode(sourceNode(source as any)), undefined),
  // deno-lint-ignore no-explicit-any
}) as any;

/**
 * The condition of `where(...args)` / `having(...args)`: `(lhs, op, rhs)`,
 * `(lhs, "is null")`, an expression, or a callback.
 */
export function conditionFromArgs(args: readonly unknown[]): ExpressionNode {
  if (args.length === 1) {
    const [arg] = args;
    if (typeof arg === "function") return conditionResult(arg(expressionBuilder));
    return conditionResult(arg);
  }
  if (args.length === 2 || args.length === 3) {
    return comparisonNode(args[0], args[1], args[2], args.length);
  }
  throw invalidQuery(`a condition takes 1 to 3 arguments, got ${args.length}`);
}

/** `lhs op rhs` with two column references (`whereRef`). */
export function refComparisonNode(lhs: unknown, op: unknown, rhs: unknown): ExpressionNode {
  if (!isComparisonOperator(op)) {
    throw invalidQuery(`whereRef needs a comparison operator, got ${JSON.stringify(String(op))}`);
  }
  return freeze({ kind: "binary", op, left: parseRef(lhs), right: parseRef(rhs) });
}

/** A `set`/`values` entry: a value, an expression, a subquery, or a callback building one. */
export function setValueNode(value: unknown): ExpressionNode {
  if (typeof value === "function") {
    const result = value(expressionBuilder);
    if (result instanceof Expression) return expressionNode(result);
    const query = selectNodeOf(result);
    if (query) return freeze({ kind: "subquery", query });
    throw invalidQuery("a set callback must return an expression");
  }
  return valueNode(value);
}
