/**
 * SomnyToo's ORM: a pure, typed query builder for PostgreSQL.
 *
 * Tables are declared in TypeScript ({@linkcode table}) and give typed rows.
 * Builders ({@linkcode createQueryBuilder}) are immutable and fluent; they
 * produce a frozen operation tree that the compiler, the only place SQL text
 * is written, turns into a {@linkcode CompiledQuery}: every value a `$n`
 * parameter (LIMIT and OFFSET too), every identifier validated and
 * double-quoted, every column reference checked against the declared tables,
 * and the tables read and written listed for cache invalidation. UPDATE and
 * DELETE without WHERE are refused unless `allowAllRows()` says so. The one
 * way to write SQL text yourself is the {@linkcode sql} tagged template,
 * whose text is reported in `rawText` for the executor to screen.
 *
 * This folder has no I/O: a {@linkcode QueryExecutor} (implemented by the
 * database layer) runs what it compiles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, int8, table, text } from "./mod.ts";
 *
 * const users = table("users", {
 *   id: int8().primaryKey().generatedByDefault(),
 *   name: text(),
 *   age: int4().nullable(),
 * });
 * const db = createQueryBuilder(); // pass an executor to run queries
 * const q = db.selectFrom(users).select("id", "name").where("age", ">=", 18)
 *   .orderBy("name").limit(10).compile();
 * assert.equal(
 *   q.sql,
 *   'SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" >= $1 ' +
 *     'ORDER BY "name" ASC LIMIT $2',
 * );
 * assert.deepEqual(q.params, [18, 10]);
 * assert.deepEqual(q.reads, ["users"]);
 * ```
 *
 * @module
 */

export {
  AliasedTable,
  boolean,
  bytea,
  Column,
  date,
  float4,
  float8,
  int2,
  int4,
  int8,
  json,
  jsonb,
  numeric,
  Table,
  table,
  text,
  timestamp,
  timestamptz,
  uuid,
  varchar,
} from "./schema.ts";
export type {
  AnyColumn,
  AnyTable,
  ColumnInputType,
  ColumnMap,
  ColumnSelectType,
  ColumnTypes,
  InsertRow,
  OptionalInsertKeys,
  RequiredInsertKeys,
  SelectRow,
  TableColumns,
  TableOptions,
  UpdateRow,
} from "./schema.ts";
export { createTableSql, dropTableSql } from "./ddl.ts";
export type { CreateTableOptions, DropTableOptions } from "./ddl.ts";
export { createQueryBuilder, QueryCreator } from "./builders/query_creator.ts";
export type { CteBody } from "./builders/query_creator.ts";
export { SelectQueryBuilder } from "./builders/select.ts";
export type { LockOptions } from "./builders/select.ts";
export { InsertQueryBuilder, OnConflictBuilder } from "./builders/insert.ts";
export { UpdateQueryBuilder } from "./builders/update.ts";
export { DeleteQueryBuilder } from "./builders/delete.ts";
export { RawBuilder, sql } from "./builders/raw.ts";
export type { SqlTag } from "./builders/raw.ts";
export { excluded, ref, val } from "./builders/helpers.ts";
export { AliasedExpression, AliasedQuery, Expression } from "./builders/expression.ts";
export type { Condition, ExpressionBuilder } from "./builders/expression_builder.ts";
export type {
  ArithmeticOperator,
  ComparisonOperator,
  CompiledQuery,
  Operator,
  QueryExecutor,
  QueryOperation,
  ReferentialAction,
} from "./public_types.ts";
export type { EmptyRow, Nullable, Simplify, UnionToIntersection } from "./type_utils.ts";
export type {
  ColumnName,
  ConflictScope,
  CteMap,
  CteRow,
  FullJoined,
  Input,
  InsertValues,
  Joined,
  JoinOn,
  LeftJoined,
  NullableScope,
  Operand,
  OperandType,
  QualifiedColumn,
  Ref,
  RefType,
  Rhs,
  RightJoined,
  Scope,
  SelectArg,
  Selection,
  SelectionName,
  SelectionType,
  SetValue,
  SourceAlias,
  SourceArg,
  SourceScope,
  SubqueryLike,
  TargetAlias,
  TargetArg,
  TargetScope,
  TargetTable,
  UpdateSet,
  UsingColumn,
  ValueOrExpression,
} from "./builders/types.ts";
