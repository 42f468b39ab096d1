/**
 * The database layer: postgres.js underneath, the embedded PGlite by default
 * (served on a loopback port, so the same postgres.js path runs), pooling
 * with bounded waits, statement timeouts, a result cache invalidated by
 * writes, per-query metrics, transactions and versioned migrations. Only
 * this folder imports `npm:postgres` and `npm:@electric-sql/*`.
 *
 * @example
 * ```ts ignore
 * import { CONFIG_DEFAULTS } from "../config/mod.ts";
 * import { openDatabase } from "./mod.ts";
 *
 * const { db, close } = await openDatabase({
 *   database: { ...CONFIG_DEFAULTS.database, embeddedDir: "./.somnytoo/db" },
 *   cache: CONFIG_DEFAULTS.cache,
 *   orm: CONFIG_DEFAULTS.orm,
 * });
 * console.log(await db.ping(), "ms");
 * await close();
 * ```
 *
 * @module
 */

export { backoffDelayMs, type BackoffOptions } from "./backoff.ts";
export { ConnectionGate } from "./connection_gate.ts";
export {
  type CallerDatabase,
  Database,
  type DatabaseOptions,
  type DatabaseStats,
  INTERNAL_CALLER,
  type IsolationLevel,
  PG_TYPES,
  type PoolStats,
  type QueryGuard,
  type Transaction,
  type TransactionOptions,
} from "./database.ts";
export {
  EMBEDDED_MAX_CONNECTIONS,
  type EmbeddedDatabase,
  type EmbeddedDatabaseOptions,
  startEmbeddedDatabase,
} from "./embedded.ts";
export {
  migrate,
  type Migration,
  migrationChecksum,
  type MigrationReport,
  MIGRATIONS_TABLE,
} from "./migrations.ts";
export { PROJECT_MIGRATIONS } from "./migrations/mod.ts";
export {
  type DatabaseSettings,
  openDatabase,
  type OpenDatabaseOptions,
  type OpenedDatabase,
  redactUrl,
} from "./open.ts";
export { SQLSTATE, toDatabaseError } from "./pg_errors.ts";
export { createQueryGuard, type QueryGuardOptions } from "./query_guard.ts";
export {
  DURATION_BUCKETS_MS,
  type DurationHistogram,
  type QueryFigures,
  QueryMetrics,
  type QueryMetricsSnapshot,
} from "./query_metrics.ts";
export { ResultCache, type ResultCacheOptions, type ResultCacheStats } from "./result_cache.ts";
export { StatementCache } from "./statement_cache.ts";
