/**
 * Small type-level utilities shared by the schema and the builders.
 *
 * @module
 */

/**
 * The empty row / map (a builder before `select`, a query creator without CTEs).
 *
 * @example
 * ```ts
 * import { type EmptyRow } from "./mod.ts";
 * const row: EmptyRow = {};
 * void row;
 * ```
 */
export type EmptyRow = Record<never, never>;

/**
 * Flatten an intersection into one object type, for readable hovers.
 *
 * @example
 * ```ts
 * import { type Simplify } from "./mod.ts";
 * const row: Simplify<{ id: bigint } & { name: string }> = { id: 1n, name: "ann" };
 * void row;
 * ```
 */
export type Simplify<T> = { [K in keyof T]: T[K] };

/**
 * Every property made `| null` (the outer side of an outer join).
 *
 * @example
 * ```ts
 * import { type Nullable } from "./mod.ts";
 * const row: Nullable<{ id: bigint }> = { id: null };
 * void row;
 * ```
 */
export type Nullable<R> = { [K in keyof R]: R[K] | null };

/**
 * `A | B` → `A & B`.
 *
 * @example
 * ```ts
 * import { type UnionToIntersection } from "./mod.ts";
 * const row: UnionToIntersection<{ a: 1 } | { b: 2 }> = { a: 1, b: 2 };
 * void row;
 * ```
 */
export type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends
  (x: infer I) => void ? I : never;
