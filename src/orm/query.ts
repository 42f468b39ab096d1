/**
 * What a builder hands to whatever runs it: SQL text with `$n` placeholders,
 * the parameters, and what the statement touches (for the result cache's
 * invalidation and for metrics). The ORM is pure; `src/db/` implements
 * {@linkcode QueryExecutor} over postgres.js.
 *
 * @module
 */

/** The kind of statement, for metrics and routing. */
export type QueryOperation = "select" | "insert" | "update" | "delete" | "raw";

/** A statement ready to run: the only thing the compiler produces. */
export interface CompiledQuery {
  /** SQL text; every value is a `$n` placeholder. */
  readonly sql: string;
  /** Values for `$1…$n`, in order. */
  readonly params: readonly unknown[];
  readonly operation: QueryOperation;
  /** Tables the statement reads (FROM, joins, subqueries, CTE bodies), unquoted names. */
  readonly reads: readonly string[];
  /** Tables it writes (INSERT/UPDATE/DELETE target, data-modifying CTEs). */
  readonly writes: readonly string[];
  /**
   * Raw SQL text written by the caller (the `sql` tagged template's string
   * parts), which the executor screens for injection. Empty for builder
   * output, whose text the compiler wrote itself.
   */
  readonly rawText: readonly string[];
}

/** Runs compiled statements; implemented by `src/db/` (and by transactions). */
export interface QueryExecutor {
  /** Run `query` and return its rows (empty for statements without RETURNING). */
  execute<R>(query: CompiledQuery): Promise<R[]>;
}
