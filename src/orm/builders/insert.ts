/**
 * The INSERT builder (single and multi-row VALUES, INSERT … SELECT,
 * DEFAULT VALUES, ON CONFLICT, RETURNING) and its ON CONFLICT builder.
 * Immutable, like every builder.
 *
 * @module
 */

import { compileNode } from "../compiler.ts";
import { invalidQuery } from "../errors.ts";
import { assertIdentifier, describe } from "../identifier.ts";
import { freeze } from "../nodes/freeze.ts";
import type { ExpressionNode, InsertNode, OnConflictNode, SelectNode } from "../nodes/mod.ts";
import type { CompiledQuery, Operator, QueryExecutor } from "../public_types.ts";
import type { AnyTable, InsertRow, SelectRow } from "../schema.ts";
import { andNode, selectNodeOf } from "./expression.ts";
import {
  type Condition,
  conditionFromArgs,
  type ExpressionBuilder,
  expressionBuilder,
  setValueNode,
} from "./expression_builder.ts";
import { RETURNING_ALL, returningItems, setNodes } from "./mutation.ts";
import { runWith } from "./select.ts";
import type {
  ConflictScope,
  CteMap,
  EmptyRow,
  InsertValues,
  Operand,
  OperandType,
  Rhs,
  SelectArg,
  Selection,
  Simplify,
  SubqueryLike,
  TargetScope,
  UpdateSet,
} from "./types.ts";

const DEFAULT: ExpressionNode = freeze({ kind: "default" });

const EMPTY_ON_CONFLICT: OnConflictNode = freeze({
  columns: [],
  constraint: null,
  action: "nothing",
  set: [],
  where: null,
});
// deno-lint-ignore no-explicit-any
type AnyOnConflict = OnConflictBuilder<any, any, any>;
let makeOnConflict: () => AnyOnConflict;
let readOnConflict: (b: AnyOnConflict) => OnConflictNode;
// deno-lint-ignore no-explicit-any
type AnyInsert = InsertQueryBuilder<any, any, any, any>;
let makeInsert: (node: InsertNode, executor: QueryExecutor | undefined) => AnyInsert;
let readInsert: (value: unknown) => InsertNode | undefined;

/** An insert builder over `node` (kept off the public API). */
export function newInsertQueryBuilder<C extends CteMap, T extends AnyTable, A extends string, O>(
  node: InsertNode,
  executor: QueryExecutor | undefined,
): InsertQueryBuilder<C, T, A, O> {
  return makeInsert(node, executor);
}

/** The INSERT node of an insert builder, or `undefined`. */
export function insertNodeOf(value: unknown): InsertNode | undefined {
  return readInsert(value);
}

/**
 * Builds the ON CONFLICT clause inside `insertInto(t).onConflict((oc) => …)`:
 * a target (`columns(…)`, `constraint(name)` or none), then `doNothing()` or
 * `doUpdateSet({…})` with an optional `where`. Inside DO UPDATE,
 * `excluded.col` (`eb.ref("excluded.col")` or {@linkcode excluded}) is the
 * row that was not inserted; unqualified columns are the existing row's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, OnConflictBuilder, table, text } from "../mod.ts";
 * const counters = table("counters", { key: text().primaryKey(), n: int4() });
 * const q = createQueryBuilder().insertInto(counters).values({ key: "a", n: 1 })
 *   .onConflict((oc) => {
 *     assert.ok(oc instanceof OnConflictBuilder);
 *     return oc.columns("key").doUpdateSet({ n: (eb) => eb.op("n", "+", eb.ref("excluded.n")) });
 *   }).compile();
 * assert.equal(
 *   q.sql,
 *   'INSERT INTO "counters" ("key", "n") VALUES ($1, $2) ON CONFLICT ("key") ' +
 *     'DO UPDATE SET "n" = "counters"."n" + "excluded"."n"',
 * );
 * ```
 */
export class OnConflictBuilder<C extends CteMap, T extends AnyTable, A extends string> {
  readonly #node: OnConflictNode;
  readonly #actionChosen: boolean;

  private constructor(node: OnConflictNode, actionChosen: boolean) {
    this.#node = node;
    this.#actionChosen = actionChosen;
  }

  static {
    makeOnConflict = () => new OnConflictBuilder(EMPTY_ON_CONFLICT, false);
    // The node, once an action was chosen.
    readOnConflict = (b) => {
      if (!b.#actionChosen) {
        throw invalidQuery("onConflict needs an action: doNothing() or doUpdateSet()");
      }
      return b.#node;
    };
  }

  #with(patch: Partial<OnConflictNode>, chosen = this.#actionChosen): OnConflictBuilder<C, T, A> {
    return new OnConflictBuilder(freeze({ ...this.#node, ...patch }), chosen);
  }

  /** Conflict target: `ON CONFLICT (columns)`. */
  columns(...columns: readonly (keyof SelectRow<T> & string)[]): OnConflictBuilder<C, T, A> {
    if (columns.length === 0) throw invalidQuery("onConflict columns() needs a column");
    for (const c of columns) assertIdentifier(c, "column");
    return this.#with({ columns: Object.freeze([...columns]), constraint: null });
  }

  /** Conflict target: `ON CONFLICT ON CONSTRAINT name`. */
  constraint(name: string): OnConflictBuilder<C, T, A> {
    assertIdentifier(name, "constraint");
    return this.#with({ constraint: name, columns: [] });
  }

  /** `DO NOTHING`. */
  doNothing(): OnConflictBuilder<C, T, A> {
    return this.#with({ action: "nothing", set: [], where: null }, true);
  }

  /**
   * `DO UPDATE SET …`: values, expressions or callbacks; `eb.ref("excluded.col")`
   * (or the `excluded("col")` helper) is the row that failed to insert.
   */
  doUpdateSet(set: UpdateSet<C, ConflictScope<T, A>, T>): OnConflictBuilder<C, T, A> {
    const nodes = setNodes(set);
    if (nodes.length === 0) throw invalidQuery("doUpdateSet() needs at least one column");
    return this.#with({ action: "update", set: Object.freeze(nodes) }, true);
  }

  /** `DO UPDATE … WHERE lhs op rhs` (ANDed), same forms as select's `where`. */
  where<L extends Operand<ConflictScope<T, A>>, Op extends Operator>(
    lhs: L,
    op: Op,
    ...rhs: Rhs<Op, OperandType<ConflictScope<T, A>, L>>
  ): OnConflictBuilder<C, T, A>;
  /** `DO UPDATE … WHERE` a condition built by a callback or given as an expression. */
  where(condition: Condition<C, ConflictScope<T, A>>): OnConflictBuilder<C, T, A>;
  /** Implementation of the overloads above. */
  where(...args: unknown[]): OnConflictBuilder<C, T, A> {
    if (this.#node.action !== "update") {
      throw invalidQuery("onConflict where() applies to doUpdateSet(); call doUpdateSet() first");
    }
    return this.#with({ where: andNode(this.#node.where, conditionFromArgs(args)) });
  }
}

/**
 * An INSERT under construction (from `db.insertInto(table)`). `T` is the
 * table, `A` its alias, `O` the RETURNING row. Immutable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, InsertQueryBuilder, int8, table, text } from "../mod.ts";
 * const users = table("users", {
 *   id: int8().primaryKey().generatedByDefault(),
 *   name: text(),
 *   email: text().nullable().unique(),
 * });
 * const q = createQueryBuilder().insertInto(users)
 *   .values([{ name: "ann", email: "a@x" }, { name: "bob" }])
 *   .onConflict((oc) => oc.columns("email").doNothing())
 *   .returning("id");
 * assert.ok(q instanceof InsertQueryBuilder);
 * assert.equal(
 *   q.compile().sql,
 *   'INSERT INTO "users" ("name", "email") VALUES ($1, $2), ($3, DEFAULT) ' +
 *     'ON CONFLICT ("email") DO NOTHING RETURNING "users"."id"',
 * );
 * ```
 */
export class InsertQueryBuilder<C extends CteMap, T extends AnyTable, A extends string, O> {
  /** Type-level only: the RETURNING row. */
  declare readonly $output: O;
  readonly #node: InsertNode;
  readonly #executor: QueryExecutor | undefined;

  private constructor(node: InsertNode, executor: QueryExecutor | undefined) {
    this.#node = node;
    this.#executor = executor;
  }

  static {
    makeInsert = (node, executor) => new InsertQueryBuilder(node, executor);
    readInsert = (v) => v instanceof InsertQueryBuilder ? v.#node : undefined;
  }

  #with<B>(patch: Partial<InsertNode>): B {
    return new InsertQueryBuilder(freeze({ ...this.#node, ...patch }), this.#executor) as B;
  }

  /**
   * One row or several. Rows may differ in their keys: a column missing from
   * a row is written as `DEFAULT`; `undefined` counts as missing.
   */
  values(
    rows: InsertValues<T, C> | readonly InsertValues<T, C>[],
  ): InsertQueryBuilder<C, T, A, O> {
    const list: readonly unknown[] = Array.isArray(rows) ? rows : [rows];
    if (list.length === 0) throw invalidQuery("empty insert: values() got no rows");
    const columns: string[] = [];
    const index = new Map<string, number>();
    for (const row of list) {
      if (typeof row !== "object" || row === null || Array.isArray(row)) {
        throw invalidQuery(`an insert row must be an object, got ${describe(row)}`);
      }
      for (const [key, value] of Object.entries(row)) {
        if (value === undefined || index.has(key)) continue;
        assertIdentifier(key, "column");
        index.set(key, columns.length);
        columns.push(key);
      }
    }
    if (columns.length === 0) {
      throw invalidQuery("empty insert: no columns given (use defaultValues())");
    }
    const nodes = list.map((row) =>
      Object.freeze(columns.map((c) => {
        const v = (row as Record<string, unknown>)[c];
        return v === undefined ? DEFAULT : setValueNode(v);
      }))
    );
    return this.#with({
      columns: Object.freeze(columns),
      rows: Object.freeze(nodes),
      select: null,
      defaultValues: false,
    });
  }

  /**
   * `INSERT INTO t (columns) SELECT …`. Pass a callback to select from a CTE
   * of this builder: `fromSelect(cols, (eb) => eb.selectFrom("cte")…)`.
   */
  fromSelect(
    columns: readonly (keyof InsertRow<T> & string)[],
    query: SubqueryLike | ((eb: ExpressionBuilder<C, EmptyRow>) => SubqueryLike),
  ): InsertQueryBuilder<C, T, A, O> {
    if (typeof query === "function") query = query(expressionBuilder);
    const select: SelectNode | undefined = selectNodeOf(query);
    if (!select) throw invalidQuery("fromSelect() needs a select query");
    if (columns.length === 0) throw invalidQuery("fromSelect() needs a column list");
    for (const c of columns) assertIdentifier(c, "column");
    return this.#with({
      columns: Object.freeze([...columns]),
      rows: [],
      select,
      defaultValues: false,
    });
  }

  /** `INSERT INTO t DEFAULT VALUES`. */
  defaultValues(): InsertQueryBuilder<C, T, A, O> {
    return this.#with({ columns: [], rows: [], select: null, defaultValues: true });
  }

  /** `ON CONFLICT …`: `onConflict((oc) => oc.columns("email").doUpdateSet({ … }))`. */
  onConflict(
    build: (oc: OnConflictBuilder<C, T, A>) => OnConflictBuilder<C, T, A>,
  ): InsertQueryBuilder<C, T, A, O> {
    const result = build(makeOnConflict());
    if (!(result instanceof OnConflictBuilder)) {
      throw invalidQuery("onConflict() callback must return the conflict builder");
    }
    return this.#with({ onConflict: readOnConflict(result) });
  }

  /** `RETURNING …` (same item forms as select). */
  returning<const I extends readonly SelectArg<TargetScope<T, A>>[]>(
    ...items: I
  ): InsertQueryBuilder<C, T, A, O & Selection<TargetScope<T, A>, I[number]>> {
    return this.#with({
      returning: Object.freeze([...this.#node.returning, ...returningItems(items)]),
    });
  }

  /** `RETURNING *`. */
  returningAll(): InsertQueryBuilder<C, T, A, O & SelectRow<T>> {
    return this.#with({ returning: Object.freeze([...this.#node.returning, RETURNING_ALL]) });
  }

  /** Compile to SQL and parameters. */
  compile(): CompiledQuery {
    return compileNode(this.#node);
  }

  /** Run; rows are the RETURNING rows (none without RETURNING). */
  async execute(): Promise<Simplify<O>[]> {
    return await runWith<Simplify<O>>(this.#executor, this.compile());
  }

  /** The first RETURNING row, or `undefined`. */
  async executeTakeFirst(): Promise<Simplify<O> | undefined> {
    return (await this.execute())[0];
  }
}

/** A fresh INSERT node for `target`. */
export function insertNode(
  target: InsertNode["table"],
  ctes: InsertNode["ctes"],
): InsertNode {
  return freeze({
    kind: "insert",
    ctes,
    table: target,
    columns: [],
    rows: [],
    select: null,
    defaultValues: false,
    onConflict: null,
    returning: [],
  });
}
