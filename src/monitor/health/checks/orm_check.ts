/**
 * ORM check: reads `Database.stats()` and the latency quantiles
 * (`Database.latencyQuantileMs`). Judged: pool saturation (in use / size)
 * and callers waiting for a connection, the statement error rate since the
 * previous run, the p95 latency of the watched operations, and (only when
 * a minimum is set) the result-cache hit ratio. The quantiles come from
 * histograms kept since start, so they move slowly after a change.
 *
 * @module
 */

import type { DatabaseStats } from "../../../db/mod.ts";
import type { CheckOutcome, HealthCheck, HealthStatus, ProbeKind } from "../../types.ts";
import { round2 } from "../_util.ts";

/** Statement kinds (as the ORM names them). */
export type OrmOperation = "select" | "insert" | "update" | "delete" | "raw";

/** The parts of `Database.stats()` the check reads. */
export interface OrmStatsLike {
  /** Pool figures. */
  readonly pool: Pick<DatabaseStats["pool"], "max" | "inUse" | "waiting">;
  /** Result-cache figures. */
  readonly cache: Pick<DatabaseStats["cache"], "hits" | "misses">;
  /** Per-statement figures (errors and counts are summed). */
  readonly queries: {
    /** One entry per (operation, table). */
    readonly queries: readonly {
      readonly errors: number;
      readonly duration: { readonly count: number };
    }[];
  };
}

/** Options for {@linkcode ormCheck}. */
export interface OrmCheckOptions {
  /** e.g. `() => db.stats()`. */
  readonly stats: () => OrmStatsLike;
  /** e.g. `(op, p) => db.latencyQuantileMs(op, p)`. @default none (no percentiles) */
  readonly quantileMs?: (operation: OrmOperation, p: number) => number | undefined;
  /** Operations whose percentiles are reported and judged. @default ["select", "insert", "update", "delete"] */
  readonly operations?: readonly OrmOperation[];
  /** Check name. @default "orm" */
  readonly name?: string;
  /** Probes it counts for (informs; the database check gates readiness). @default [] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** Pool in use / size at or above which the check is `degraded`. @default 0.9 */
  readonly poolSaturation?: number;
  /** Callers waiting for a connection at or above which the check is `degraded`. @default 1 */
  readonly waitingDegraded?: number;
  /** … and `unhealthy`. @default 100 */
  readonly waitingUnhealthy?: number;
  /** Error share since the last run at or above which the check is `degraded`. @default 0.05 */
  readonly errorRateDegraded?: number;
  /** … and `unhealthy`. @default 0.5 */
  readonly errorRateUnhealthy?: number;
  /** Statements needed before the error rate is judged. @default 20 */
  readonly minStatements?: number;
  /** p95 latency (ms) of any watched operation at or above which the check is `degraded`. @default 500 */
  readonly p95DegradedMs?: number;
  /** Cache hit ratio below which the check is `degraded` (judged after 100 lookups). @default 0 (not judged) */
  readonly minCacheHitRatio?: number;
}

/**
 * A {@linkcode HealthCheck} of the database layer's pool, errors, latency and cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ormCheck } from "./orm_check.ts";
 * const check = ormCheck({
 *   stats: () => ({
 *     pool: { max: 10, inUse: 10, waiting: 3 },
 *     cache: { hits: 0, misses: 0 },
 *     queries: { queries: [] },
 *   }),
 * });
 * const outcome = await check.run(new AbortController().signal);
 * assert.equal(outcome.status, "degraded");
 * ```
 */
export function ormCheck(options: OrmCheckOptions): HealthCheck {
  const operations = options.operations ?? ["select", "insert", "update", "delete"];
  const saturationAt = options.poolSaturation ?? 0.9;
  const waitingDegraded = options.waitingDegraded ?? 1;
  const waitingUnhealthy = options.waitingUnhealthy ?? 100;
  const errDegraded = options.errorRateDegraded ?? 0.05;
  const errUnhealthy = options.errorRateUnhealthy ?? 0.5;
  const minStatements = options.minStatements ?? 20;
  const p95At = options.p95DegradedMs ?? 500;
  const minHit = options.minCacheHitRatio ?? 0;
  let prev: { count: number; errors: number } | undefined;
  return {
    name: options.name ?? "orm",
    probes: options.probes ?? [],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    run(): CheckOutcome {
      const s = options.stats();
      let count = 0;
      let errors = 0;
      for (const q of s.queries.queries) {
        count += q.duration.count;
        errors += q.errors;
      }
      const base = prev && prev.count <= count ? prev : { count: 0, errors: 0 };
      prev = { count, errors };
      const dCount = count - base.count;
      const dErrors = Math.max(0, errors - base.errors);
      const errorRate = dCount > 0 ? dErrors / dCount : 0;
      const saturation = s.pool.max > 0 ? s.pool.inUse / s.pool.max : 0;
      const lookups = s.cache.hits + s.cache.misses;
      const hitRatio = lookups > 0 ? s.cache.hits / lookups : undefined;
      const latency: Record<string, { p50?: number; p95?: number; p99?: number }> = {};
      const slow: string[] = [];
      if (options.quantileMs) {
        for (const op of operations) {
          const p95 = options.quantileMs(op, 0.95);
          if (p95 === undefined) continue;
          latency[op] = {
            p50: options.quantileMs(op, 0.5),
            p95,
            p99: options.quantileMs(op, 0.99),
          };
          if (p95 >= p95At) slow.push(`${op} p95 ${p95} ms`);
        }
      }
      const details = {
        pool: { max: s.pool.max, inUse: s.pool.inUse, waiting: s.pool.waiting },
        poolSaturation: round2(saturation),
        statements: dCount,
        errors: dErrors,
        errorRate: round2(errorRate),
        cacheHitRatio: hitRatio === undefined ? null : round2(hitRatio),
        latencyMs: latency,
      };
      let status: HealthStatus = "healthy";
      const reasons: string[] = [];
      const worse = (st: HealthStatus, why: string) => {
        reasons.push(why);
        if (st === "unhealthy" || status === "healthy") status = st;
      };
      if (s.pool.waiting >= waitingUnhealthy) {
        worse("unhealthy", `${s.pool.waiting} callers waiting for a connection`);
      } else if (s.pool.waiting >= waitingDegraded) {
        worse("degraded", `${s.pool.waiting} callers waiting for a connection`);
      }
      if (s.pool.max > 0 && saturation >= saturationAt) {
        worse("degraded", `pool ${round2(saturation * 100)}% in use`);
      }
      if (dCount >= minStatements && errorRate >= errDegraded) {
        worse(
          errorRate >= errUnhealthy ? "unhealthy" : "degraded",
          `${round2(errorRate * 100)}% of statements failed`,
        );
      }
      if (slow.length > 0) worse("degraded", `slow: ${slow.join(", ")}`);
      if (minHit > 0 && hitRatio !== undefined && lookups >= 100 && hitRatio < minHit) {
        worse("degraded", `cache hit ratio ${round2(hitRatio)} < ${minHit}`);
      }
      return status === "healthy"
        ? { status, details }
        : { status, message: reasons.join("; "), details };
    },
  };
}
