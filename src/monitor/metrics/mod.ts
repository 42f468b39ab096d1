/**
 * Prometheus metrics for SomnyToo (issue #6): {@linkcode SomnyMetrics} owns a
 * private prom-client registry with the default process metrics and the
 * server's, security layer's, database's and health checks' figures, all
 * named `somnytoo_*` with bounded label sets (never an address).
 *
 * @example Serve /metrics
 * ```ts
 * import { SomnyMetrics } from "./mod.ts";
 *
 * const metrics = new SomnyMetrics({ defaultMetrics: false });
 * metrics.frame("in", 0x20, 64);
 * metrics.request(0x20, 0.002);
 * const text = await metrics.metrics();
 * console.assert(text.includes('somnytoo_frames_total{direction="in",type="echo"} 1'));
 * ```
 *
 * @module
 */

export {
  /**
   * The database's histogram bounds, ms (exported in seconds).
   *
   * @example
   * ```ts
   * import { DB_DURATION_BUCKETS_MS } from "./mod.ts";
   * console.assert(DB_DURATION_BUCKETS_MS[0] === 0.5);
   * ```
   */
  DB_DURATION_BUCKETS_MS,
  /**
   * The prom-client default gauges removed because their names end in
   * `_total` (promtool flags them); the per-type gauges remain.
   *
   * @example
   * ```ts
   * import { DROPPED_DEFAULT_METRICS } from "./mod.ts";
   * console.assert(DROPPED_DEFAULT_METRICS.includes("nodejs_active_handles_total"));
   * ```
   */
  DROPPED_DEFAULT_METRICS,
  /**
   * Value of `somnytoo_health_status` for a status.
   *
   * @example
   * ```ts
   * import { healthValue } from "./mod.ts";
   * console.assert(healthValue("degraded") === 0.5);
   * ```
   */
  healthValue,
  /**
   * The prefix of every metric name, `"somnytoo_"`.
   *
   * @example
   * ```ts
   * import { METRIC_PREFIX } from "./mod.ts";
   * console.assert(METRIC_PREFIX === "somnytoo_");
   * ```
   */
  METRIC_PREFIX,
  /**
   * What the metrics read from the database (`Database.stats()` fits).
   *
   * @example
   * ```ts
   * import type { MetricsDatabaseStats } from "./mod.ts";
   * const empty: MetricsDatabaseStats = {
   *   pool: { max: 1, inUse: 0, idle: 1, waiting: 0 },
   *   cache: { hits: 0, misses: 0 },
   *   queries: { queries: [] },
   * };
   * console.assert(empty.pool.max === 1);
   * ```
   */
  type MetricsDatabaseStats,
  /**
   * What the metrics read from the security layer (`SecurityLayer.stats()` fits).
   *
   * @example
   * ```ts
   * import type { MetricsSecurityStats } from "./mod.ts";
   * const s: MetricsSecurityStats = { refusedAtAccept: 0, rateLimited: 2, queryThrottled: 0 };
   * console.assert(s.rateLimited === 2);
   * ```
   */
  type MetricsSecurityStats,
  /**
   * What the metrics read from the server (`ServerStats.snapshot()` fits).
   *
   * @example
   * ```ts
   * import type { MetricsServerStats } from "./mod.ts";
   * const s: MetricsServerStats = {
   *   connectionsActive: 1,
   *   sessionsActive: 1,
   *   handshakes: { ok: 1 },
   *   errorsSent: {},
   *   shed: 0,
   * };
   * console.assert(s.handshakes.ok === 1);
   * ```
   */
  type MetricsServerStats,
  /**
   * Request latency buckets, seconds.
   *
   * @example
   * ```ts
   * import { REQUEST_BUCKETS_SECONDS } from "./mod.ts";
   * console.assert(REQUEST_BUCKETS_SECONDS.at(-1) === 10);
   * ```
   */
  REQUEST_BUCKETS_SECONDS,
  /**
   * The metrics of one process.
   *
   * @example
   * ```ts
   * import { SomnyMetrics } from "./mod.ts";
   * const metrics = new SomnyMetrics({
   *   defaultMetrics: false,
   *   serverStats: () => ({
   *     connectionsActive: 3,
   *     sessionsActive: 2,
   *     handshakes: { ok: 2, replay: 1 },
   *     errorsSent: { "5": 1 },
   *     shed: 1,
   *   }),
   * });
   * const text = await metrics.metrics();
   * console.assert(text.includes("somnytoo_connections 3"));
   * console.assert(text.includes('somnytoo_handshakes_total{result="replay"} 1'));
   * ```
   */
  SomnyMetrics,
  /**
   * Options of {@linkcode SomnyMetrics}.
   *
   * @example
   * ```ts
   * import type { SomnyMetricsOptions } from "./mod.ts";
   * const options: SomnyMetricsOptions = { requestTypes: { 0x30: "search" } };
   * console.assert(options.requestTypes?.[0x30] === "search");
   * ```
   */
  type SomnyMetricsOptions,
} from "./somny_metrics.ts";
export {
  /**
   * Control frame type names (`0x01 → "ping"`).
   *
   * @example
   * ```ts
   * import { CONTROL_TYPE_NAMES } from "./mod.ts";
   * console.assert(CONTROL_TYPE_NAMES.get(0x01) === "ping");
   * ```
   */
  CONTROL_TYPE_NAMES,
  /**
   * Application types named without registration (Echo, KV).
   *
   * @example
   * ```ts
   * import { DEFAULT_REQUEST_TYPE_NAMES } from "./mod.ts";
   * console.assert(DEFAULT_REQUEST_TYPE_NAMES.get(0x21) === "kv_put");
   * ```
   */
  DEFAULT_REQUEST_TYPE_NAMES,
  /**
   * A frame's direction: `"in"` or `"out"`.
   *
   * @example
   * ```ts
   * import type { FrameDirection } from "./mod.ts";
   * const d: FrameDirection = "in";
   * console.assert(d === "in");
   * ```
   */
  type FrameDirection,
  /**
   * Handshake result label values.
   *
   * @example
   * ```ts
   * import { HANDSHAKE_RESULTS } from "./mod.ts";
   * console.assert(HANDSHAKE_RESULTS.includes("replay"));
   * ```
   */
  HANDSHAKE_RESULTS,
  /**
   * Formats a type byte as the hex label value.
   *
   * @example
   * ```ts
   * import { hexType } from "./mod.ts";
   * console.assert(hexType(0x30) === "0x30");
   * ```
   */
  hexType,
  /**
   * The catch-all label value, `"other"`.
   *
   * @example
   * ```ts
   * import { OTHER } from "./mod.ts";
   * console.assert(OTHER === "other");
   * ```
   */
  OTHER,
  /**
   * Wire error code label values (`3 → "rate_limited"`).
   *
   * @example
   * ```ts
   * import { WIRE_ERROR_NAMES } from "./mod.ts";
   * console.assert(WIRE_ERROR_NAMES.get(3) === "rate_limited");
   * ```
   */
  WIRE_ERROR_NAMES,
} from "./labels.ts";
