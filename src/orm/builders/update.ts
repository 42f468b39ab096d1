/**
 * The UPDATE builder: SET values or expressions, optional FROM, WHERE,
 * RETURNING. Without a WHERE clause it refuses to compile
 * (`ORM_UNSAFE_QUERY`) unless `allowAllRows()` was called.
 *
 * @module
 */

import { compileNode } from "../compiler.ts";
import { invalidQuery } from "../errors.ts";
import { freeze } from "../nodes/freeze.ts";
import type { UpdateNode } from "../nodes/mod.ts";
import type {
  ComparisonOperator,
  CompiledQuery,
  Operator,
  QueryExecutor,
} from "../public_types.ts";
import type { AnyTable, SelectRow } from "../schema.ts";
import { andNode } from "./expression.ts";
import { type Condition, conditionFromArgs, refComparisonNode } from "./expression_builder.ts";
import { RETURNING_ALL, returningItems, setNodes } from "./mutation.ts";
import { runWith, sourceNode } from "./select.ts";
import type {
  CteMap,
  Operand,
  OperandType,
  Ref,
  Rhs,
  Scope,
  SelectArg,
  Selection,
  Simplify,
  SourceArg,
  SourceScope,
  UpdateSet,
} from "./types.ts";

// deno-lint-ignore no-explicit-any
type AnyBuilder = UpdateQueryBuilder<any, any, any, any>;
let make: (node: UpdateNode, executor: QueryExecutor | undefined) => AnyBuilder;
let read: (value: unknown) => UpdateNode | undefined;

/** A builder over `node` (kept off the public API). */
export function newUpdateQueryBuilder<C extends CteMap, S extends Scope, T extends AnyTable, O>(
  node: UpdateNode,
  executor: QueryExecutor | undefined,
): UpdateQueryBuilder<C, S, T, O> {
  return make(node, executor);
}

/** The node of such a builder, or `undefined`. */
export function updateNodeOf(value: unknown): UpdateNode | undefined {
  return read(value);
}

/**
 * An UPDATE under construction (from `db.updateTable(table)`). `S` is the
 * scope (target and FROM tables), `T` the target table, `O` the RETURNING
 * row. Compiling without a WHERE clause throws `ORM_UNSAFE_QUERY` unless
 * `allowAllRows()` was called.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, int4, table, text, UpdateQueryBuilder } from "../mod.ts";
 * const counters = table("counters", { key: text().primaryKey(), n: int4() });
 * const q = createQueryBuilder().updateTable(counters)
 *   .set({ n: (eb) => eb.op("n", "+", 1) }).where("key", "=", "a").returning("n");
 * assert.ok(q instanceof UpdateQueryBuilder);
 * assert.equal(
 *   q.compile().sql,
 *   'UPDATE "counters" SET "n" = "counters"."n" + $1 WHERE "counters"."key" = $2 ' +
 *     'RETURNING "counters"."n"',
 * );
 * assert.throws(() => createQueryBuilder().updateTable(counters).set({ n: 0 }).compile(), /no WHERE/);
 * ```
 */
export class UpdateQueryBuilder<C extends CteMap, S extends Scope, T extends AnyTable, O> {
  /** Type-level only: the RETURNING row. */
  declare readonly $output: O;
  readonly #node: UpdateNode;
  readonly #executor: QueryExecutor | undefined;

  private constructor(node: UpdateNode, executor: QueryExecutor | undefined) {
    this.#node = node;
    this.#executor = executor;
  }

  static {
    make = (node, executor) => new UpdateQueryBuilder(node, executor);
    read = (v) => v instanceof UpdateQueryBuilder ? v.#node : undefined;
  }

  #with<B>(patch: Partial<UpdateNode>): B {
    return new UpdateQueryBuilder(freeze({ ...this.#node, ...patch }), this.#executor) as B;
  }

  /**
   * `SET col = value, …`: values, expressions (`eb.op("n", "+", 1)`),
   * subqueries or callbacks. Later calls override earlier keys;
   * `undefined` values are skipped.
   */
  set(values: UpdateSet<C, S, T>): UpdateQueryBuilder<C, S, T, O> {
    const added = setNodes(values);
    if (added.length === 0) throw invalidQuery("set() got no columns");
    const keep = this.#node.set.filter((s) => !added.some((a) => a.column === s.column));
    return this.#with({ set: Object.freeze([...keep, ...added]) });
  }

  /** `FROM source` (PostgreSQL's UPDATE … FROM; join it to the target in WHERE). */
  from<X extends SourceArg<C>>(
    source: X,
  ): UpdateQueryBuilder<C, S & SourceScope<C, X>, T, O> {
    return this.#with({ from: Object.freeze([...this.#node.from, sourceNode(source)]) });
  }

  /** Add a WHERE condition (ANDed), same forms as select's `where`. */
  where<L extends Operand<S>, Op extends Operator>(
    lhs: L,
    op: Op,
    ...rhs: Rhs<Op, OperandType<S, L>>
  ): UpdateQueryBuilder<C, S, T, O>;
  /** Add a WHERE condition built by a callback or given as an expression. */
  where(condition: Condition<C, S>): UpdateQueryBuilder<C, S, T, O>;
  /** Implementation of the overloads above. */
  where(...args: unknown[]): unknown {
    return this.#with({ where: andNode(this.#node.where, conditionFromArgs(args)) });
  }

  /** WHERE column op column. */
  whereRef(lhs: Ref<S>, op: ComparisonOperator, rhs: Ref<S>): UpdateQueryBuilder<C, S, T, O> {
    return this.#with({ where: andNode(this.#node.where, refComparisonNode(lhs, op, rhs)) });
  }

  /** Explicitly allow an UPDATE without WHERE (every row). */
  allowAllRows(): UpdateQueryBuilder<C, S, T, O> {
    return this.#with({ allowAllRows: true });
  }

  /** `RETURNING …`. */
  returning<const I extends readonly SelectArg<S>[]>(
    ...items: I
  ): UpdateQueryBuilder<C, S, T, O & Selection<S, I[number]>> {
    return this.#with({
      returning: Object.freeze([...this.#node.returning, ...returningItems(items)]),
    });
  }

  /** `RETURNING *` (typed as the target's row). */
  returningAll(): UpdateQueryBuilder<C, S, T, O & SelectRow<T>> {
    return this.#with({ returning: Object.freeze([...this.#node.returning, RETURNING_ALL]) });
  }

  /** Compile to SQL and parameters. */
  compile(): CompiledQuery {
    return compileNode(this.#node);
  }

  /** Run; rows are the RETURNING rows. */
  async execute(): Promise<Simplify<O>[]> {
    return await runWith<Simplify<O>>(this.#executor, this.compile());
  }

  /** The first RETURNING row, or `undefined`. */
  async executeTakeFirst(): Promise<Simplify<O> | undefined> {
    return (await this.execute())[0];
  }
}

/** A fresh UPDATE node. */
export function updateNode(target: UpdateNode["table"], ctes: UpdateNode["ctes"]): UpdateNode {
  return freeze({
    kind: "update",
    ctes,
    table: target,
    set: [],
    from: [],
    where: null,
    returning: [],
    allowAllRows: false,
  });
}
