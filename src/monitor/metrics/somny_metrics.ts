/**
 * SomnyToo's Prometheus metrics over prom-client (issue #6): one private
 * `Registry`, the default process metrics, and the server's, the security
 * layer's, the database's and the health checks' figures.
 *
 * Two ways in:
 * - hot-path hooks the server calls (`frame`, `request`, `decision`, …):
 *   each adds to a slot of a typed array, allocating nothing; the slots are
 *   flushed into prom-client's counters (through label children resolved
 *   once) when the registry is collected;
 * - snapshot functions (`serverStats`, `databaseStats`, `securityStats`,
 *   `healthResults`), read once per scrape from prom-client `collect()`
 *   callbacks. Counters fed from cumulative snapshots add the difference
 *   since the previous scrape; a reading below the previous one means the
 *   source restarted, and the whole reading counts (counters never go
 *   backwards).
 *
 * Each family has exactly one source, so the server may both call every
 * hook and pass every snapshot without double counting: with `serverStats`,
 * handshakes, errors and shed requests come from the snapshot and the
 * `handshake`/`error`/`shed` hooks (and `request`'s `errorCode`) are ignored.
 */

import client from "prom-client";
import { DURATION_BUCKETS_MS } from "../../db/mod.ts";
import type { CheckResult, HealthStatus } from "../types.ts";
import { BucketHistogram, DeltaTracker } from "./_bucket_histogram.ts";
import {
  CONTROL_TYPE_NAMES,
  DB_OPERATIONS,
  DECISION_NAMES,
  DEFAULT_REQUEST_TYPE_NAMES,
  ENFORCEMENT_NAMES,
  type FrameDirection,
  HANDSHAKE_RESULTS,
  HEALTH_VALUES,
  hexType,
  OTHER,
  POOL_STATES,
  WIRE_ERROR_NAMES,
} from "./labels.ts";

/** The prefix of every metric name. */
export const METRIC_PREFIX = "somnytoo_";

/**
 * prom-client's default gauges whose names end in `_total` (promtool:
 * "non-counter metrics should not have _total suffix"). They are removed;
 * the same figures stay available as the per-type gauges
 * `somnytoo_nodejs_active_handles`, `somnytoo_nodejs_active_requests` and
 * `somnytoo_nodejs_active_resources` (`sum()` of each gives the total).
 */
export const DROPPED_DEFAULT_METRICS: readonly string[] = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** Request latency buckets, seconds (0.5 ms … 10 s). */
export const REQUEST_BUCKETS_SECONDS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/**
 * The database's own histogram bounds in ms (`db/query_metrics.ts`
 * DURATION_BUCKETS_MS, the same array). The exported histogram uses them in
 * seconds.
 */
export const DB_DURATION_BUCKETS_MS: readonly number[] = DURATION_BUCKETS_MS;

/** What the metrics read from the server's stats (`server` ServerStatsSnapshot satisfies it). */
export interface MetricsServerStats {
  /** Connections open now. */
  readonly connectionsActive: number;
  /** Sessions past the handshake now. */
  readonly sessionsActive: number;
  /** Cumulative, by handshake outcome. */
  readonly handshakes: Readonly<Record<string, number>>;
  /** Cumulative, by wire error code (decimal string). */
  readonly errorsSent: Readonly<Record<string, number>>;
  /** Cumulative shed requests. */
  readonly shed: number;
}

/** What the metrics read from the database (`db` DatabaseStats satisfies it). */
export interface MetricsDatabaseStats {
  /** Pool figures now. */
  readonly pool: {
    readonly max: number;
    readonly inUse: number;
    readonly idle: number;
    readonly waiting: number;
  };
  /** Cumulative. */
  readonly cache: { readonly hits: number; readonly misses: number };
  /** Statement figures. */
  readonly queries: {
    /** Cumulative, per (operation, table), bucketed by {@linkcode DB_DURATION_BUCKETS_MS}. */
    readonly queries: readonly {
      readonly operation: string;
      readonly table: string;
      readonly duration: {
        readonly counts: readonly number[];
        readonly sumMs: number;
        readonly count: number;
      };
    }[];
  };
}

/** What the metrics read from the security layer (`server` SecurityLayerStats satisfies it). */
export interface MetricsSecurityStats {
  /** Cumulative connections refused at accept. */
  readonly refusedAtAccept: number;
  /** Cumulative requests refused with Error 3. */
  readonly rateLimited: number;
  /** Cumulative statements refused by a query throttle. */
  readonly queryThrottled: number;
  /** Bans in force now, when the layer reports it (else {@linkcode SomnyMetrics.setActiveBans}). */
  readonly activeBans?: number;
}

/** Options of {@linkcode SomnyMetrics}. */
export interface SomnyMetricsOptions {
  /** Server counters (connections, sessions, handshakes, errors, shed). */
  readonly serverStats?: () => MetricsServerStats;
  /** Database figures (query durations, cache, pool). */
  readonly databaseStats?: () => MetricsDatabaseStats;
  /** Security layer counters (enforcement decisions, active bans). */
  readonly securityStats?: () => MetricsSecurityStats;
  /** Latest health check results. */
  readonly healthResults?: () => readonly CheckResult[];
  /** Register prom-client's default process metrics (prefixed). @default true */
  readonly defaultMetrics?: boolean;
  /** Application types named beyond Echo and KV (`0x30 → "search"`). @default {} */
  readonly requestTypes?: Readonly<Record<number, string>>;
  /** Request latency buckets, seconds. @default REQUEST_BUCKETS_SECONDS */
  readonly requestBucketsSeconds?: readonly number[];
  /** Most distinct health check names exported (later ones are left out). @default 64 */
  readonly maxHealthChecks?: number;
}

const LABEL_VALUE = /^[a-z0-9_]{1,40}$/;
const OTHER_DECISION = DECISION_NAMES.size;

/** See module doc. */
export class SomnyMetrics {
  readonly #registry: client.Registry;
  readonly #opts: SomnyMetricsOptions;
  readonly #hookServer: boolean;
  readonly #maxHealthChecks: number;

  // type byte → name; undefined = "other"
  readonly #typeNames: (string | undefined)[] = new Array(256).fill(undefined);

  readonly #connections: client.Gauge;
  readonly #sessions: client.Gauge;
  readonly #handshakes: client.Counter<"result">;
  readonly #frames: client.Counter<"direction" | "type">;
  readonly #frameBytes: client.Counter<"direction" | "type">;
  readonly #requests: BucketHistogram;
  readonly #errors: client.Counter<"code">;
  readonly #shed: client.Counter;
  readonly #decisions: client.Counter<"decision">;
  readonly #activeBans: client.Gauge;
  readonly #dbDuration: BucketHistogram;
  readonly #cacheHits: client.Counter;
  readonly #cacheMisses: client.Counter;
  readonly #pool: client.Gauge<"state">;
  readonly #poolMax: client.Gauge;
  readonly #health: client.Gauge<"check">;

  // Hot-path slots: [direction * 256 + type].
  readonly #frameCount = new Float64Array(512);
  readonly #frameByteCount = new Float64Array(512);
  readonly #frameChildren: { inc(n: number): void }[] = [];
  readonly #byteChildren: { inc(n: number): void }[] = [];
  // type byte → series of #requests
  readonly #requestSeries = new Int32Array(256);
  readonly #handshakeIndex = new Map<string, number>();
  readonly #handshakeCount = new Float64Array(HANDSHAKE_RESULTS.length + 1);
  readonly #errorCount = new Float64Array(257); // 256 = out of range
  readonly #decisionCount = new Float64Array(DECISION_NAMES.size + 1);
  readonly #decisionIndex = new Map<string, number>();
  #shedCount = 0;
  #bansSet: number | undefined;

  readonly #serverDeltas = new DeltaTracker();
  readonly #securityDeltas = new DeltaTracker();
  readonly #cacheDeltas = new DeltaTracker();
  readonly #dbLast = new Map<string, { counts: Float64Array; sumMs: number; count: number }>();
  readonly #healthNames = new Set<string>();
  #refreshing = false;

  /**
   * Build the registry and every metric.
   *
   * @param options snapshot sources and settings
   * @throws {RangeError} for a request type outside 0x20–0x7F or non-increasing buckets
   * @throws {TypeError} for a type name that is not snake_case
   */
  constructor(options: SomnyMetricsOptions = {}) {
    this.#opts = options;
    this.#hookServer = options.serverStats === undefined;
    this.#maxHealthChecks = options.maxHealthChecks ?? 64;
    const registry = this.#registry = new client.Registry();
    if (options.defaultMetrics ?? true) {
      client.collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
      for (const name of DROPPED_DEFAULT_METRICS) {
        registry.removeSingleMetric(METRIC_PREFIX + name);
      }
    }
    const refresh = (): void => this.#refresh();
    const p = METRIC_PREFIX;
    const registers = [registry];

    this.#connections = new client.Gauge({
      name: `${p}connections`,
      help: "Open client connections (accepted, not yet closed).",
      registers,
      collect: refresh,
    });
    this.#sessions = new client.Gauge({
      name: `${p}sessions`,
      help: "Sessions past the handshake.",
      registers,
      collect: refresh,
    });
    this.#handshakes = new client.Counter({
      name: `${p}handshakes_total`,
      help: "Handshakes by result (ok or the refusal reason).",
      labelNames: ["result"],
      registers,
      collect: refresh,
    });
    this.#frames = new client.Counter({
      name: `${p}frames_total`,
      help: "Frames by direction (in/out) and packet type name (other: unregistered types).",
      labelNames: ["direction", "type"],
      registers,
      collect: refresh,
    });
    this.#frameBytes = new client.Counter({
      name: `${p}frame_bytes_total`,
      help: "Frame bytes on the wire by direction and packet type name.",
      labelNames: ["direction", "type"],
      registers,
      collect: refresh,
    });
    this.#requests = new BucketHistogram(
      `${p}request_duration_seconds`,
      "Application request latency by request type, from decode to reply.",
      "type",
      options.requestBucketsSeconds ?? REQUEST_BUCKETS_SECONDS,
    );
    registry.registerMetric(this.#requests as unknown as client.Metric);
    this.#errors = new client.Counter({
      name: `${p}errors_total`,
      help: "Error frames sent, by wire error code name.",
      labelNames: ["code"],
      registers,
      collect: refresh,
    });
    this.#shed = new client.Counter({
      name: `${p}requests_shed_total`,
      help: "Requests shed by the scheduler (answered Error 5).",
      registers,
      collect: refresh,
    });
    this.#decisions = new client.Counter({
      name: `${p}security_decisions_total`,
      help: "Security decisions by kind, and refusals enforcing them.",
      labelNames: ["decision"],
      registers,
      collect: refresh,
    });
    this.#activeBans = new client.Gauge({
      name: `${p}security_active_bans`,
      help: "Addresses banned now.",
      registers,
      collect: refresh,
    });
    this.#dbDuration = new BucketHistogram(
      `${p}db_query_duration_seconds`,
      "Database statement duration by operation.",
      "operation",
      DB_DURATION_BUCKETS_MS.map((ms) => ms / 1000),
      refresh,
    );
    registry.registerMetric(this.#dbDuration as unknown as client.Metric);
    this.#cacheHits = new client.Counter({
      name: `${p}db_cache_hits_total`,
      help: "Result cache hits.",
      registers,
      collect: refresh,
    });
    this.#cacheMisses = new client.Counter({
      name: `${p}db_cache_misses_total`,
      help: "Result cache misses.",
      registers,
      collect: refresh,
    });
    this.#pool = new client.Gauge({
      name: `${p}db_pool_connections`,
      help: "Database pool connections by state (in_use, idle; waiting: callers queued).",
      labelNames: ["state"],
      registers,
      collect: refresh,
    });
    this.#poolMax = new client.Gauge({
      name: `${p}db_pool_max_connections`,
      help: "Database pool size.",
      registers,
      collect: refresh,
    });
    this.#health = new client.Gauge({
      name: `${p}health_status`,
      help: "Health check status: 1 healthy, 0.5 degraded, 0 unhealthy.",
      labelNames: ["check"],
      registers,
      collect: refresh,
    });

    // Names, label children and zeroed series.
    for (const [t, name] of CONTROL_TYPE_NAMES) this.#typeNames[t] = name;
    this.#requestSeries.fill(this.#requests.series(OTHER));
    for (let i = 0; i < 512; i++) {
      this.#frameChildren.push({ inc: () => {} });
      this.#byteChildren.push({ inc: () => {} });
    }
    for (const [t, name] of DEFAULT_REQUEST_TYPE_NAMES) this.#setTypeName(t, name);
    for (const [t, name] of Object.entries(options.requestTypes ?? {})) {
      this.registerType(Number(t), name);
    }
    for (let t = 0; t < 256; t++) this.#resolveFrameChildren(t);
    HANDSHAKE_RESULTS.forEach((r, i) => {
      this.#handshakeIndex.set(r, i);
      this.#handshakes.inc({ result: r }, 0);
    });
    this.#handshakes.inc({ result: OTHER }, 0);
    for (const name of WIRE_ERROR_NAMES.values()) this.#errors.inc({ code: name }, 0);
    this.#errors.inc({ code: OTHER }, 0);
    let d = 0;
    for (const [kind, name] of DECISION_NAMES) {
      this.#decisionIndex.set(kind, d++);
      this.#decisions.inc({ decision: name }, 0);
    }
    for (const name of Object.values(ENFORCEMENT_NAMES)) this.#decisions.inc({ decision: name }, 0);
    this.#shed.inc(0);
    this.#cacheHits.inc(0);
    this.#cacheMisses.inc(0);
    this.#activeBans.set(0);
    for (const op of DB_OPERATIONS) this.#dbDuration.series(op);
  }

  /** The registry (private to this instance, never prom-client's global one). */
  get registry(): client.Registry {
    return this.#registry;
  }

  /** The `Content-Type` of {@linkcode metrics}'s text. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    return this.#registry.metrics();
  }

  /**
   * Name an application type, so its frames and requests get their own
   * label value (a handler was registered for it). Unregistered types are
   * counted as "other", so the label set stays bounded (at most 96 names).
   *
   * @param type 0x20–0x7F
   * @param name snake_case label value @default the type in hex ("0x30")
   * @throws {RangeError} outside 0x20–0x7F
   * @throws {TypeError} when `name` is not 1–40 of `[a-z0-9_]`
   */
  registerType(type: number, name: string = hexType(type)): void {
    if (!Number.isInteger(type) || type < 0x20 || type > 0x7f) {
      throw new RangeError(`Cannot register metric type ${type}: not in 0x20–0x7F`);
    }
    if (!LABEL_VALUE.test(name)) {
      throw new TypeError(`Cannot register metric type ${hexType(type)}: bad name "${name}"`);
    }
    if (this.#typeNames[type] === name) return;
    this.#flushFrames();
    this.#setTypeName(type, name);
    this.#resolveFrameChildren(type);
  }

  /** The label value frames and requests of `type` are counted under. */
  typeLabel(type: number): string {
    return (type >= 0 && type < 256 ? this.#typeNames[type] : undefined) ?? OTHER;
  }

  /** Hot path: one frame of `bytes` bytes on the wire (any type; unregistered → "other"). */
  frame(direction: FrameDirection, type: number, bytes: number): void {
    const i = (direction === "out" ? 256 : 0) + (type >= 0 && type < 256 ? type | 0 : 0);
    this.#frameCount[i]++;
    this.#frameByteCount[i] += bytes;
  }

  /**
   * Hot path: one application request answered after `seconds`.
   * `errorCode` (a wire error code) counts an Error reply when there is no
   * `serverStats` source.
   */
  request(type: number, seconds: number, errorCode?: number): void {
    this.#requests.observe(this.#requestSeries[type >= 0 && type < 256 ? type | 0 : 0], seconds);
    if (errorCode !== undefined) this.error(errorCode);
  }

  /** One Error frame sent (ignored with a `serverStats` source, which counts them). */
  error(code: number): void {
    if (this.#hookServer) this.#errorCount[code >= 0 && code < 256 ? code | 0 : 256]++;
  }

  /** One handshake outcome (ignored with a `serverStats` source). */
  handshake(result: string): void {
    if (!this.#hookServer) return;
    this.#handshakeCount[this.#handshakeIndex.get(result) ?? HANDSHAKE_RESULTS.length]++;
  }

  /** One request shed (ignored with a `serverStats` source). */
  shed(): void {
    if (this.#hookServer) this.#shedCount++;
  }

  /** One security decision: "Accept", "RateLimit", "TempBan", "PermanentBan", "QueryThrottle". */
  decision(kind: string): void {
    this.#decisionCount[this.#decisionIndex.get(kind) ?? OTHER_DECISION]++;
  }

  /** Bans in force now (used unless `securityStats` reports `activeBans`). */
  setActiveBans(count: number): void {
    this.#bansSet = count;
  }

  #setTypeName(type: number, name: string): void {
    this.#typeNames[type] = name;
    if (type >= 0x20 && type <= 0x7f) this.#requestSeries[type] = this.#requests.series(name);
  }

  #resolveFrameChildren(type: number): void {
    const name = this.typeLabel(type);
    for (const [d, direction] of [[0, "in"], [1, "out"]] as const) {
      const labels = { direction, type: name };
      this.#frames.inc(labels, 0);
      this.#frameBytes.inc(labels, 0);
      this.#frameChildren[d * 256 + type] = this.#frames.labels(labels);
      this.#byteChildren[d * 256 + type] = this.#frameBytes.labels(labels);
    }
  }

  #flushFrames(): void {
    const counts = this.#frameCount;
    const bytes = this.#frameByteCount;
    for (let i = 0; i < 512; i++) {
      if (counts[i] > 0) {
        this.#frameChildren[i].inc(counts[i]);
        counts[i] = 0;
      }
      if (bytes[i] > 0) {
        this.#byteChildren[i].inc(bytes[i]);
        bytes[i] = 0;
      }
    }
  }

  // Once per scrape: every collect() of a scrape runs in the same
  // synchronous sweep of Registry.metrics(), so a microtask ends the sweep.
  #refresh(): void {
    if (this.#refreshing) return;
    this.#refreshing = true;
    queueMicrotask(() => (this.#refreshing = false));
    this.#flushFrames();
    this.#flushHooks();
    const o = this.#opts;
    if (o.serverStats) this.#readServer(o.serverStats());
    if (o.securityStats) this.#readSecurity(o.securityStats());
    else this.#activeBans.set(this.#bansSet ?? 0);
    if (o.databaseStats) this.#readDatabase(o.databaseStats());
    if (o.healthResults) this.#readHealth(o.healthResults());
  }

  #flushHooks(): void {
    HANDSHAKE_RESULTS.forEach((r, i) => {
      if (this.#handshakeCount[i] > 0) this.#handshakes.inc({ result: r }, this.#handshakeCount[i]);
    });
    const other = this.#handshakeCount[HANDSHAKE_RESULTS.length];
    if (other > 0) this.#handshakes.inc({ result: OTHER }, other);
    this.#handshakeCount.fill(0);
    for (let c = 0; c < this.#errorCount.length; c++) {
      const n = this.#errorCount[c];
      if (n > 0) this.#errors.inc({ code: WIRE_ERROR_NAMES.get(c) ?? OTHER }, n);
    }
    this.#errorCount.fill(0);
    if (this.#shedCount > 0) this.#shed.inc(this.#shedCount);
    this.#shedCount = 0;
    let d = 0;
    for (const name of DECISION_NAMES.values()) {
      const n = this.#decisionCount[d++];
      if (n > 0) this.#decisions.inc({ decision: name }, n);
    }
    if (this.#decisionCount[OTHER_DECISION] > 0) {
      this.#decisions.inc({ decision: OTHER }, this.#decisionCount[OTHER_DECISION]);
    }
    this.#decisionCount.fill(0);
  }

  #readServer(s: MetricsServerStats): void {
    this.#connections.set(s.connectionsActive);
    this.#sessions.set(s.sessionsActive);
    const hs = Object.entries(s.handshakes);
    const errors = Object.entries(s.errorsSent);
    const readings: [string, number][] = [["shed", s.shed]];
    for (const [outcome, n] of hs) readings.push([`hs:${outcome}`, n]);
    for (const [code, n] of errors) readings.push([`err:${code}`, n]);
    const d = this.#serverDeltas.deltas(readings);
    if (d[0] > 0) this.#shed.inc(d[0]);
    hs.forEach(([outcome], i) => {
      const n = d[1 + i];
      if (n > 0) {
        this.#handshakes.inc({ result: this.#handshakeIndex.has(outcome) ? outcome : OTHER }, n);
      }
    });
    errors.forEach(([code], i) => {
      const n = d[1 + hs.length + i];
      if (n > 0) this.#errors.inc({ code: WIRE_ERROR_NAMES.get(Number(code)) ?? OTHER }, n);
    });
  }

  #readSecurity(s: MetricsSecurityStats): void {
    const fields = Object.entries(ENFORCEMENT_NAMES);
    const d = this.#securityDeltas.deltas(
      fields.map(([field]) => [field, s[field as keyof typeof ENFORCEMENT_NAMES]]),
    );
    fields.forEach(([, decision], i) => {
      if (d[i] > 0) this.#decisions.inc({ decision }, d[i]);
    });
    this.#activeBans.set(s.activeBans ?? this.#bansSet ?? 0);
  }

  #readDatabase(s: MetricsDatabaseStats): void {
    const pool = s.pool;
    this.#pool.set({ state: POOL_STATES[0] }, pool.inUse);
    this.#pool.set({ state: POOL_STATES[1] }, pool.idle);
    this.#pool.set({ state: POOL_STATES[2] }, pool.waiting);
    this.#poolMax.set(pool.max);
    const [hits, misses] = this.#cacheDeltas.deltas([["hits", s.cache.hits], [
      "misses",
      s.cache.misses,
    ]]);
    if (hits > 0) this.#cacheHits.inc(hits);
    if (misses > 0) this.#cacheMisses.inc(misses);
    const buckets = DB_DURATION_BUCKETS_MS.length + 1;
    // One statement count below its previous value: the database restarted, all figures are new.
    if (
      s.queries.queries.some((q) => q.duration.count < (this.#dbLast.get(dbKey(q))?.count ?? 0))
    ) {
      this.#dbLast.clear();
    }
    for (const q of s.queries.queries) {
      const d = q.duration;
      if (d.counts.length !== buckets) continue; // not our bucket layout: skip, never mislabel
      const key = dbKey(q);
      let last = this.#dbLast.get(key);
      if (!last) {
        this.#dbLast.set(key, last = { counts: new Float64Array(buckets), sumMs: 0, count: 0 });
      }
      const series = this.#dbDuration.series(
        DB_OPERATIONS.includes(q.operation) ? q.operation : OTHER,
      );
      for (let i = 0; i < buckets; i++) {
        const n = d.counts[i] - last.counts[i];
        if (n > 0) this.#dbDuration.addToBucket(series, i, n);
        last.counts[i] = d.counts[i];
      }
      const sum = d.sumMs - last.sumMs;
      if (sum > 0) this.#dbDuration.addToSum(series, sum / 1000);
      last.sumMs = d.sumMs;
      last.count = d.count;
    }
  }

  #readHealth(results: readonly CheckResult[]): void {
    this.#health.reset();
    for (const r of results) {
      if (!this.#healthNames.has(r.name)) {
        if (this.#healthNames.size >= this.#maxHealthChecks) continue;
        this.#healthNames.add(r.name);
      }
      this.#health.set({ check: r.name }, healthValue(r.status));
    }
  }
}

function dbKey(q: { readonly operation: string; readonly table: string }): string {
  return `${q.operation}\u0000${q.table}`;
}

/** The `somnytoo_health_status` value of a status. */
export function healthValue(status: HealthStatus): number {
  return HEALTH_VALUES[status] ?? 0;
}
