/**
 * Type-level machinery of the builders: scopes (alias → row type), column references (`"col"` or `"alias.col"`),
 * selections (`"col as x"`, aliased expressions), FROM sources, join
 * nullability, insert/update value shapes, and the schema's row helpers.
 * Nothing here exists at runtime.
 *
 * @module
 */

import type { ComparisonOperator, Operator } from "../public_types.ts";
import type { AliasedTable, AnyTable, InsertRow, SelectRow, Table, UpdateRow } from "../schema.ts";
import type { EmptyRow, Nullable } from "../type_utils.ts";
import type { AliasedExpression, AliasedQuery, Expression } from "./expression.ts";
import type { ExpressionBuilder } from "./expression_builder.ts";

export type { EmptyRow, Nullable, Simplify, UnionToIntersection } from "../type_utils.ts";

/**
 * Alias → row type of everything a query can reference.
 *
 * @example
 * ```ts
 * import { type Scope } from "../mod.ts";
 * const scope: Scope = { users: { id: 1n, name: "ann" }, posts: { title: "t" } };
 * void scope;
 * ```
 */
export type Scope = Record<string, Record<string, unknown>>;

/**
 * CTE name → row type.
 *
 * @example
 * ```ts
 * import { type CteMap } from "../mod.ts";
 * const ctes: CteMap = { adults: { id: 1n } };
 * void ctes;
 * ```
 */
export type CteMap = Record<string, Record<string, unknown>>;

/**
 * Every row of a scope made nullable.
 *
 * @example
 * ```ts
 * import { type NullableScope } from "../mod.ts";
 * const s: NullableScope<{ p: { title: string } }> = { p: { title: null } };
 * void s;
 * ```
 */
export type NullableScope<S> = { [A in keyof S]: Nullable<S[A]> };

/**
 * Unqualified column names in scope.
 *
 * @example
 * ```ts
 * import { type ColumnName } from "../mod.ts";
 * type S = { u: { id: bigint }; p: { title: string } };
 * const c: ColumnName<S> = "title"; // or "id"
 * void c;
 * ```
 */
export type ColumnName<S> = { [A in keyof S]: keyof S[A] }[keyof S] & string;

/**
 * `alias.column` for every column in scope.
 *
 * @example
 * ```ts
 * import { type QualifiedColumn } from "../mod.ts";
 * type S = { u: { id: bigint }; p: { title: string } };
 * const c: QualifiedColumn<S> = "p.title"; // or "u.id"
 * void c;
 * ```
 */
export type QualifiedColumn<S> = {
  [A in keyof S & string]: `${A}.${keyof S[A] & string}`;
}[keyof S & string];

/**
 * A column reference: `"col"` or `"alias.col"`.
 *
 * @example
 * ```ts
 * import { type Ref } from "../mod.ts";
 * type S = { u: { id: bigint; name: string } };
 * const refs: Ref<S>[] = ["id", "u.name"];
 * void refs;
 * ```
 */
export type Ref<S> = ColumnName<S> | QualifiedColumn<S>;

/**
 * The TS type of a reference.
 *
 * @example
 * ```ts
 * import { type RefType } from "../mod.ts";
 * type S = { u: { id: bigint; email: string | null } };
 * const v: RefType<S, "u.email"> = null;
 * const w: RefType<S, "id"> = 1n;
 * void [v, w];
 * ```
 */
export type RefType<S, R> = R extends `${infer A}.${infer C}`
  ? A extends keyof S ? C extends keyof S[A] ? S[A][C] : never : never
  : { [A in keyof S]: R extends keyof S[A] ? S[A][R] : never }[keyof S];

/**
 * A value's accepted input type: `bigint` also takes `number`, `Date` a string.
 *
 * @example
 * ```ts
 * import { type Input } from "../mod.ts";
 * const id: Input<bigint> = 1; // an int8 also takes a number
 * const at: Input<Date> = "2024-01-01T00:00:00Z"; // a timestamp also takes a string
 * void [id, at];
 * ```
 */
export type Input<T> = T extends bigint ? bigint | number : T extends Date ? Date | string : T;

/**
 * A reference or an expression.
 *
 * @example
 * ```ts
 * import { type Operand, val } from "../mod.ts";
 * type S = { t: { n: number } };
 * const operands: Operand<S>[] = ["n", "t.n", val(1)];
 * void operands;
 * ```
 */
export type Operand<S> = Ref<S> | Expression<unknown>;

/**
 * The TS type of an operand.
 *
 * @example
 * ```ts
 * import { type OperandType, type Expression } from "../mod.ts";
 * type S = { t: { n: number | null } };
 * const a: OperandType<S, "n"> = null;
 * const b: OperandType<S, Expression<string>> = "x";
 * void [a, b];
 * ```
 */
export type OperandType<S, L> = L extends Expression<infer T> ? T : RefType<S, L>;

/**
 * A value, an expression or a scalar subquery, compared with a `T`.
 *
 * @example
 * ```ts
 * import { type ValueOrExpression, val } from "../mod.ts";
 * const values: ValueOrExpression<bigint | null>[] = [1n, 2, val(3)];
 * void values;
 * ```
 */
export type ValueOrExpression<T> = Input<NonNullable<T>> | Expression<unknown> | SubqueryLike;

/**
 * Any select builder usable as a subquery.
 *
 * @example
 * ```ts
 * import { type SubqueryLike, createQueryBuilder, int8, table } from "../mod.ts";
 * const t = table("t", { id: int8() });
 * const sub: SubqueryLike = createQueryBuilder().selectFrom(t).select("id");
 * void sub;
 * ```
 */
export interface SubqueryLike {
  /** Type-level only. */
  readonly $output: unknown;
}

/**
 * What follows `op` in `where(lhs, op, …)`.
 *
 * @example
 * ```ts
 * import { type Rhs } from "../mod.ts";
 * const inList: Rhs<"in", number> = [[1, 2, 3]];
 * const range: Rhs<"between", number> = [[1, 9]];
 * const none: Rhs<"is null", number> = [];
 * void [inList, range, none];
 * ```
 */
export type Rhs<Op extends Operator, T> = Op extends "is null" | "is not null" ? []
  : Op extends "in" | "not in" ? [readonly ValueOrExpression<T>[] | SubqueryLike]
  : Op extends "between" | "not between" ? [readonly [ValueOrExpression<T>, ValueOrExpression<T>]]
  : Op extends "is" | "is not" ? [null | boolean]
  : Op extends "like" | "not like" | "ilike" | "not ilike" ? [string | Expression<unknown>]
  : Op extends ComparisonOperator ? [ValueOrExpression<T>]
  : never;

/**
 * A select-list / RETURNING item.
 *
 * @example
 * ```ts
 * import { type SelectArg, val } from "../mod.ts";
 * type S = { u: { id: bigint; name: string } };
 * const items: SelectArg<S>[] = ["id", "u.name as n", val(1).as("one")];
 * void items;
 * ```
 */
export type SelectArg<S> =
  | Ref<S>
  | `${Ref<S>} as ${string}`
  | AliasedExpression<unknown, string>
  | AliasedQuery<Record<string, unknown>, string>;

/**
 * The output name of a select item.
 *
 * @example
 * ```ts
 * import { type SelectionName } from "../mod.ts";
 * const a: SelectionName<"u.name as n"> = "n";
 * const b: SelectionName<"u.name"> = "name";
 * void [a, b];
 * ```
 */
export type SelectionName<A> = A extends AliasedExpression<unknown, infer N> ? N
  : A extends AliasedQuery<Record<string, unknown>, infer N> ? N
  : A extends `${string} as ${infer N}` ? N
  : A extends `${string}.${infer C}` ? C
  : A;

/**
 * The output type of a select item (a scalar subquery may yield NULL).
 *
 * @example
 * ```ts
 * import { type SelectionType } from "../mod.ts";
 * type S = { u: { name: string | null } };
 * const v: SelectionType<S, "u.name as n"> = null;
 * void v;
 * ```
 */
export type SelectionType<S, A> = A extends AliasedExpression<infer T, string> ? T
  : A extends AliasedQuery<infer O, string> ? O[keyof O] | null
  : A extends `${infer R} as ${string}` ? RefType<S, R>
  : RefType<S, A>;

/**
 * The row a set of select items produces.
 *
 * @example
 * ```ts
 * import { type Selection } from "../mod.ts";
 * type S = { u: { id: bigint; name: string } };
 * const row: Selection<S, "id" | "u.name as n"> = { id: 1n, n: "ann" };
 * void row;
 * ```
 */
export type Selection<S, A> = { [K in A as SelectionName<K> & string]: SelectionType<S, K> };

/**
 * What FROM / JOIN accept: a table, an aliased table, an aliased subquery, a CTE name.
 *
 * @example
 * ```ts
 * import { type SourceArg, int8, table } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const sources: SourceArg<{ recent: { id: bigint } }>[] = [users, users.as("u"), "recent", "recent as r"];
 * void sources;
 * ```
 */
export type SourceArg<C> =
  | AnyTable
  | AliasedTable<AnyTable, string>
  | AliasedQuery<Record<string, unknown>, string>
  | (keyof C & string)
  | `${keyof C & string} as ${string}`;

/**
 * The scope a source adds (alias → row).
 *
 * @example
 * ```ts
 * import { type SourceScope, int8, table } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const s: SourceScope<Record<never, never>, typeof users> = { users: { id: 1n } };
 * void s;
 * ```
 */
export type SourceScope<C, X> = X extends Table<infer N, infer _C> ? { [K in N]: SelectRow<X> }
  : X extends AliasedTable<infer T, infer A> ? { [K in A]: SelectRow<T> }
  : X extends AliasedQuery<infer O, infer A> ? { [K in A]: O }
  : X extends `${infer N} as ${infer A}` ? { [K in A]: C[N & keyof C] }
  : X extends keyof C & string ? { [K in X]: C[X] }
  : never;

/**
 * The alias a source is known by.
 *
 * @example
 * ```ts
 * import { type SourceAlias, int8, table, type AliasedTable } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const a: SourceAlias<typeof users> = "users";
 * const b: SourceAlias<AliasedTable<typeof users, "u">> = "u";
 * void [a, b];
 * ```
 */
export type SourceAlias<X> = X extends Table<infer N, infer _C> ? N
  : X extends AliasedTable<AnyTable, infer A> ? A
  : X extends AliasedQuery<Record<string, unknown>, infer A> ? A
  : X extends `${string} as ${infer A}` ? A
  : X & string;

/**
 * A table or an aliased table (INSERT/UPDATE/DELETE targets).
 *
 * @example
 * ```ts
 * import { type TargetArg, int8, table } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const targets: TargetArg[] = [users, users.as("u")];
 * void targets;
 * ```
 */
export type TargetArg = AnyTable | AliasedTable<AnyTable, string>;

/**
 * The table of a target.
 *
 * @example
 * ```ts
 * import { type TargetTable, int8, table, type AliasedTable } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const t: TargetTable<AliasedTable<typeof users, "u">> = users;
 * void t;
 * ```
 */
export type TargetTable<X> = X extends AliasedTable<infer T, string> ? T : X;

/**
 * The scope after an inner join with `X`.
 *
 * @example
 * ```ts
 * import { type Joined, int8, table } from "../mod.ts";
 * const posts = table("posts", { id: int8() });
 * const s: Joined<Record<never, never>, { u: { id: bigint } }, typeof posts> = {
 *   u: { id: 1n },
 *   posts: { id: 2n },
 * };
 * void s;
 * ```
 */
export type Joined<C, S, X> = S & SourceScope<C, X>;
/**
 * The scope after a left join with `X`: its columns become nullable.
 *
 * @example
 * ```ts
 * import { type LeftJoined, int8, table } from "../mod.ts";
 * const posts = table("posts", { id: int8() });
 * const s: LeftJoined<Record<never, never>, { u: { id: bigint } }, typeof posts> = {
 *   u: { id: 1n },
 *   posts: { id: null },
 * };
 * void s;
 * ```
 */
export type LeftJoined<C, S, X> = S & NullableScope<SourceScope<C, X>>;
/**
 * The scope after a right join with `X`: the earlier FROM tables (`F`) become nullable.
 *
 * @example
 * ```ts
 * import { type RightJoined, int8, table } from "../mod.ts";
 * const posts = table("posts", { id: int8() });
 * const s: RightJoined<Record<never, never>, { u: { id: bigint } }, "u", typeof posts> = {
 *   u: { id: null },
 *   posts: { id: 2n },
 * };
 * void s;
 * ```
 */
export type RightJoined<C, S, F, X> =
  & { [A in keyof S]: A extends F ? Nullable<S[A]> : S[A] }
  & SourceScope<C, X>;
/**
 * The scope after a full join with `X`: both sides become nullable.
 *
 * @example
 * ```ts
 * import { type FullJoined, int8, table } from "../mod.ts";
 * const posts = table("posts", { id: int8() });
 * const s: FullJoined<Record<never, never>, { u: { id: bigint } }, "u", typeof posts> = {
 *   u: { id: null },
 *   posts: { id: null },
 * };
 * void s;
 * ```
 */
export type FullJoined<C, S, F, X> =
  & { [A in keyof S]: A extends F ? Nullable<S[A]> : S[A] }
  & NullableScope<SourceScope<C, X>>;
/**
 * Columns a `USING` join may name: present in `X` and in the scope.
 *
 * @example
 * ```ts
 * import { type UsingColumn, int8, table, text } from "../mod.ts";
 * const profiles = table("profiles", { id: int8(), bio: text() });
 * const c: UsingColumn<Record<never, never>, { users: { id: bigint } }, typeof profiles> = "id";
 * void c;
 * ```
 */
export type UsingColumn<C, S, X> = ColumnName<SourceScope<C, X>> & ColumnName<S>;
/**
 * A join's ON callback.
 *
 * @example
 * ```ts
 * import { type JoinOn } from "../mod.ts";
 * const on: JoinOn<Record<never, never>, { u: { id: bigint }; p: { user_id: bigint } }> = (eb) =>
 *   eb.cmpRef("p.user_id", "=", "u.id");
 * void on;
 * ```
 */
export type JoinOn<C extends CteMap, J extends Scope> = (
  eb: ExpressionBuilder<C, J>,
) => Expression<unknown>;

/**
 * The alias a target is known by.
 *
 * @example
 * ```ts
 * import { type TargetAlias, int8, table, type AliasedTable } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const a: TargetAlias<AliasedTable<typeof users, "u">> = "u";
 * void a;
 * ```
 */
export type TargetAlias<X> = X extends AliasedTable<AnyTable, infer A> ? A
  : X extends Table<infer N, infer _C> ? N
  : never;

/**
 * The scope of a target: its alias → its row.
 *
 * @example
 * ```ts
 * import { type TargetScope, int8, table } from "../mod.ts";
 * const users = table("users", { id: int8() });
 * const s: TargetScope<typeof users, "u"> = { u: { id: 1n } };
 * void s;
 * ```
 */
export type TargetScope<T extends AnyTable, A extends string> = { [K in A]: SelectRow<T> };

/**
 * A value in `set(…)` / `doUpdateSet(…)`: a value, an expression, a subquery or a callback.
 *
 * @example
 * ```ts
 * import { type SetValue, val } from "../mod.ts";
 * type S = { t: { n: number } };
 * const values: SetValue<Record<never, never>, S, number>[] = [1, val(2), (eb) => eb.op("n", "+", 1)];
 * void values;
 * ```
 */
export type SetValue<C extends CteMap, S extends Scope, V> =
  | V
  | Expression<unknown>
  | SubqueryLike
  | ((eb: ExpressionBuilder<C, S>) => Expression<unknown>);

/**
 * Column → new value for UPDATE SET / ON CONFLICT DO UPDATE SET.
 *
 * @example
 * ```ts
 * import { type UpdateSet, int4, table, text } from "../mod.ts";
 * const t = table("t", { k: text().primaryKey(), n: int4() });
 * const set: UpdateSet<Record<never, never>, { t: { k: string; n: number } }, typeof t> = {
 *   n: (eb) => eb.op("n", "+", 1),
 * };
 * void set;
 * ```
 */
export type UpdateSet<C extends CteMap, S extends Scope, T extends AnyTable> = {
  [K in keyof UpdateRow<T>]?: SetValue<C, S, UpdateRow<T>[K]>;
};

/**
 * A row for `values(…)`: the table's insert row, where any value may also be
 * an expression, a subquery, or a callback building an expression.
 *
 * @example
 * ```ts
 * import { type InsertValues, int4, table, text, val } from "../mod.ts";
 * const t = table("t", { k: text().primaryKey(), n: int4().default(0) });
 * const row: InsertValues<typeof t> = { k: "a", n: val(1) };
 * void row;
 * ```
 */
export type InsertValues<T extends AnyTable, C extends CteMap = EmptyRow> = {
  [K in keyof InsertRow<T>]:
    | InsertRow<T>[K]
    | Expression<unknown>
    | SubqueryLike
    | ((eb: ExpressionBuilder<C, EmptyRow>) => Expression<unknown>);
};

/**
 * Scope inside ON CONFLICT DO UPDATE: the target and `excluded`.
 *
 * @example
 * ```ts
 * import { type ConflictScope, int4, table, text } from "../mod.ts";
 * const t = table("t", { k: text().primaryKey(), n: int4() });
 * const s: ConflictScope<typeof t, "t"> = { t: { k: "a", n: 1 }, excluded: { k: "a", n: 2 } };
 * void s;
 * ```
 */
export type ConflictScope<T extends AnyTable, A extends string> =
  & TargetScope<T, A>
  & { excluded: SelectRow<T> };

/**
 * A CTE body's row, flattened.
 *
 * @example
 * ```ts
 * import { type CteRow } from "../mod.ts";
 * const row: CteRow<{ id: bigint } & { name: string }> = { id: 1n, name: "ann" };
 * void row;
 * ```
 */
export type CteRow<O> = O extends Record<string, unknown> ? { [K in keyof O]: O[K] } : never;
