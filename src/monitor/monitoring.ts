/**
 * Monitoring for one SomnyToo process, put together: the health monitor
 * with every built-in check, alerts raised on health transitions (and a
 * webhook when configured), Prometheus metrics fed by the server, the
 * database and the security layer, the `/report` JSON, the admin API and
 * the dashboard — served by the Hono sub-app on its own listener.
 *
 * Two steps, because the server needs the metrics sink before it exists:
 * `createRequestMetrics()` first (give `.sink` to `createServer`), then
 * `startMonitoring()` with the server and the rest.
 *
 * @module
 */

import { type AppConfig, redactConfig } from "../config/mod.ts";
import type { Database } from "../db/mod.ts";
import type { AuditLog, ReputationStore } from "../security/mod.ts";
import {
  currentSettings,
  type SecurityLayer,
  type ServerMetricsSink,
  type SomnyServer,
  updateSettings,
} from "../server/mod.ts";
import { type Clock, type Logger, systemClock } from "../util/mod.ts";
import {
  type Alerting,
  createAlerting,
  type ThresholdRule,
  thresholdRule,
  type ThresholdRuleOptions,
  watchHealth,
} from "./alerts/mod.ts";
import {
  apiCheck,
  cpuCheck,
  databaseCheck,
  diskCheck,
  HealthMonitor,
  memoryCheck,
  networkCheck,
  ormCheck,
  serverCheck,
} from "./health/mod.ts";
import { DASHBOARD_HTML } from "./http/dashboard.ts";
import {
  createAdminBackend,
  createMonitoringApp,
  type MonitoringServer,
  startMonitoringServer,
} from "./http/mod.ts";
import { SomnyMetrics } from "./metrics/mod.ts";
import type { MonitoringReport } from "./types.ts";

/** Latencies kept for the report's percentiles. */
const LATENCY_WINDOW = 2048;

/**
 * The server's metrics sink: Prometheus counters and histograms, plus a
 * window of recent request latencies for `/report`'s p50/p99.
 */
export class RequestMetrics {
  /** The Prometheus side. */
  readonly prometheus: SomnyMetrics;
  readonly #latencies = new Float64Array(LATENCY_WINDOW);
  #count = 0;

  constructor(prometheus: SomnyMetrics) {
    this.prometheus = prometheus;
  }

  /** What `createServer` takes as `metrics`. */
  get sink(): ServerMetricsSink {
    const p = this.prometheus;
    return {
      frame: (direction, type, bytes) => p.frame(direction, type, bytes),
      request: (type, seconds, errorCode) => {
        this.#latencies[this.#count++ % LATENCY_WINDOW] = seconds * 1000;
        p.request(type, seconds, errorCode);
      },
    };
  }

  /** p50 and p99 (ms) of the last requests, null before any. */
  latencyMs(): { p50: number | null; p99: number | null } {
    const n = Math.min(this.#count, LATENCY_WINDOW);
    if (n === 0) return { p50: null, p99: null };
    const sorted = this.#latencies.slice(0, n).sort();
    const at = (q: number) => Math.round(sorted[Math.min(n - 1, Math.floor(q * n))] * 1000) / 1000;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

/** What {@linkcode startMonitoring} monitors and serves. */
export interface MonitoringDeps {
  readonly config: AppConfig;
  readonly server: SomnyServer;
  readonly metrics: RequestMetrics;
  readonly database?: Database;
  readonly security?: SecurityLayer;
  readonly reputation?: ReputationStore;
  readonly audit?: AuditLog;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Reported version. */
  readonly version: string;
  /**
   * Threshold alerts evaluated with every health run (besides the alerts
   * raised by health transitions). @default {@linkcode defaultThresholds}
   */
  readonly thresholds?: readonly ThresholdRuleOptions[];
}

/**
 * The threshold alerts `serve` watches: callers waiting for a database
 * connection, bans in force, and requests shed or rate-limited per minute.
 */
export function defaultThresholds(deps: {
  database?: Database;
  security?: SecurityLayer;
  server: SomnyServer;
  clock: Clock;
}): ThresholdRuleOptions[] {
  const rules: ThresholdRuleOptions[] = [];
  const { database, security, server, clock } = deps;
  if (database) {
    rules.push({
      key: "threshold:db_pool_waiting",
      level: "warning",
      read: () => database.stats().pool.waiting,
      above: Math.max(8, database.maxConnections),
      hysteresis: 4,
      title: "Callers are waiting for a database connection",
    });
  }
  if (security) {
    rules.push({
      key: "threshold:active_bans",
      level: "warning",
      read: () => security.stats().activeBans,
      above: 50,
      hysteresis: 10,
      title: "Many addresses are banned",
    });
  }
  // Rates per minute from cumulative counters, sampled at each evaluation.
  const perMinute = (read: () => number) => {
    let last: { at: number; value: number } | undefined;
    return () => {
      const now = { at: clock.monotonic(), value: read() };
      const prev = last;
      last = now;
      if (!prev || now.at <= prev.at) return 0;
      return (now.value - prev.value) / ((now.at - prev.at) / 60_000);
    };
  };
  rules.push({
    key: "threshold:shed_per_minute",
    level: "warning",
    read: perMinute(() => server.stats().shed),
    above: 600,
    hysteresis: 300,
    title: "The server is shedding requests",
  });
  return rules;
}

/** A running monitoring setup. */
export interface Monitoring {
  readonly health: HealthMonitor;
  readonly alerting: Alerting;
  /** The HTTP listener (`port` 0 when `PROMETHEUS_ENABLED=false`). */
  readonly listener: MonitoringServer;
  /** The `/report` document. */
  report(): Promise<MonitoringReport>;
  /** Readiness fails from now on (graceful shutdown has begun). */
  setShuttingDown(): void;
  /** Evaluate the threshold alerts now (they also run with each health run). */
  evaluateThresholds(): void;
  /** Stop the background runs and the listener. */
  close(): Promise<void>;
}

/** Metrics snapshots read from the running parts (late-bound: the server is built after). */
export function createRequestMetrics(parts: {
  server: () => SomnyServer | undefined;
  database?: Database;
  security?: SecurityLayer;
  health?: () => HealthMonitor | undefined;
}): RequestMetrics {
  const prometheus = new SomnyMetrics({
    serverStats: () => {
      const s = parts.server();
      return s
        ? s.stats()
        : { connectionsActive: 0, sessionsActive: 0, handshakes: {}, errorsSent: {}, shed: 0 };
    },
    ...(parts.database ? { databaseStats: () => parts.database!.stats() } : {}),
    ...(parts.security ? { securityStats: () => parts.security!.stats() } : {}),
    healthResults: () => parts.health?.()?.results() ?? [],
  });
  if (parts.security) parts.security.onDecisionMade((kind) => prometheus.decision(kind));
  return new RequestMetrics(prometheus);
}

/** Start health checks, alerts and the HTTP sub-app for a running server. */
export function startMonitoring(deps: MonitoringDeps): Monitoring {
  const { config, server, database, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const m = config.monitoring;
  const startedAt = clock.now();
  const health = new HealthMonitor({ clock, intervalMs: m.metricsIntervalSec * 1000 });
  // The api check reads the listener, which is started last.
  const served: { listener?: MonitoringServer } = {};
  if (database) {
    health.register(databaseCheck({ database, clock }));
    health.register(ormCheck({
      // A one-connection pool (the embedded database) is "saturated" whenever
      // a statement runs, and a caller or two waiting is its normal state.
      ...(database.maxConnections <= 1 ? { poolSaturation: Infinity, waitingDegraded: 10 } : {}),
      stats: () => database.stats(),
      quantileMs: (op, p) => database.latencyQuantileMs(op, p),
    }));
  }
  health.register(serverCheck({
    stats: () => server.stats(),
    shuttingDown: () => server.shuttingDown,
    clock,
  }));
  health.register(memoryCheck());
  health.register(cpuCheck());
  health.register(diskCheck({ dir: config.server.dataDir }));
  health.register(networkCheck({ targets: [...m.networkCheckTargets] }));
  health.register(apiCheck({
    url: () =>
      served.listener?.running
        ? `http://${served.listener.hostname}:${served.listener.port}/health/live`
        : undefined,
  }));

  const alerting = createAlerting(m, { clock, logger });
  health.onResult(watchHealth(alerting.manager, { critical: ["database"] }));
  const rules: ThresholdRule[] = (deps.thresholds ??
    defaultThresholds({ database, security: deps.security, server, clock }))
    .map((r) => thresholdRule(alerting.manager, r));
  const evaluateThresholds = () => {
    for (const r of rules) r.evaluate();
  };
  // Evaluated with each background health run (one result per run is enough).
  let lastEvaluation = -Infinity;
  health.onResult(() => {
    const now = clock.monotonic();
    if (now - lastEvaluation < 1000) return;
    lastEvaluation = now;
    evaluateThresholds();
  });

  const security = deps.security;
  const report = (): Promise<MonitoringReport> => {
    const s = server.stats();
    const sec = security?.stats();
    const pool = database?.stats().pool;
    return Promise.resolve({
      atMs: clock.now(),
      uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
      version: deps.version,
      health: health.snapshot(),
      alerts: {
        open: alerting.manager.list({ open: true, limit: 50 }),
        recent: alerting.manager.list({ open: false, limit: 20 }),
      },
      metrics: {
        sessions: s.sessionsActive,
        connections: s.connectionsActive,
        requests: s.requests,
        errors: Object.values(s.errorsSent).reduce((a, b) => a + b, 0),
        shed: s.shed,
        latencyMs: deps.metrics.latencyMs(),
        bans: sec?.bans ?? 0,
        rateLimited: sec?.rateLimited ?? 0,
        dbPool: { inUse: pool?.inUse ?? 0, idle: pool?.idle ?? 0, waiting: pool?.waiting ?? 0 },
        rssBytes: Deno.memoryUsage().rss,
      },
      config: redactConfig(config),
    });
  };

  const targets = { server, logger, ...(security ? { security } : {}) };
  const admin = createAdminBackend({
    config: () => redactConfig(config),
    settings: {
      view: () => currentSettings(targets),
      update: (patch) => {
        const r = updateSettings(targets, patch);
        if (r.applied.length > 0) {
          logger.info("settings changed by the admin API", { applied: r.applied });
        }
        return r;
      },
    },
    sessions: server,
    ...(security ? { security } : {}),
    ...(deps.reputation ? { reputation: deps.reputation } : {}),
    alerts: alerting.manager,
    ...(deps.audit ? { audit: deps.audit } : {}),
  });
  const app = createMonitoringApp({
    health,
    metrics: deps.metrics.prometheus,
    report,
    ...(m.adminToken ? { adminToken: m.adminToken } : {}),
    admin,
    dashboardHtml: DASHBOARD_HTML,
  });
  const listener = served.listener = startMonitoringServer(app, {
    host: m.prometheusHost,
    port: m.prometheusPort,
    enabled: m.prometheusEnabled,
  });
  health.start();
  // Retention of resolved alerts: hourly (new alerts also prune).
  let pruneTimer = 0;
  const armPrune = () => {
    pruneTimer = clock.setTimeout(() => {
      alerting.manager.prune();
      armPrune();
    }, 3600_000);
  };
  armPrune();
  return {
    health,
    alerting,
    listener,
    report,
    setShuttingDown: () => health.setShuttingDown(),
    evaluateThresholds,
    async close() {
      clock.clearTimeout(pruneTimer);
      health.stop();
      await listener.close();
      await alerting.close();
    },
  };
}
