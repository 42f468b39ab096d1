/**
 * Table and column descriptions as plain frozen data: what `schema.ts`
 * produces from a table declaration and what the compiler validates
 * references and writes DDL from. Types are a closed set, never SQL text.
 *
 * @module
 */

/** Column types the ORM knows (PostgreSQL names). */
export type ColumnType =
  | "int2"
  | "int4"
  | "int8"
  | "numeric"
  | "float4"
  | "float8"
  | "text"
  | "varchar"
  | "boolean"
  | "timestamptz"
  | "timestamp"
  | "date"
  | "jsonb"
  | "json"
  | "bytea"
  | "uuid";

/** A column's SQL type: base type, optional modifiers, array dimensions. */
export interface DataTypeSpec {
  readonly type: ColumnType;
  /** `varchar(length)`. */
  readonly length: number | null;
  /** `numeric(precision[, scale])`. */
  readonly precision: number | null;
  readonly scale: number | null;
  /** 0 for scalars, 1 for `type[]`, … */
  readonly arrayDims: number;
}

/** A column default: a literal value (rendered safely), `now()` or `gen_random_uuid()`. */
export type DefaultSpec =
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "now" }
  | { readonly kind: "randomUuid" };

/** Referential actions for `REFERENCES … ON DELETE/UPDATE`. */
export type ReferentialAction = "cascade" | "restrict" | "set null" | "set default" | "no action";

/** A foreign key on one column. */
export interface ReferenceSpec {
  readonly table: string;
  readonly column: string;
  readonly onDelete: ReferentialAction | null;
  readonly onUpdate: ReferentialAction | null;
}

/** One column. */
export interface ColumnSpec {
  readonly name: string;
  readonly dataType: DataTypeSpec;
  readonly nullable: boolean;
  readonly default: DefaultSpec | null;
  readonly primaryKey: boolean;
  readonly unique: boolean;
  /** `GENERATED … AS IDENTITY`. */
  readonly identity: "always" | "byDefault" | null;
  readonly references: ReferenceSpec | null;
}

/** One table. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  /** Column name → spec, for O(1) lookups. */
  readonly byName: ReadonlyMap<string, ColumnSpec>;
  /** Composite primary key (empty when a column carries `primaryKey`). */
  readonly primaryKey: readonly string[];
  /** Composite unique constraints. */
  readonly unique: readonly (readonly string[])[];
}
