/**
 * Expressions as values: {@linkcode Expression} wraps a frozen node and
 * carries its TS type; {@linkcode AliasedExpression} and
 * {@linkcode AliasedQuery} add an output name. Also the runtime half of
 * `where(lhs, op, rhs)`: parsing references and mapping the closed operator
 * set onto nodes.
 *
 * @module
 */

import { invalidQuery } from "../errors.ts";
import { assertIdentifier, describe } from "../identifier.ts";
import { freeze } from "../nodes/freeze.ts";
import type {
  BinaryOperator,
  ExpressionNode,
  RefNode,
  SelectionNode,
  SelectNode,
} from "../nodes/mod.ts";

// Friend accessors: nodes stay private to the ORM; these are set in the
// classes' static blocks and are not exported from mod.ts.
let readSelectNode: (value: unknown) => SelectNode | undefined = () => undefined;
let readExpression: (e: Expression<unknown>) => ExpressionNode;
let makeExpression: (node: ExpressionNode) => Expression<unknown>;
let readAliasedExpression: (e: AliasedExpression<unknown, string>) => ExpressionNode;
let makeAliasedExpression: (
  node: ExpressionNode,
  alias: string,
) => AliasedExpression<unknown, string>;
let readAliasedQuery: (q: AliasedQuery<unknown, string>) => SelectNode;
let makeAliasedQuery: (query: SelectNode, alias: string) => AliasedQuery<unknown, string>;

/** Register how to read a select builder's node (select.ts does, once). */
export function setSelectNodeReader(read: (value: unknown) => SelectNode | undefined): void {
  readSelectNode = read;
}

/** The SELECT node of a select builder, or `undefined` for anything else. */
export function selectNodeOf(value: unknown): SelectNode | undefined {
  return readSelectNode(value);
}

/** The node of an expression. */
export function expressionNode(e: Expression<unknown>): ExpressionNode {
  return readExpression(e);
}

/** A new expression over `node`. */
export function newExpression<T>(node: ExpressionNode): Expression<T> {
  return makeExpression(node) as Expression<T>;
}

/** A new aliased expression (the alias is validated). */
export function newAliasedExpression<T, A extends string>(
  node: ExpressionNode,
  alias: A,
): AliasedExpression<T, A> {
  return makeAliasedExpression(node, alias) as AliasedExpression<T, A>;
}

/** A new aliased query (the alias is validated). */
export function newAliasedQuery<O, A extends string>(
  query: SelectNode,
  alias: A,
): AliasedQuery<O, A> {
  return makeAliasedQuery(query, alias) as AliasedQuery<O, A>;
}

/** The SELECT node of an aliased query. */
export function aliasedQueryNode(q: AliasedQuery<unknown, string>): SelectNode {
  return readAliasedQuery(q);
}

/**
 * A typed SQL expression (column, value, condition, aggregate, raw
 * fragment), made by the expression builder, {@linkcode ref}, {@linkcode val}
 * or the `sql` tag. `T` is its TS type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, Expression, int4, table } from "../mod.ts";
 * const t = table("t", { a: int4() });
 * const q = createQueryBuilder().selectFrom(t).select((eb) => {
 *   const doubled: Expression<number> = eb.op("a", "*", 2);
 *   return [doubled.as("twice")];
 * }).compile();
 * assert.equal(q.sql, 'SELECT "t"."a" * $1 AS "twice" FROM "t"');
 * ```
 */
export class Expression<T> {
  /** Type-level only: the expression's TS type. */
  declare readonly $type: T;
  readonly #node: ExpressionNode;

  /** Wrap a node (for subclasses); use the expression builder or the helpers. */
  protected constructor(node: ExpressionNode) {
    this.#node = node;
  }

  static {
    readExpression = (e) => e.#node;
    makeExpression = (node) => new Expression(node);
  }

  /** Give the expression an output name (for `select` / `returning`). */
  as<A extends string>(alias: A): AliasedExpression<T, A> {
    return newAliasedExpression(this.#node, alias);
  }
}

/**
 * An expression with an output name, for `select` and `returning`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AliasedExpression, createQueryBuilder, int4, table } from "../mod.ts";
 * const t = table("t", { a: int4() });
 * const q = createQueryBuilder().selectFrom(t).select((eb) => {
 *   const n = eb.count().as("n");
 *   assert.ok(n instanceof AliasedExpression);
 *   return [n];
 * }).compile();
 * assert.equal(q.sql, 'SELECT count(*) AS "n" FROM "t"');
 * ```
 */
export class AliasedExpression<T, A extends string> {
  /** Type-level only: the expression's TS type. */
  declare readonly $type: T;
  readonly #node: ExpressionNode;
  /** The output name. */
  readonly alias: A;

  private constructor(node: ExpressionNode, alias: A) {
    assertIdentifier(alias, "alias");
    this.#node = node;
    this.alias = alias;
    Object.freeze(this);
  }

  static {
    readAliasedExpression = (e) => e.#node;
    makeAliasedExpression = (node, alias) => new AliasedExpression(node, alias);
  }
}

/**
 * A select query with an alias (from `query.as(alias)`): a derived table in
 * FROM/JOIN, or a scalar subquery in a select list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, table } from "../mod.ts";
 * const t = table("t", { a: int4() });
 * const db = createQueryBuilder();
 * const big = db.selectFrom(t).select("a").where("a", ">", 10).as("big");
 * const q = db.selectFrom(big).select("big.a").compile();
 * assert.equal(
 *   q.sql,
 *   'SELECT "big"."a" FROM (SELECT "t"."a" FROM "t" WHERE "t"."a" > $1) AS "big"',
 * );
 * ```
 */
export class AliasedQuery<O, A extends string> {
  /** Type-level only: the query's output row. */
  declare readonly $output: O;
  readonly #query: SelectNode;
  /** The alias. */
  readonly alias: A;

  private constructor(query: SelectNode, alias: A) {
    assertIdentifier(alias, "alias");
    this.#query = query;
    this.alias = alias;
    Object.freeze(this);
  }

  static {
    readAliasedQuery = (q) => q.#query;
    makeAliasedQuery = (query, alias) => new AliasedQuery(query, alias);
  }
}

// Parsed references are immutable, so equal strings can share one node.
const refCache = new Map<string, RefNode>();

/** `"col"` / `"alias.col"` → a ref node (identifiers validated). */
export function parseRef(reference: unknown): RefNode {
  if (typeof reference !== "string") {
    throw invalidQuery(`a column reference must be a string, got ${typeof reference}`);
  }
  const hit = refCache.get(reference);
  if (hit) return hit;
  const dot = reference.indexOf(".");
  let node: RefNode;
  if (dot < 0) {
    assertIdentifier(reference, "column");
    node = freeze({ kind: "ref", table: null, column: reference });
  } else {
    const table = reference.slice(0, dot);
    const column = reference.slice(dot + 1);
    assertIdentifier(table, "table");
    assertIdentifier(column, "column");
    node = freeze({ kind: "ref", table, column });
  }
  if (refCache.size > 4096) refCache.clear();
  refCache.set(reference, node);
  return node;
}

/** A select item: `"ref"`, `"ref as alias"`, an aliased expression or aliased query. */
export function parseSelectItem(item: unknown): SelectionNode {
  if (typeof item === "string") {
    const at = item.indexOf(" as ");
    if (at < 0) return freeze({ kind: "selection", expr: parseRef(item), alias: null });
    const alias = item.slice(at + 4);
    assertIdentifier(alias, "alias");
    return freeze({ kind: "selection", expr: parseRef(item.slice(0, at)), alias });
  }
  if (item instanceof AliasedExpression) {
    return freeze({ kind: "selection", expr: readAliasedExpression(item), alias: item.alias });
  }
  if (item instanceof AliasedQuery) {
    return freeze({
      kind: "selection",
      expr: freeze({ kind: "subquery", query: readAliasedQuery(item) }),
      alias: item.alias,
    });
  }
  if (item instanceof Expression) {
    throw invalidQuery("a selected expression needs an alias (use .as(name))");
  }
  throw invalidQuery(`invalid select item ${describe(item)}`);
}

/** An operand given as a value: expressions and subqueries as such, anything else a parameter. */
export function valueNode(value: unknown, what = "value"): ExpressionNode {
  if (value instanceof Expression) return readExpression(value);
  const query = readSelectNode(value);
  if (query) return freeze({ kind: "subquery", query });
  if (value === undefined) throw invalidQuery(`undefined ${what} (use null)`);
  if (
    typeof value === "function" || typeof value === "symbol" ||
    value instanceof AliasedExpression || value instanceof AliasedQuery
  ) {
    throw invalidQuery(`invalid ${what}: ${typeof value}`);
  }
  return freeze({ kind: "value", value });
}

/** An operand given as a reference: strings are column references. */
export function operandNode(operand: unknown): ExpressionNode {
  if (typeof operand === "string") return parseRef(operand);
  if (operand instanceof Expression) return readExpression(operand);
  const query = readSelectNode(operand);
  if (query) return freeze({ kind: "subquery", query });
  throw invalidQuery(`invalid operand ${describe(operand)} (a column name or an expression)`);
}

const COMPARISON = new Set<string>([
  "=",
  "!=",
  "<>",
  "<",
  "<=",
  ">",
  ">=",
  "like",
  "not like",
  "ilike",
  "not ilike",
  "is distinct from",
  "is not distinct from",
]);
const ARITHMETIC = new Set<string>(["+", "-", "*", "/", "%", "||"]);

/** Whether `op` is a comparison operator (closed set). */
export function isComparisonOperator(op: unknown): op is BinaryOperator {
  return typeof op === "string" && COMPARISON.has(op);
}

/** `lhs op rhs` for an arithmetic operator (closed set). */
export function arithmeticNode(lhs: unknown, op: unknown, rhs: unknown): ExpressionNode {
  if (typeof op !== "string" || !ARITHMETIC.has(op)) {
    throw invalidQuery(`unknown arithmetic operator ${describe(op)}`);
  }
  return freeze({
    kind: "binary",
    op: op as BinaryOperator,
    left: operandNode(lhs),
    right: valueNode(rhs),
  });
}

/**
 * The node for `where(lhs, op[, rhs])`. `argc` is how many arguments were
 * given, so a missing right-hand side is told apart from `undefined`.
 */
export function comparisonNode(
  lhs: unknown,
  op: unknown,
  rhs: unknown,
  argc: number,
): ExpressionNode {
  if (typeof op !== "string") throw invalidQuery(`invalid operator ${describe(op)}`);
  const left = operandNode(lhs);
  if (op === "is null" || op === "is not null") {
    if (argc > 2 && rhs !== undefined) throw invalidQuery(`${op} takes no value`);
    return freeze({ kind: "is", negated: op === "is not null", operand: left, value: null });
  }
  if (argc < 3) throw invalidQuery(`operator ${describe(op)} needs a value`);
  if (COMPARISON.has(op)) {
    return freeze({ kind: "binary", op: op as BinaryOperator, left, right: valueNode(rhs) });
  }
  switch (op) {
    case "in":
    case "not in": {
      const negated = op === "not in";
      if (Array.isArray(rhs)) {
        const list = Object.freeze(rhs.map((v) => valueNode(v, "IN list value")));
        return freeze({ kind: "in", negated, left, list });
      }
      const query = readSelectNode(rhs);
      if (query) return freeze({ kind: "in", negated, left, list: query });
      throw invalidQuery(`${op} needs an array or a subquery`);
    }
    case "between":
    case "not between": {
      if (!Array.isArray(rhs) || rhs.length !== 2) {
        throw invalidQuery(`${op} needs a [low, high] pair`);
      }
      return freeze({
        kind: "between",
        negated: op === "not between",
        left,
        low: valueNode(rhs[0]),
        high: valueNode(rhs[1]),
      });
    }
    case "is":
    case "is not":
      if (rhs !== null && rhs !== true && rhs !== false) {
        throw invalidQuery(`${op} takes null, true or false`);
      }
      return freeze({ kind: "is", negated: op === "is not", operand: left, value: rhs });
    default:
      throw invalidQuery(`unknown operator ${describe(op)}`);
  }
}

/** AND two conditions (flattening an existing AND). */
export function andNode(existing: ExpressionNode | null, next: ExpressionNode): ExpressionNode {
  if (existing === null) return next;
  const items = existing.kind === "logical" && existing.op === "and" && existing.items.length > 0
    ? [...existing.items, next]
    : [existing, next];
  return freeze<ExpressionNode>({ kind: "logical", op: "and", items: Object.freeze(items) });
}

/** A callback's or a value's condition as a node. */
export function conditionResult(result: unknown): ExpressionNode {
  if (result instanceof Expression) return readExpression(result);
  throw invalidQuery(`a condition must be an expression, got ${describe(result)}`);
}
