/**
 * The ORM's operation tree (internal to the ORM): frozen plain
 * nodes, produced by the builders and read only by the compiler, plus the
 * schema descriptions (`TableSpec`, `ColumnSpec`) tables carry. Operators,
 * functions and column types are closed sets; nothing here is SQL text
 * except a raw fragment's strings.
 *
 * @module
 */

export type * from "./expression.ts";
export type * from "./query.ts";
export type * from "./table.ts";
