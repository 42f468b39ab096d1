/**
 * The application's database: a postgres.js pool behind a
 * {@linkcode ConnectionGate} (bounded waits), running the ORM's compiled
 * statements with a statement timeout, the SQL guard (injection screening,
 * per-caller rate limit), a result cache invalidated by writes, per-query
 * metrics, and transactions with savepoints, isolation levels, a deadline
 * and retry on serialization failures.
 */

import postgres from "postgres";
import type { CacheConfig, DatabaseConfig, OrmConfig } from "../config/mod.ts";
import { DatabaseError, SomnyError } from "../errors.ts";
import type { CompiledQuery, QueryExecutor } from "../orm/mod.ts";
import { type Clock, type Logger, noopLogger, systemClock } from "../util/mod.ts";
import { ConnectionGate } from "./connection_gate.ts";
import { installPostgresWriteRaceGuard } from "./driver_guard.ts";
import { toDatabaseError } from "./pg_errors.ts";
import { QueryMetrics, type QueryMetricsSnapshot } from "./query_metrics.ts";
import { ResultCache, type ResultCacheStats } from "./result_cache.ts";
import { StatementCache } from "./statement_cache.ts";

/** Screens statements before they run; throw to refuse one. */
export interface QueryGuard {
  /** Called for every statement, with the caller it runs for. */
  check(query: CompiledQuery, caller: string): void;
}

/** The caller of statements run without {@linkcode Database.forCaller}. */
export const INTERNAL_CALLER = "internal";

/** Options for {@linkcode Database}. */
export interface DatabaseOptions {
  /** postgres:// URL. */
  readonly url: string;
  readonly database: DatabaseConfig;
  readonly cache: CacheConfig;
  readonly orm: OrmConfig;
  /** Pool size override (the embedded database takes one connection). */
  readonly maxConnections?: number;
  /** Schema search path for every connection (e.g. `"tenant_a,public"`). */
  readonly searchPath?: string;
  readonly guard?: QueryGuard;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Transaction isolation levels (PostgreSQL's four; READ UNCOMMITTED behaves as READ COMMITTED). */
export type IsolationLevel =
  | "read uncommitted"
  | "read committed"
  | "repeatable read"
  | "serializable";

/** Options for {@linkcode Database.transaction}. */
export interface TransactionOptions {
  readonly isolation?: IsolationLevel;
  readonly readOnly?: boolean;
  /** Deadline for the whole transaction. @default database.defaultTransactionTimeoutMs */
  readonly timeoutMs?: number;
  /** Re-runs after a serialization failure or deadlock. @default 0 */
  readonly retries?: number;
}

/** Runs statements inside one transaction; `transaction` nests a savepoint. */
export interface Transaction extends QueryExecutor {
  /** Run `fn` in a savepoint: its failure rolls back to the savepoint only. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/** A view of the database for one caller (rate limit and security events are per caller). */
export interface CallerDatabase extends QueryExecutor {
  readonly caller: string;
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

/** Pool figures. */
export interface PoolStats {
  readonly max: number;
  readonly inUse: number;
  readonly idle: number;
  readonly waiting: number;
}

/** Everything the monitoring layer reads. */
export interface DatabaseStats {
  readonly pool: PoolStats;
  readonly cache: ResultCacheStats;
  readonly statements: { readonly prepared: number; readonly unprepared: number };
  /** Times the pool was replaced after losing its connections. */
  readonly poolResets: number;
  readonly queries: QueryMetricsSnapshot;
}

type Sql = postgres.Sql<{ bigint: bigint; bytea: Uint8Array }>;
// postgres.js's transaction handle has the same unsafe() / savepoint() we use.
type TxSql = postgres.TransactionSql<{ bigint: bigint; bytea: Uint8Array }>;

// A statement that starts with SELECT and has no data-modifying keyword.
const PLAIN_SELECT = /^\s*select\b(?![\s\S]*\b(?:insert|update|delete|merge|truncate|into)\b)/i;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** postgres.js types: int8 → bigint, bytea ↔ Uint8Array (not Buffer). */
export const PG_TYPES = {
  bigint: postgres.BigInt,
  bytea: {
    to: 17,
    from: [17],
    serialize: (x: Uint8Array) => {
      let s = "\\x";
      for (let i = 0; i < x.length; i++) s += HEX[x[i]];
      return s;
    },
    parse: (x: string) => {
      const out = new Uint8Array((x.length - 2) >> 1);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(x.substr(2 + 2 * i, 2), 16);
      return out;
    },
  },
};

interface Listener {
  readonly channel: string;
  readonly onPayload: (payload: string) => void;
  handle: Promise<{ unlisten(): Promise<void> }> | undefined;
}

/** See module doc. */
export class Database implements QueryExecutor {
  #sql: Sql;
  readonly #makeSql: () => Sql;
  #poolResets = 0;
  readonly #gate: ConnectionGate;
  readonly #statements: StatementCache;
  readonly #cache: ResultCache | undefined;
  readonly #metrics: QueryMetrics;
  readonly #o: DatabaseOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #inFlight = new Set<InFlight>();
  #sweepTimer: number | undefined;
  #sweepEveryMs = Infinity;
  #closed = false;
  readonly #listeners = new Set<Listener>();

  constructor(options: DatabaseOptions) {
    this.#o = options;
    installPostgresWriteRaceGuard();
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    const c = options.database;
    const max = options.maxConnections ?? c.maxConnections;
    this.#makeSql = () =>
      postgres(options.url, {
        max,
        connect_timeout: Math.max(1, Math.ceil(c.connectionTimeoutMs / 1000)),
        idle_timeout: Math.max(1, Math.round(c.idleTimeoutMs / 1000)),
        max_lifetime: Math.max(1, Math.round(c.maxLifetimeMs / 1000)),
        prepare: c.enablePreparedStatements,
        // Server-side statement timeout; the client-side deadline in #run backs
        // it up (the embedded database ignores startup parameters).
        connection: {
          statement_timeout: c.queryTimeoutMs,
          ...(options.searchPath ? { search_path: options.searchPath } : {}),
        },
        onnotice: () => {},
        types: PG_TYPES,
      }) as unknown as Sql;
    this.#sql = this.#makeSql();
    this.#gate = new ConnectionGate(max, c.acquireTimeoutMs, this.#clock);
    this.#statements = new StatementCache(c.statementCacheSize);
    this.#cache = options.cache.enableQueryCache
      ? new ResultCache({
        maxEntries: options.cache.queryCacheSize,
        ttlMs: options.cache.queryCacheTtlSeconds * 1000,
        clock: this.#clock,
      })
      : undefined;
    this.#metrics = new QueryMetrics(options.orm.slowQueryMs);
  }

  /**
   * Replace the postgres.js pool after a connection-level failure. Why: in
   * Deno, a postgres.js 3.4 connection that the server closes in the middle
   * of a transaction (`pg_terminate_backend`, a restart) never connects
   * again (every later attempt ends in CONNECT_TIMEOUT); a fresh pool does.
   * Only the pool the failure came from is replaced (a failure from an
   * already-replaced pool changes nothing).
   */
  #resetPool(failed: Sql): void {
    if (this.#closed || failed !== this.#sql) return;
    this.#poolResets++;
    const old = this.#sql;
    this.#sql = this.#makeSql();
    old.end({ timeout: 0 }).catch(() => {});
    // The old pool's LISTEN connections end with it: subscribe again on the new one.
    for (const l of this.#listeners) this.#subscribe(l);
    this.#logger.warn("database connection lost; opened a new pool", { resets: this.#poolResets });
  }

  /**
   * Subscribe to a PostgreSQL notification channel (`LISTEN`) on a dedicated
   * connection of the pool (postgres.js reconnects it by itself; after a pool
   * reset it is subscribed again). Notifications sent while it was
   * disconnected are lost: callers that need every change also resync.
   * Not for the embedded database: its socket server accepts one connection,
   * which the pool holds.
   * @throws {DatabaseError} when the first subscription fails
   */
  async listen(
    channel: string,
    onPayload: (payload: string) => void,
  ): Promise<{ unlisten(): Promise<void> }> {
    if (this.#closed) throw new DatabaseError("DB_CLOSED", "Database is closed");
    const l: Listener = { channel, onPayload, handle: undefined };
    this.#listeners.add(l);
    try {
      await this.#subscribe(l);
    } catch (e) {
      this.#listeners.delete(l);
      throw toDatabaseError(e);
    }
    return {
      unlisten: async () => {
        if (!this.#listeners.delete(l)) return;
        const h = await l.handle?.catch(() => undefined);
        await h?.unlisten().catch(() => {});
      },
    };
  }

  #subscribe(l: Listener): Promise<{ unlisten(): Promise<void> }> {
    l.handle = this.#sql.listen(l.channel, (payload) => {
      if (this.#listeners.has(l)) l.onPayload(payload);
    }) as Promise<{ unlisten(): Promise<void> }>;
    l.handle.catch((e) => this.#logger.warn("LISTEN failed", { channel: l.channel, error: e }));
    return l.handle;
  }

  /**
   * Send a notification (`pg_notify`) to every session listening on
   * `channel` (payload under 8000 bytes). Runs like any statement (gate,
   * deadline, metrics) but is not screened by the guard: the text is ours.
   * @throws {DatabaseError}
   */
  async notify(channel: string, payload: string): Promise<void> {
    await this.#run({
      sql: "SELECT pg_notify($1, $2)",
      params: [channel, payload],
      operation: "raw",
      reads: [],
      writes: [],
      rawText: [],
    }, undefined);
  }

  /** Pool size. */
  get maxConnections(): number {
    return this.#gate.size;
  }

  /** Run a compiled statement for the internal caller. */
  execute<R>(query: CompiledQuery): Promise<R[]> {
    return this.#execute<R>(query, INTERNAL_CALLER, undefined);
  }

  /** The same database seen as `caller` (its rate limit, its security events). */
  forCaller(caller: string): CallerDatabase {
    return {
      caller,
      execute: (q) => this.#execute(q, caller, undefined),
      transaction: (fn, options) => this.#transaction(fn, options, caller),
    };
  }

  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when
   * it throws or the deadline passes (then `DB_TIMEOUT`). With `retries`,
   * a serialization failure or deadlock re-runs `fn` from the start.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.#transaction(fn, options, INTERNAL_CALLER);
  }

  /** Round trip of `SELECT 1` in ms (health checks). */
  async ping(): Promise<number> {
    const t0 = this.#clock.monotonic();
    await this.#run({
      sql: "SELECT 1",
      params: [],
      operation: "raw",
      reads: [],
      writes: [],
      rawText: [],
    }, undefined);
    return this.#clock.monotonic() - t0;
  }

  /** Counters for monitoring. */
  stats(): DatabaseStats {
    const inUse = this.#gate.inUse;
    return {
      pool: {
        max: this.#gate.size,
        inUse,
        idle: this.#gate.size - inUse,
        waiting: this.#gate.waiting,
      },
      cache: this.#cache?.stats() ?? { hits: 0, misses: 0, entries: 0, invalidations: 0 },
      statements: { prepared: this.#statements.prepared, unprepared: this.#statements.unprepared },
      poolResets: this.#poolResets,
      queries: this.#metrics.snapshot(),
    };
  }

  /** Estimated p-quantile of statement durations for an operation (ms). */
  latencyQuantileMs(operation: CompiledQuery["operation"], p: number): number | undefined {
    return this.#metrics.quantileMs(operation, p);
  }

  /** Forget every cached result. */
  clearCache(): void {
    this.#cache?.clear();
  }

  /**
   * Open `count` connections now (postgres.js opens them lazily), so the
   * first requests do not pay for connecting: the pool's minimum.
   */
  async warmUp(count: number): Promise<void> {
    const n = Math.min(count, this.#gate.size);
    const reserved = await Promise.all(
      Array.from({ length: n }, () => this.#sql.reserve()),
    );
    for (const r of reserved) r.release();
  }

  /** Close every connection (waits up to `timeoutMs` for running statements). */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#gate.close();
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#listeners.clear();
    await this.#sql.end({ timeout: Math.max(0, timeoutMs / 1000) });
  }

  // The hot path is plain promise chaining rather than nested async
  // functions: one statement costs one `then` on postgres.js's query, which
  // measured a few µs less per call (docs/PERFORMANCE.md, ORM section).
  #execute<R>(query: CompiledQuery, caller: string, tx: TxState | undefined): Promise<R[]> {
    try {
      this.#o.guard?.check(query, caller);
    } catch (e) {
      return Promise.reject(e);
    }
    // Without a result cache there is nothing to look up or invalidate.
    if (this.#cache === undefined) return this.#run<R>(query, tx);
    return this.#executeCached<R>(query, this.#cache, tx);
  }

  async #executeCached<R>(
    query: CompiledQuery,
    cache: ResultCache,
    tx: TxState | undefined,
  ): Promise<R[]> {
    const cacheable = tx === undefined && query.operation === "select" &&
      query.reads.length > 0 && query.writes.length === 0;
    let key: string | undefined;
    if (cacheable) {
      key = ResultCache.key(query.sql, query.params);
      const hit = cache.get<R>(key);
      if (hit) return hit;
    }
    const rows = await this.#run<R>(query, tx);
    // Raw SQL other than a plain SELECT may write tables the ORM cannot
    // name: drop every cached result (at the end of a transaction, too).
    if (query.operation === "raw" && !PLAIN_SELECT.test(query.sql)) {
      cache.clear();
      if (tx) tx.flags.clearsCache = true;
    }
    if (query.writes.length > 0) {
      // Invalidate now and, for a transaction, again at its end: a read
      // cached meanwhile by another caller saw the pre-commit state.
      cache.invalidate(query.writes);
      tx?.writes.push(...query.writes);
    }
    if (key !== undefined) cache.set(key, rows, query.reads);
    return rows;
  }

  /** Run one statement: gate slot (outside a transaction), deadline, metrics. */
  #run<R>(query: CompiledQuery, tx: TxState | undefined): Promise<R[]> {
    if (this.#closed) return Promise.reject(new DatabaseError("DB_CLOSED", "Database is closed"));
    // A transaction already holds its connection (and its gate slot).
    if (tx) return this.#send<R>(query, tx);
    let waiting: Promise<void> | void;
    try {
      waiting = this.#gate.acquire();
    } catch (e) {
      return Promise.reject(e);
    }
    return waiting
      ? waiting.then(() => this.#send<R>(query, undefined))
      : this.#send<R>(query, undefined);
  }

  /**
   * Send the statement and settle with its rows, a `DatabaseError`, or
   * `DB_TIMEOUT` from the client-side deadline, whichever comes first. Runs
   * with the gate slot held (outside a transaction) and releases it.
   */
  #send<R>(query: CompiledQuery, tx: TxState | undefined): Promise<R[]> {
    const t0 = this.#clock.monotonic();
    const ms = tx
      ? tx.remainingMs(this.#o.database.queryTimeoutMs)
      : this.#o.database.queryTimeoutMs;
    const sql = tx ? tx.sql : this.#sql;
    return new Promise<R[]>((resolve, reject) => {
      const entry: InFlight = {
        deadline: t0 + ms,
        ms,
        cancel: () => {},
        finish: (rows, error) => {
          if (entry.done) return;
          entry.done = true;
          this.#inFlight.delete(entry);
          if (!tx) this.#gate.release();
          this.#record(query, t0, rows ? rows.length : 0, error?.code);
          if (error) reject(error);
          else resolve(rows as R[]);
        },
        done: false,
      };
      if (ms <= 0) {
        entry.finish(
          undefined,
          new DatabaseError("DB_TIMEOUT", "Database deadline already passed"),
        );
        return;
      }
      let pending: postgres.PendingQuery<postgres.Row[]>;
      try {
        const prepare = this.#o.database.enablePreparedStatements &&
          this.#statements.admit(query.sql);
        // deno-lint-ignore no-explicit-any
        pending = sql.unsafe(query.sql, query.params as any[], { prepare });
      } catch (e) {
        entry.finish(undefined, toDatabaseError(e));
        return;
      }
      entry.cancel = () => pending.cancel();
      this.#inFlight.add(entry);
      this.#armSweep(ms);
      pending.then(
        // A plain array: postgres.js's result list carries driver details
        // (statement, columns) that callers should not come to depend on.
        (result) => entry.finish(Array.prototype.slice.call(result) as R[], undefined),
        (e) => {
          const err = toDatabaseError(e);
          if (err.code === "DB_UNAVAILABLE" && !tx) this.#resetPool(sql);
          entry.finish(undefined, err);
        },
      );
    });
  }

  #record(query: CompiledQuery, t0: number, rows: number, errorCode: string | undefined): void {
    const ms = this.#clock.monotonic() - t0;
    const table = query.writes[0] ?? query.reads[0] ?? "";
    this.#metrics.record(query.operation, table, ms, rows, errorCode);
    if (this.#o.orm.logQueries || ms >= this.#o.orm.slowQueryMs) {
      // Never the parameters: they may hold anything a client sent.
      this.#logger.info(ms >= this.#o.orm.slowQueryMs ? "slow query" : "query", {
        sql: query.sql.length > 500 ? query.sql.slice(0, 500) + "…" : query.sql,
        ms: Math.round(ms * 10) / 10,
        rows,
        ...(errorCode ? { error: errorCode } : {}),
      });
    }
  }

  // Client-side deadline: cancel the statement and fail with DB_TIMEOUT.
  // One sweep timer per database checks every statement in flight (armed
  // only while there are some) instead of a timer per statement, which
  // measured as the largest part of this layer's per-query cost. It fires
  // within a quarter of the timeout (at most 250 ms) after the deadline; the
  // server's statement_timeout is the precise bound. The timer is left to
  // fire once more after the last statement settles rather than cleared:
  // clearing and re-arming it around every statement would cost what the
  // sweep saves. With nothing in flight it does not re-arm.
  #armSweep(ms: number): void {
    const every = Math.max(5, Math.min(250, ms / 4));
    if (this.#sweepTimer !== undefined && every >= this.#sweepEveryMs) return;
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepEveryMs = every;
    this.#sweepTimer = this.#clock.setTimeout(() => this.#sweep(), every);
  }

  #sweep(): void {
    this.#sweepTimer = undefined;
    const now = this.#clock.monotonic();
    let shortest = Infinity;
    for (const e of this.#inFlight) {
      if (now >= e.deadline) {
        e.cancel();
        e.finish(
          undefined,
          new DatabaseError("DB_TIMEOUT", `Database query exceeded ${Math.round(e.ms)} ms`),
        );
      } else {
        shortest = Math.min(shortest, e.ms);
      }
    }
    this.#sweepEveryMs = Infinity;
    if (this.#inFlight.size > 0) this.#armSweep(shortest);
  }

  async #transaction<T>(
    fn: (tx: Transaction) => Promise<T>,
    options: TransactionOptions = {},
    caller: string,
  ): Promise<T> {
    const retries = options.retries ?? 0;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#transactionOnce(fn, options, caller);
      } catch (e) {
        if (
          attempt < retries && e instanceof DatabaseError && e.code === "DB_SERIALIZATION_FAILURE"
        ) {
          this.#logger.debug("transaction retried after a serialization failure", { attempt });
          continue;
        }
        throw e;
      }
    }
  }

  async #transactionOnce<T>(
    fn: (tx: Transaction) => Promise<T>,
    options: TransactionOptions,
    caller: string,
  ): Promise<T> {
    if (this.#closed) throw new DatabaseError("DB_CLOSED", "Database is closed");
    const timeoutMs = options.timeoutMs ?? this.#o.database.defaultTransactionTimeoutMs;
    const deadline = this.#clock.monotonic() + timeoutMs;
    const modes = [
      options.isolation ? `isolation level ${options.isolation}` : "",
      options.readOnly ? "read only" : "",
    ].filter(Boolean).join(" ");
    const w = this.#gate.acquire();
    if (w) await w;
    const writes: string[] = [];
    let clearsCache = false;
    let expired = false;
    let timer: number | undefined;
    // What the caller's own code threw comes back unchanged (after the rollback).
    let userError: { error: unknown } | undefined;
    let pool: Sql | undefined;
    try {
      const body = (sql: TxSql): Promise<T> => {
        const state = this.#txState(sql, deadline, writes, () => expired);
        return fn(this.#txHandle(state, caller)).then((r) => {
          clearsCache ||= state.flags.clearsCache;
          // A body that outlived its deadline must not commit.
          if (expired) throw timeoutError(timeoutMs);
          return r;
        }, (e) => {
          clearsCache ||= state.flags.clearsCache;
          if (!(e instanceof SomnyError)) userError = { error: e };
          throw e;
        });
      };
      pool = this.#sql;
      const run = (modes ? pool.begin(modes, body) : pool.begin(body)) as Promise<T>;
      const timeout = new Promise<never>((_, reject) => {
        timer = this.#clock.setTimeout(() => {
          expired = true;
          reject(timeoutError(timeoutMs));
        }, timeoutMs);
      });
      // The rollback still happens: `run` settles once the body notices.
      run.catch(() => {});
      return await Promise.race([run, timeout]);
    } catch (e) {
      if (userError && userError.error === e) throw e;
      const err = e instanceof SomnyError ? e : toDatabaseError(e, "transaction");
      if (err.code === "DB_UNAVAILABLE" && pool) this.#resetPool(pool);
      throw err;
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      this.#gate.release();
      if (clearsCache) this.#cache?.clear();
      else if (writes.length > 0) this.#cache?.invalidate(writes);
    }
  }

  #txState(sql: TxSql, deadline: number, writes: string[], expired: () => boolean): TxState {
    const clock = this.#clock;
    return {
      sql: sql as unknown as Sql,
      writes,
      flags: { clearsCache: false },
      remainingMs(cap: number) {
        if (expired()) return 0;
        return Math.min(cap, deadline - clock.monotonic());
      },
      savepoint: <T>(f: (s: TxSql) => Promise<T>) => sql.savepoint(f) as Promise<T>,
    };
  }

  #txHandle(state: TxState, caller: string): Transaction {
    return {
      execute: <R>(q: CompiledQuery) => this.#execute<R>(q, caller, state),
      transaction: <T>(fn: (tx: Transaction) => Promise<T>) =>
        state.savepoint((s) =>
          fn(
            this.#txHandle({
              ...state,
              sql: s as unknown as Sql,
              savepoint: (f) => s.savepoint(f) as never,
            }, caller),
          )
        ),
    };
  }
}

/** A statement in flight: settled once, by its result or by the deadline sweep. */
interface InFlight {
  readonly deadline: number;
  readonly ms: number;
  cancel(): void;
  finish(rows: unknown[] | undefined, error: SomnyError | undefined): void;
  done: boolean;
}

interface TxState {
  readonly sql: Sql;
  readonly writes: string[];
  /** Shared by a transaction and its savepoints. */
  readonly flags: { clearsCache: boolean };
  remainingMs(cap: number): number;
  savepoint<T>(f: (s: TxSql) => Promise<T>): Promise<T>;
}

function timeoutError(ms: number): DatabaseError {
  return new DatabaseError("DB_TIMEOUT", `Transaction exceeded its ${ms} ms deadline; rolled back`);
}
