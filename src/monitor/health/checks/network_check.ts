/**
 * Network check: TCP connect latency to configured targets
 * (`NETWORK_CHECK_TARGETS`: `host:port`, `[v6]:port` or URLs). No targets
 * (the default) → healthy and nothing is contacted. Some targets failing →
 * degraded; all failing → unhealthy; all answering but one slower than
 * `degradedMs` → degraded.
 *
 * @module
 */

import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { errorMessage, round2 } from "../_util.ts";

/** A target to connect to. */
export interface NetworkTarget {
  /** As configured (the key in `details`). */
  readonly label: string;
  /** Host name or IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  "http:": 80,
  "https:": 443,
  "postgres:": 5432,
  "postgresql:": 5432,
};

/**
 * Parse `host:port`, `[v6]:port` or a URL (`https://host` → port 443).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNetworkTarget } from "./network_check.ts";
 * assert.deepEqual(parseNetworkTarget("db.local:5432"), {
 *   label: "db.local:5432",
 *   hostname: "db.local",
 *   port: 5432,
 * });
 * assert.equal(parseNetworkTarget("https://example.com").port, 443);
 * ```
 * @throws {TypeError} when the target has no host or no valid port
 */
export function parseNetworkTarget(target: string): NetworkTarget {
  const label = target.trim();
  let hostname: string;
  let port: number;
  if (label.includes("://")) {
    let url: URL;
    try {
      url = new URL(label);
    } catch {
      throw new TypeError(`Cannot parse network target "${label}": not a URL`);
    }
    hostname = url.hostname;
    port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol] ?? NaN;
  } else {
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$/.exec(label);
    if (!m) throw new TypeError(`Cannot parse network target "${label}": expected host:port`);
    hostname = m[1] ?? m[2];
    port = Number(m[3]);
  }
  hostname = hostname.replace(/^\[|\]$/g, "");
  if (!hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`Cannot parse network target "${label}": no host or invalid port`);
  }
  return { label, hostname, port };
}

/** Options for {@linkcode networkCheck}. */
export interface NetworkCheckOptions {
  /** `host:port` / URL targets. @default [] (nothing is contacted) */
  readonly targets?: readonly string[];
  /** Check name. @default "network" */
  readonly name?: string;
  /** Probes it counts for (outside reachability informs, it does not gate traffic). @default [] */
  readonly probes?: readonly ProbeKind[];
  /** Runner timeout (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** Per-target connect timeout (ms). @default 2000 */
  readonly connectTimeoutMs?: number;
  /** A connect at or above this is `degraded` (ms). @default 1000 */
  readonly degradedMs?: number;
}

/**
 * A {@linkcode HealthCheck} of TCP connect latency to the targets, all
 * probed in parallel.
 *
 * @example No targets: nothing is contacted
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkCheck } from "./network_check.ts";
 * const outcome = await networkCheck().run(new AbortController().signal);
 * assert.deepEqual(outcome, { status: "healthy", details: { targets: 0 } });
 * ```
 * @throws {TypeError} when a target cannot be parsed
 */
export function networkCheck(options: NetworkCheckOptions = {}): HealthCheck {
  const targets = (options.targets ?? []).map(parseNetworkTarget);
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const degradedMs = options.degradedMs ?? 1000;
  return {
    name: options.name ?? "network",
    probes: options.probes ?? [],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      if (targets.length === 0) return { status: "healthy", details: { targets: 0 } };
      const outcomes = await Promise.all(
        targets.map((t) => connectLatency(t, connectTimeoutMs, signal)),
      );
      const latencyMs: Record<string, number> = {};
      const failed: Record<string, string> = {};
      const slow: string[] = [];
      targets.forEach((t, i) => {
        const o = outcomes[i];
        if (typeof o === "number") {
          latencyMs[t.label] = round2(o);
          if (o >= degradedMs) slow.push(t.label);
        } else {
          failed[t.label] = o.error;
        }
      });
      const failedCount = Object.keys(failed).length;
      const details = {
        targets: targets.length,
        reachable: targets.length - failedCount,
        latencyMs,
        ...(failedCount > 0 ? { failed } : {}),
      };
      if (failedCount === targets.length) {
        return { status: "unhealthy", message: "no network target reachable", details };
      }
      if (failedCount > 0) {
        return {
          status: "degraded",
          message: `${failedCount} of ${targets.length} network targets unreachable`,
          details,
        };
      }
      if (slow.length > 0) {
        return {
          status: "degraded",
          message: `slow connect (≥ ${degradedMs} ms): ${slow.join(", ")}`,
          details,
        };
      }
      return { status: "healthy", details };
    },
  };
}

async function connectLatency(
  t: NetworkTarget,
  timeoutMs: number,
  outer: AbortSignal,
): Promise<number | { error: string }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException("connect timed out", "TimeoutError")),
    timeoutMs,
  );
  const t0 = performance.now();
  try {
    const conn = await Deno.connect({
      hostname: t.hostname,
      port: t.port,
      signal: controller.signal,
    });
    const ms = performance.now() - t0;
    conn.close();
    return ms;
  } catch (err) {
    if (controller.signal.aborted && !outer.aborted) {
      return { error: `timed out after ${timeoutMs} ms` };
    }
    return { error: errorMessage(err) };
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onAbort);
  }
}
