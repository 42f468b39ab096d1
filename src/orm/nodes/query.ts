/**
 * Statement nodes (SELECT, INSERT, UPDATE, DELETE, CREATE TABLE) and their
 * parts: sources, joins, selections, CTEs, ON CONFLICT. Plain frozen data;
 * the compiler is the only reader that turns them into SQL.
 *
 * @module
 */

import type { ExpressionNode, RawNode, ValueNode } from "./expression.ts";
import type { TableSpec } from "./table.ts";

/** A declared table in FROM/JOIN/INSERT/UPDATE/DELETE, optionally aliased. */
export interface TableSourceNode {
  readonly kind: "table";
  readonly table: TableSpec;
  readonly alias: string | null;
}

/** A CTE referenced by name, optionally aliased. */
export interface CteSourceNode {
  readonly kind: "cte";
  readonly name: string;
  readonly alias: string | null;
}

/** A derived table: `(SELECT …) AS alias`. */
export interface SubquerySourceNode {
  readonly kind: "subquery";
  readonly query: SelectNode;
  readonly alias: string;
}

/** Anything FROM or JOIN accepts. */
export type SourceNode = TableSourceNode | CteSourceNode | SubquerySourceNode;

/** Join kinds. */
export type JoinType = "inner" | "left" | "right" | "full" | "cross";

/** One JOIN clause: ON condition, USING columns, NATURAL, or none (CROSS). */
export interface JoinNode {
  readonly kind: "join";
  readonly joinType: JoinType;
  readonly natural: boolean;
  readonly source: SourceNode;
  readonly on: ExpressionNode | null;
  readonly using: readonly string[] | null;
}

/** `expr [AS alias]` in a select list or RETURNING. */
export interface SelectionNode {
  readonly kind: "selection";
  readonly expr: ExpressionNode;
  readonly alias: string | null;
}

/** `*` or `alias.*`. */
export interface SelectAllNode {
  readonly kind: "selectAll";
  readonly table: string | null;
}

/** One select-list or RETURNING item. */
export type SelectItemNode = SelectionNode | SelectAllNode;

/** `expr ASC|DESC [NULLS FIRST|LAST]`. */
export interface OrderByNode {
  readonly kind: "orderBy";
  readonly expr: ExpressionNode;
  readonly direction: "asc" | "desc";
  readonly nulls: "first" | "last" | null;
}

/** Row-locking clause. */
export interface LockNode {
  readonly strength: "update" | "no key update" | "share" | "key share";
  readonly of: readonly string[];
  readonly wait: "skip locked" | "nowait" | null;
}

/** `name AS (query)` in a WITH clause. */
export interface CteNode {
  readonly kind: "cteDef";
  readonly name: string;
  readonly query: StatementNode;
}

/** SELECT. */
export interface SelectNode {
  readonly kind: "select";
  readonly ctes: readonly CteNode[];
  readonly distinct: boolean;
  readonly distinctOn: readonly ExpressionNode[];
  readonly selections: readonly SelectItemNode[];
  readonly from: readonly SourceNode[];
  readonly joins: readonly JoinNode[];
  readonly where: ExpressionNode | null;
  readonly groupBy: readonly ExpressionNode[];
  readonly having: ExpressionNode | null;
  readonly orderBy: readonly OrderByNode[];
  readonly limit: ValueNode | null;
  readonly offset: ValueNode | null;
  readonly lock: LockNode | null;
}

/** `column = value` in UPDATE SET / DO UPDATE SET. */
export interface SetNode {
  readonly column: string;
  readonly value: ExpressionNode;
}

/** `ON CONFLICT [target] DO NOTHING | DO UPDATE SET … [WHERE …]`. */
export interface OnConflictNode {
  /** Conflict target columns (empty with a constraint or no target). */
  readonly columns: readonly string[];
  readonly constraint: string | null;
  readonly action: "nothing" | "update";
  readonly set: readonly SetNode[];
  readonly where: ExpressionNode | null;
}

/** INSERT. Exactly one of `rows`, `select`, `defaultValues` is used. */
export interface InsertNode {
  readonly kind: "insert";
  readonly ctes: readonly CteNode[];
  readonly table: TableSourceNode;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly ExpressionNode[])[];
  readonly select: SelectNode | null;
  readonly defaultValues: boolean;
  readonly onConflict: OnConflictNode | null;
  readonly returning: readonly SelectItemNode[];
}

/** UPDATE. */
export interface UpdateNode {
  readonly kind: "update";
  readonly ctes: readonly CteNode[];
  readonly table: TableSourceNode;
  readonly set: readonly SetNode[];
  readonly from: readonly SourceNode[];
  readonly where: ExpressionNode | null;
  readonly returning: readonly SelectItemNode[];
  readonly allowAllRows: boolean;
}

/** DELETE. */
export interface DeleteNode {
  readonly kind: "delete";
  readonly ctes: readonly CteNode[];
  readonly table: TableSourceNode;
  readonly using: readonly SourceNode[];
  readonly where: ExpressionNode | null;
  readonly returning: readonly SelectItemNode[];
  readonly allowAllRows: boolean;
}

/** CREATE TABLE. */
export interface CreateTableNode {
  readonly kind: "createTable";
  readonly table: TableSpec;
  readonly ifNotExists: boolean;
}

/** DROP TABLE. */
export interface DropTableNode {
  readonly kind: "dropTable";
  readonly table: TableSpec;
  readonly ifExists: boolean;
  readonly cascade: boolean;
}

/** Statements a CTE may hold. */
export type StatementNode = SelectNode | InsertNode | UpdateNode | DeleteNode;

/** Everything the compiler accepts at top level. */
export type QueryNode = StatementNode | CreateTableNode | DropTableNode | RawNode;
