/**
 * Database check: a `SELECT 1` round trip (`Database.ping()` connects when
 * the pool has no connection, so this covers connect + query). After a
 * failure the database is not contacted again until an exponential backoff
 * has elapsed (`backoffBaseMs · 2^(failures-1)`, capped at `backoffMaxMs`):
 * meanwhile the last failure is returned. A success resets the backoff.
 *
 * @module
 */

import { type Clock, systemClock } from "../../../util/mod.ts";
import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { abortable, errorMessage, round2 } from "../_util.ts";

/** What the check pings: {@linkcode Database} fits. */
export interface Pingable {
  /** Round trip of a trivial statement, in ms; rejects when the database is unreachable. */
  ping(): Promise<number>;
}

/** Options for {@linkcode databaseCheck}. */
export interface DatabaseCheckOptions {
  /** The database (anything with `ping(): Promise<number>`). */
  readonly database: Pingable;
  /** Check name. @default "database" */
  readonly name?: string;
  /** Probes it counts for (the database unreachable → take no traffic). @default ["readiness"] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** A round trip at or above this is `degraded` (ms). @default 100 */
  readonly degradedMs?: number;
  /** Backoff after the first failure (ms). @default 1000 */
  readonly backoffBaseMs?: number;
  /** Longest backoff (ms). @default 60000 */
  readonly backoffMaxMs?: number;
  /** Time for the backoff. @default systemClock */
  readonly clock?: Clock;
}

/**
 * A {@linkcode HealthCheck} of the database's round-trip time, with
 * exponential backoff after failures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { databaseCheck } from "./database_check.ts";
 * const check = databaseCheck({ database: { ping: () => Promise.resolve(3) } });
 * const outcome = await check.run(new AbortController().signal);
 * assert.equal(outcome.status, "healthy");
 * ```
 */
export function databaseCheck(options: DatabaseCheckOptions): HealthCheck {
  const clock = options.clock ?? systemClock;
  const degradedMs = options.degradedMs ?? 100;
  const baseMs = options.backoffBaseMs ?? 1000;
  const maxMs = options.backoffMaxMs ?? 60_000;
  if (!(baseMs > 0) || !(maxMs >= baseMs)) {
    throw new RangeError(
      `Cannot create database check: backoff ${baseMs}..${maxMs} ms is not a valid range`,
    );
  }
  let failures = 0;
  let retryAtMono = 0;
  let lastFailure: { message: string; atMs: number } | undefined;

  return {
    name: options.name ?? "database",
    probes: options.probes ?? ["readiness"],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      const now = clock.monotonic();
      if (failures > 0 && now < retryAtMono) {
        return {
          status: "unhealthy",
          message: lastFailure!.message,
          details: {
            consecutiveFailures: failures,
            backingOff: true,
            retryInMs: Math.ceil(retryAtMono - now),
            lastFailureAtMs: lastFailure!.atMs,
          },
        };
      }
      try {
        const ms = await abortable(options.database.ping(), signal);
        failures = 0;
        lastFailure = undefined;
        const roundTripMs = round2(ms);
        return ms >= degradedMs
          ? {
            status: "degraded",
            message: `round trip ${roundTripMs} ms ≥ ${degradedMs} ms`,
            details: { roundTripMs },
          }
          : { status: "healthy", details: { roundTripMs } };
      } catch (err) {
        failures++;
        const delay = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
        retryAtMono = clock.monotonic() + delay;
        lastFailure = { message: `database unreachable: ${errorMessage(err)}`, atMs: clock.now() };
        return {
          status: "unhealthy",
          message: lastFailure.message,
          details: { consecutiveFailures: failures, backingOff: false, retryInMs: delay },
        };
      }
    },
  };
}
