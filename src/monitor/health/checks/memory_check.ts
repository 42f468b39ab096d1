/**
 * Memory check: the share of system memory in use
 * (`1 - available / total`, from `Deno.systemMemoryInfo()`) and the
 * process's resident set size (`Deno.memoryUsage().rss`), each graded
 * Normal / High / Critical → healthy / degraded / unhealthy; the worse of
 * the two wins.
 *
 * @module
 */

import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { byThresholds, errorMessage, round2 } from "../_util.ts";

/** Memory pressure grades. */
export type MemoryLevel = "normal" | "high" | "critical";

/** System memory figures (bytes). */
export interface SystemMemory {
  /** Physical memory. */
  readonly total: number;
  /** Memory available to new processes without swapping. */
  readonly available: number;
}

/** Options for {@linkcode memoryCheck}. */
export interface MemoryCheckOptions {
  /** Check name. @default "memory" */
  readonly name?: string;
  /** Probes it counts for. @default ["readiness"] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** System memory in use (%) at which the level is High. @default 85 */
  readonly systemHighPercent?: number;
  /** System memory in use (%) at which the level is Critical. @default 95 */
  readonly systemCriticalPercent?: number;
  /** Process RSS (bytes) at which the level is High. @default 1 GiB */
  readonly rssHighBytes?: number;
  /** Process RSS (bytes) at which the level is Critical. @default 2 GiB */
  readonly rssCriticalBytes?: number;
  /** Reads the process RSS (bytes). @default () => Deno.memoryUsage().rss */
  readonly readRss?: () => number;
  /** Reads system memory. @default Deno.systemMemoryInfo (needs --allow-sys) */
  readonly readSystem?: () => SystemMemory;
}

const LEVEL: Readonly<Record<string, MemoryLevel>> = {
  healthy: "normal",
  degraded: "high",
  unhealthy: "critical",
};

/**
 * A {@linkcode HealthCheck} of memory pressure.
 *
 * @example With injected readers
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryCheck } from "./memory_check.ts";
 * const check = memoryCheck({
 *   readRss: () => 100 * 2 ** 20,
 *   readSystem: () => ({ total: 100, available: 10 }), // 90 % in use
 * });
 * const outcome = await check.run(new AbortController().signal);
 * assert.equal(outcome.status, "degraded");
 * assert.equal(outcome.details?.level, "high");
 * ```
 */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheck {
  const sysHigh = options.systemHighPercent ?? 85;
  const sysCritical = options.systemCriticalPercent ?? 95;
  const rssHigh = options.rssHighBytes ?? 2 ** 30;
  const rssCritical = options.rssCriticalBytes ?? 2 * 2 ** 30;
  if (!(sysHigh <= sysCritical) || !(rssHigh <= rssCritical)) {
    throw new RangeError("Cannot create memory check: a High threshold is above its Critical one");
  }
  const readRss = options.readRss ?? (() => Deno.memoryUsage().rss);
  const readSystem = options.readSystem ?? (() => Deno.systemMemoryInfo());
  return {
    name: options.name ?? "memory",
    probes: options.probes ?? ["readiness"],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    run(): CheckOutcome {
      const rssBytes = readRss();
      const rssStatus = byThresholds(rssBytes, rssHigh, rssCritical);
      let system: SystemMemory | undefined;
      let systemError: string | undefined;
      try {
        system = readSystem();
      } catch (err) {
        systemError = errorMessage(err);
      }
      const usedPercent = system && system.total > 0
        ? round2((1 - system.available / system.total) * 100)
        : undefined;
      const sysStatus = usedPercent === undefined
        ? "healthy"
        : byThresholds(usedPercent, sysHigh, sysCritical);
      const status = sysStatus === "unhealthy" || rssStatus === "unhealthy"
        ? "unhealthy"
        : sysStatus === "degraded" || rssStatus === "degraded"
        ? "degraded"
        : "healthy";
      const details = {
        level: LEVEL[status],
        rssBytes,
        rssLevel: LEVEL[rssStatus],
        ...(system
          ? {
            systemTotalBytes: system.total,
            systemAvailableBytes: system.available,
            systemUsedPercent: usedPercent,
            systemLevel: LEVEL[sysStatus],
          }
          : { systemError }),
      };
      if (status === "healthy") return { status, details };
      const reasons: string[] = [];
      if (sysStatus !== "healthy") {
        reasons.push(`system memory ${usedPercent}% in use (${LEVEL[sysStatus]})`);
      }
      if (rssStatus !== "healthy") {
        reasons.push(`process RSS ${Math.round(rssBytes / 2 ** 20)} MiB (${LEVEL[rssStatus]})`);
      }
      return { status, message: reasons.join("; "), details };
    },
  };
}
