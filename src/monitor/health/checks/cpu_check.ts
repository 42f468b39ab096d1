/**
 * CPU check: the 1-minute load average per core
 * (`Deno.loadavg()[0] / navigator.hardwareConcurrency`). Where the load
 * average is not available (Windows reports zeros; without --allow-sys it
 * throws) the check is degraded with a message rather than failing.
 *
 * @module
 */

import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { byThresholds, errorMessage, round2 } from "../_util.ts";

/** Options for {@linkcode cpuCheck}. */
export interface CpuCheckOptions {
  /** Check name. @default "cpu" */
  readonly name?: string;
  /** Probes it counts for (load informs; it does not gate traffic). @default [] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** Load per core at which the check is `degraded`. @default 1 */
  readonly degradedLoadPerCore?: number;
  /** Load per core at which the check is `unhealthy`. @default 2 */
  readonly unhealthyLoadPerCore?: number;
  /** Reads the 1-minute load average. @default () => Deno.loadavg()[0] */
  readonly readLoad?: () => number;
  /** Number of cores. @default () => navigator.hardwareConcurrency */
  readonly readCores?: () => number;
}

/**
 * A {@linkcode HealthCheck} of CPU load relative to the cores.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuCheck } from "./cpu_check.ts";
 * const check = cpuCheck({ readLoad: () => 9, readCores: () => 4 });
 * const outcome = await check.run(new AbortController().signal);
 * assert.equal(outcome.status, "unhealthy"); // 2.25 per core
 * ```
 */
export function cpuCheck(options: CpuCheckOptions = {}): HealthCheck {
  const degradedAt = options.degradedLoadPerCore ?? 1;
  const unhealthyAt = options.unhealthyLoadPerCore ?? 2;
  if (!(degradedAt <= unhealthyAt)) {
    throw new RangeError("Cannot create cpu check: degradedLoadPerCore is above unhealthy");
  }
  const readLoad = options.readLoad ?? (() => Deno.loadavg()[0]);
  const readCores = options.readCores ?? (() => navigator.hardwareConcurrency);
  return {
    name: options.name ?? "cpu",
    probes: options.probes ?? [],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    run(): CheckOutcome {
      let load: number;
      try {
        load = readLoad();
      } catch (err) {
        return {
          status: "degraded",
          message: `load average unavailable: ${errorMessage(err)}`,
          details: { available: false },
        };
      }
      const cores = Math.max(1, readCores() || 1);
      if (!Number.isFinite(load) || load < 0) {
        return {
          status: "degraded",
          message: "load average unavailable",
          details: { available: false, cores },
        };
      }
      const loadPerCore = round2(load / cores);
      const status = byThresholds(loadPerCore, degradedAt, unhealthyAt);
      const details = { load1: round2(load), cores, loadPerCore };
      return status === "healthy" ? { status, details } : {
        status,
        message: `load ${loadPerCore} per core ≥ ${
          status === "unhealthy" ? unhealthyAt : degradedAt
        }`,
        details,
      };
    },
  };
}
