/**
 * Server check: reads the protocol server's counters
 * (`SomnyServer.stats()`). Unhealthy while the server is shutting down;
 * degraded when, since the previous run, the share of requests shed, the
 * share of handshakes that failed, or the rate of heartbeat timeouts is
 * above its threshold. The first run compares against zero (counters since
 * start) for the shares and skips the per-minute rate.
 *
 * @module
 */

import type { ServerStatsSnapshot } from "../../../server/mod.ts";
import { type Clock, systemClock } from "../../../util/mod.ts";
import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { round2 } from "../_util.ts";

/** The counters the check reads (`SomnyServer.stats()` returns more). */
export type ServerStatsLike = Pick<
  ServerStatsSnapshot,
  | "connectionsActive"
  | "sessionsActive"
  | "handshakes"
  | "requests"
  | "shed"
  | "heartbeatTimeouts"
>;

/** Options for {@linkcode serverCheck}. */
export interface ServerCheckOptions {
  /** The counters, e.g. `() => server.stats()`. */
  readonly stats: () => ServerStatsLike;
  /** True once shutdown began, e.g. `() => server.shuttingDown`. @default () => false */
  readonly shuttingDown?: () => boolean;
  /** Check name. @default "server" */
  readonly name?: string;
  /** Probes it counts for. @default ["readiness"] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** Shed requests / accepted requests since the last run, degraded at or above. @default 0.05 */
  readonly shedRatio?: number;
  /** Failed handshakes / handshakes since the last run, degraded at or above. @default 0.5 */
  readonly handshakeFailureRatio?: number;
  /** Handshakes needed before the failure share is judged. @default 20 */
  readonly minHandshakes?: number;
  /** Heartbeat timeouts per minute since the last run, degraded at or above. @default 60 */
  readonly heartbeatTimeoutsPerMinute?: number;
  /** Time for the per-minute rate. @default systemClock */
  readonly clock?: Clock;
}

function sum(record: Readonly<Record<string, number>>, skip?: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(record)) if (k !== skip) n += v;
  return n;
}

/**
 * A {@linkcode HealthCheck} of the protocol server's sessions and trouble rates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverCheck } from "./server_check.ts";
 * let shuttingDown = false;
 * const check = serverCheck({
 *   stats: () => ({
 *     connectionsActive: 2,
 *     sessionsActive: 2,
 *     handshakes: { ok: 2 },
 *     requests: 10,
 *     shed: 0,
 *     heartbeatTimeouts: 0,
 *   }),
 *   shuttingDown: () => shuttingDown,
 * });
 * assert.equal((await check.run(new AbortController().signal)).status, "healthy");
 * shuttingDown = true;
 * assert.equal((await check.run(new AbortController().signal)).status, "unhealthy");
 * ```
 */
export function serverCheck(options: ServerCheckOptions): HealthCheck {
  const clock = options.clock ?? systemClock;
  const shedRatio = options.shedRatio ?? 0.05;
  const failureRatio = options.handshakeFailureRatio ?? 0.5;
  const minHandshakes = options.minHandshakes ?? 20;
  const hbPerMin = options.heartbeatTimeoutsPerMinute ?? 60;
  let prev:
    | { atMono: number; requests: number; shed: number; hs: number; hsFail: number; hb: number }
    | undefined;
  return {
    name: options.name ?? "server",
    probes: options.probes ?? ["readiness"],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    run(): CheckOutcome {
      const s = options.stats();
      const now = {
        atMono: clock.monotonic(),
        requests: s.requests,
        shed: s.shed,
        hs: sum(s.handshakes),
        hsFail: sum(s.handshakes, "ok"),
        hb: s.heartbeatTimeouts,
      };
      const base = prev ?? { atMono: now.atMono, requests: 0, shed: 0, hs: 0, hsFail: 0, hb: 0 };
      const first = prev === undefined;
      prev = now;
      // Counters only grow; a smaller value means a new server: start over.
      const d = (a: number, b: number) => (a >= b ? a - b : a);
      const dRequests = d(now.requests, base.requests);
      const dShed = d(now.shed, base.shed);
      const dHs = d(now.hs, base.hs);
      const dHsFail = d(now.hsFail, base.hsFail);
      const dHb = d(now.hb, base.hb);
      const minutes = (now.atMono - base.atMono) / 60_000;
      const shed = dShed / Math.max(1, dRequests + dShed);
      const hsFailure = dHs > 0 ? dHsFail / dHs : 0;
      const hbRate = !first && minutes > 0 ? dHb / minutes : 0;
      const details = {
        sessionsActive: s.sessionsActive,
        connectionsActive: s.connectionsActive,
        requests: dRequests,
        shed: dShed,
        shedRatio: round2(shed),
        handshakes: dHs,
        handshakeFailures: dHsFail,
        handshakeFailureRatio: round2(hsFailure),
        heartbeatTimeouts: dHb,
        heartbeatTimeoutsPerMinute: round2(hbRate),
      };
      if (options.shuttingDown?.()) {
        return { status: "unhealthy", message: "server shutting down", details };
      }
      const reasons: string[] = [];
      if (dShed > 0 && shed >= shedRatio) reasons.push(`${round2(shed * 100)}% of requests shed`);
      if (dHs >= minHandshakes && hsFailure >= failureRatio) {
        reasons.push(`${round2(hsFailure * 100)}% of handshakes failed`);
      }
      if (dHb > 0 && hbRate >= hbPerMin) {
        reasons.push(`${round2(hbRate)} heartbeat timeouts/min`);
      }
      return reasons.length > 0
        ? { status: "degraded", message: reasons.join("; "), details }
        : { status: "healthy", details };
    },
  };
}
