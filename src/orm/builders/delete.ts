/**
 * The DELETE builder: USING, WHERE, RETURNING. Without a WHERE clause it
 * refuses to compile (`ORM_UNSAFE_QUERY`) unless `allowAllRows()` was called.
 *
 * @module
 */

import { compileNode } from "../compiler.ts";
import { freeze } from "../nodes/freeze.ts";
import type { DeleteNode } from "../nodes/mod.ts";
import type {
  ComparisonOperator,
  CompiledQuery,
  Operator,
  QueryExecutor,
} from "../public_types.ts";
import type { AnyTable, SelectRow } from "../schema.ts";
import { andNode } from "./expression.ts";
import { type Condition, conditionFromArgs, refComparisonNode } from "./expression_builder.ts";
import { RETURNING_ALL, returningItems } from "./mutation.ts";
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
} from "./types.ts";

// deno-lint-ignore no-explicit-any
type AnyBuilder = DeleteQueryBuilder<any, any, any, any>;
let make: (node: DeleteNode, executor: QueryExecutor | undefined) => AnyBuilder;
let read: (value: unknown) => DeleteNode | undefined;

/** A builder over `node` (kept off the public API). */
export function newDeleteQueryBuilder<C extends CteMap, S extends Scope, T extends AnyTable, O>(
  node: DeleteNode,
  executor: QueryExecutor | undefined,
): DeleteQueryBuilder<C, S, T, O> {
  return make(node, executor);
}

/** The node of such a builder, or `undefined`. */
export function deleteNodeOf(value: unknown): DeleteNode | undefined {
  return read(value);
}

/**
 * A DELETE under construction (from `db.deleteFrom(table)`). `S` is the
 * scope (target and USING tables), `T` the target table, `O` the RETURNING
 * row. Compiling without a WHERE clause throws `ORM_UNSAFE_QUERY` unless
 * `allowAllRows()` was called.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createQueryBuilder, DeleteQueryBuilder, int8, table, text } from "../mod.ts";
 * const sessions = table("sessions", { id: int8().primaryKey(), user: text() });
 * const q = createQueryBuilder().deleteFrom(sessions).where("user", "=", "ann").returningAll();
 * assert.ok(q instanceof DeleteQueryBuilder);
 * assert.equal(
 *   q.compile().sql,
 *   'DELETE FROM "sessions" WHERE "sessions"."user" = $1 RETURNING *',
 * );
 * assert.throws(() => createQueryBuilder().deleteFrom(sessions).compile(), /no WHERE/);
 * ```
 */
export class DeleteQueryBuilder<C extends CteMap, S extends Scope, T extends AnyTable, O> {
  /** Type-level only: the RETURNING row. */
  declare readonly $output: O;
  readonly #node: DeleteNode;
  readonly #executor: QueryExecutor | undefined;

  private constructor(node: DeleteNode, executor: QueryExecutor | undefined) {
    this.#node = node;
    this.#executor = executor;
  }

  static {
    make = (node, executor) => new DeleteQueryBuilder(node, executor);
    read = (v) => v instanceof DeleteQueryBuilder ? v.#node : undefined;
  }

  #with<B>(patch: Partial<DeleteNode>): B {
    return new DeleteQueryBuilder(freeze({ ...this.#node, ...patch }), this.#executor) as B;
  }

  /** `USING source` (join it to the target in WHERE). */
  using<X extends SourceArg<C>>(source: X): DeleteQueryBuilder<C, S & SourceScope<C, X>, T, O> {
    return this.#with({ using: Object.freeze([...this.#node.using, sourceNode(source)]) });
  }

  /** Add a WHERE condition (ANDed), same forms as select's `where`. */
  where<L extends Operand<S>, Op extends Operator>(
    lhs: L,
    op: Op,
    ...rhs: Rhs<Op, OperandType<S, L>>
  ): DeleteQueryBuilder<C, S, T, O>;
  /** Add a WHERE condition built by a callback or given as an expression. */
  where(condition: Condition<C, S>): DeleteQueryBuilder<C, S, T, O>;
  /** Implementation of the overloads above. */
  where(...args: unknown[]): unknown {
    return this.#with({ where: andNode(this.#node.where, conditionFromArgs(args)) });
  }

  /** WHERE column op column. */
  whereRef(lhs: Ref<S>, op: ComparisonOperator, rhs: Ref<S>): DeleteQueryBuilder<C, S, T, O> {
    return this.#with({ where: andNode(this.#node.where, refComparisonNode(lhs, op, rhs)) });
  }

  /** Explicitly allow a DELETE without WHERE (every row). */
  allowAllRows(): DeleteQueryBuilder<C, S, T, O> {
    return this.#with({ allowAllRows: true });
  }

  /** `RETURNING …`. */
  returning<const I extends readonly SelectArg<S>[]>(
    ...items: I
  ): DeleteQueryBuilder<C, S, T, O & Selection<S, I[number]>> {
    return this.#with({
      returning: Object.freeze([...this.#node.returning, ...returningItems(items)]),
    });
  }

  /** `RETURNING *` (typed as the target's row). */
  returningAll(): DeleteQueryBuilder<C, S, T, O & SelectRow<T>> {
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

/** A fresh DELETE node. */
export function deleteNode(target: DeleteNode["table"], ctes: DeleteNode["ctes"]): DeleteNode {
  return freeze({
    kind: "delete",
    ctes,
    table: target,
    using: [],
    where: null,
    returning: [],
    allowAllRows: false,
  });
}
