import assert from "node:assert/strict";
import { CONFIG_DEFAULTS, CONFIG_FIELDS } from "../../src/config/mod.ts";

Deno.test("CONFIG_DEFAULTS match the documented defaults", () => {
  assert.deepEqual({ ...CONFIG_DEFAULTS.server }, {
    host: "0.0.0.0",
    port: 8000,
    dataDir: "./.somnytoo",
    handshakeTimeoutMs: 10_000,
    clockSkewMs: 30_000,
    replayCacheSize: 100_000,
    maxConnections: 10_000,
    maxConnectionsPerIp: 256,
    maxInFlightPerSession: 128,
    maxSendQueueBytes: 4 * 1024 * 1024,
    heartbeatIntervalMs: 15_000,
    idleTimeoutMs: 45_000,
    sendStallTimeoutMs: 10_000,
    pipelineReleaseAfterMs: 1_000,
    goAwayGraceMs: 5_000,
    shutdownTimeoutMs: 10_000,
    maxConcurrentHandlers: 1024,
    maxQueuedRequests: 4096,
    handlerTimeoutMs: 30_000,
    rekeyAfterFrames: 2 ** 24,
    cryptoBackend: "auto",
  });
  const s = CONFIG_DEFAULTS.security;
  assert.equal(s.psks.size, 0);
  assert.equal(s.pskFile, undefined);
  assert.equal(s.hmacSecretKey, undefined);
  assert.equal(s.aesSecretKey, undefined);
  assert.equal(s.handshakeFailureLimit, 20);
  assert.deepEqual(s.ipWhitelist, []);
  assert.equal(s.testMode, false);
  assert.deepEqual({ ...s.aimd }, {
    additiveIncrease: 10,
    multiplicativeDecrease: 0.7,
    initialLimit: 100,
    maxLimit: 10_000,
    minLimit: 10,
  });
  assert.deepEqual({ ...s.anomalyWeights }, {
    highPacketRate: 0.4,
    burstTraffic: 0.3,
    smallPacketFlood: 0.6,
    connectionFlood: 0.5,
    unusualPacketSize: 0.2,
    sqlInjectionAttempt: 0.8,
    ormQueryFlood: 0.4,
  });
  assert.equal(s.auditRetentionDays, 90);
  assert.deepEqual({ ...CONFIG_DEFAULTS.database }, {
    url: undefined,
    maxConnections: 50,
    minConnections: 10,
    connectionTimeoutMs: 30_000,
    acquireTimeoutMs: 5_000,
    idleTimeoutMs: 300_000,
    maxLifetimeMs: 1_800_000,
    statementCacheSize: 1000,
    connectRetries: 3,
    enablePreparedStatements: true,
    queryTimeoutMs: 30_000,
    maxQueryLength: 100_000,
    enableSqlInjectionProtection: true,
    maxRequestsPerMinute: 6000,
    defaultTransactionTimeoutMs: 30_000,
    migrateOnStart: true,
    embeddedDir: "./.somnytoo/db",
  });
  assert.deepEqual({ ...CONFIG_DEFAULTS.scaling }, {
    readReplicaUrls: [],
    minReplicas: 0,
    maxReplicas: 4,
    scaleUpCpuPercent: 75,
    scaleDownCpuPercent: 25,
    cooldownMs: 60_000,
  });
  assert.deepEqual({ ...CONFIG_DEFAULTS.cache }, {
    enableQueryCache: true,
    queryCacheSize: 1000,
    queryCacheTtlSeconds: 60,
  });
  assert.deepEqual({ ...CONFIG_DEFAULTS.orm }, { logQueries: false, slowQueryMs: 500 });
  assert.deepEqual({ ...CONFIG_DEFAULTS.monitoring }, {
    prometheusEnabled: true,
    prometheusHost: "127.0.0.1",
    prometheusPort: 9100,
    metricsIntervalSec: 15,
    networkCheckTargets: [],
    alertWebhookUrl: undefined,
    adminToken: undefined,
    retentionDays: 7,
    maxAlerts: 1000,
  });
  assert.equal(CONFIG_DEFAULTS.logLevel, "info");
});

Deno.test("every field's default satisfies its own range", () => {
  for (const f of CONFIG_FIELDS) {
    const d = f.default;
    if (f.type.kind === "int") {
      assert.ok(
        Number.isInteger(d) && (d as number) >= f.type.min && (d as number) <= f.type.max,
        f.path,
      );
    } else if (f.type.kind === "number") {
      assert.ok(typeof d === "number" && d >= f.type.min && d <= f.type.max, f.path);
    } else if (f.type.kind === "enum") {
      assert.ok(f.type.values.includes(d as string), f.path);
    }
  }
});

Deno.test("CONFIG_FIELDS has one entry per leaf of AppConfig and no duplicates", () => {
  const paths = CONFIG_FIELDS.map((f) => f.path);
  assert.equal(new Set(paths).size, paths.length);
  const leaves: string[] = [];
  const walk = (o: object, prefix: string) => {
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = (o as Record<string, unknown>)[k];
      const p = prefix ? `${prefix}.${k}` : k;
      if (
        v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Map) && !("size" in v)
      ) {
        walk(v, p);
      } else {
        leaves.push(p);
      }
    }
  };
  walk(CONFIG_DEFAULTS, "");
  assert.deepEqual(leaves.sort(), [...paths].sort());
});
