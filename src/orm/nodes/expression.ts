/**
 * Expression nodes: the frozen, plain-data tree the builders produce for
 * values, column references, conditions, aggregates and raw fragments.
 * Operators and function names are closed sets; nothing here is SQL text
 * except a raw fragment's `strings` (which the compiler reports in
 * `rawText`).
 *
 * @module
 */

import type { SelectNode } from "./query.ts";

/** Comparison operators taking a left and a right operand. */
export type ComparisonOperator =
  | "="
  | "!="
  | "<>"
  | "<"
  | "<="
  | ">"
  | ">="
  | "like"
  | "not like"
  | "ilike"
  | "not ilike"
  | "is distinct from"
  | "is not distinct from";

/** Arithmetic and concatenation operators. */
export type ArithmeticOperator = "+" | "-" | "*" | "/" | "%" | "||";

/** Binary operators of a {@linkcode BinaryNode}. */
export type BinaryOperator = ComparisonOperator | ArithmeticOperator;

/** Operators accepted by `where(lhs, op, rhs)`. */
export type Operator =
  | ComparisonOperator
  | "in"
  | "not in"
  | "between"
  | "not between"
  | "is"
  | "is not"
  | "is null"
  | "is not null";

/** Aggregate functions. */
export type AggregateFunction = "count" | "sum" | "avg" | "min" | "max";

/** Scalar functions (closed set). */
export type ScalarFunction = "coalesce" | "lower" | "upper" | "abs" | "length" | "now";

/** A column reference, `table.column` or just `column`; resolved by the compiler. */
export interface RefNode {
  readonly kind: "ref";
  readonly table: string | null;
  readonly column: string;
}

/** A value, always bound as a parameter. */
export interface ValueNode {
  readonly kind: "value";
  readonly value: unknown;
}

/** `DEFAULT` (a missing column in a multi-row insert). */
export interface DefaultNode {
  readonly kind: "default";
}

/** `left op right`. */
export interface BinaryNode {
  readonly kind: "binary";
  readonly op: BinaryOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
}

/** `a AND b AND …` / `a OR b OR …`; empty AND is TRUE, empty OR is FALSE. */
export interface LogicalNode {
  readonly kind: "logical";
  readonly op: "and" | "or";
  readonly items: readonly ExpressionNode[];
}

/** `NOT (operand)`. */
export interface NotNode {
  readonly kind: "not";
  readonly operand: ExpressionNode;
}

/** `left [NOT] IN (list | subquery)`. */
export interface InNode {
  readonly kind: "in";
  readonly negated: boolean;
  readonly left: ExpressionNode;
  readonly list: readonly ExpressionNode[] | SelectNode;
}

/** `left [NOT] BETWEEN low AND high`. */
export interface BetweenNode {
  readonly kind: "between";
  readonly negated: boolean;
  readonly left: ExpressionNode;
  readonly low: ExpressionNode;
  readonly high: ExpressionNode;
}

/** `operand IS [NOT] NULL | TRUE | FALSE`. */
export interface IsNode {
  readonly kind: "is";
  readonly negated: boolean;
  readonly operand: ExpressionNode;
  readonly value: null | boolean;
}

/** `[NOT] EXISTS (subquery)`. */
export interface ExistsNode {
  readonly kind: "exists";
  readonly negated: boolean;
  readonly query: SelectNode;
}

/** `fn([DISTINCT] arg)`; `count(*)` when `arg` is null. */
export interface AggregateNode {
  readonly kind: "aggregate";
  readonly fn: AggregateFunction;
  readonly arg: ExpressionNode | null;
  readonly distinct: boolean;
}

/** `fn(args…)` for a closed set of scalar functions. */
export interface FunctionNode {
  readonly kind: "function";
  readonly fn: ScalarFunction;
  readonly args: readonly ExpressionNode[];
}

/** A scalar subquery, `(SELECT …)`. */
export interface SubqueryNode {
  readonly kind: "subquery";
  readonly query: SelectNode;
}

/**
 * A raw fragment from the `sql` tagged template: `strings[0] values[0]
 * strings[1] …`. Only the strings are SQL text (reported in `rawText`);
 * values are expressions, usually parameters.
 */
export interface RawNode {
  readonly kind: "raw";
  readonly strings: readonly string[];
  readonly values: readonly ExpressionNode[];
}

/** Any expression. */
export type ExpressionNode =
  | RefNode
  | ValueNode
  | DefaultNode
  | BinaryNode
  | LogicalNode
  | NotNode
  | InNode
  | BetweenNode
  | IsNode
  | ExistsNode
  | AggregateNode
  | FunctionNode
  | SubqueryNode
  | RawNode;
