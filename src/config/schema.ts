/**
 * The shape of SomnyToo's configuration: {@linkcode AppConfig} and its
 * sections, plus {@linkcode CONFIG_FIELDS}, the one table that gives every
 * leaf field its type, range, default, secrecy and documentation. The
 * defaults ({@linkcode CONFIG_DEFAULTS}), the config-file validator and the
 * environment table in `load.ts` are all derived from it.
 *
 * Immutability: a loaded config is deep-frozen. Key material cannot be frozen
 * (a `Uint8Array` with elements refuses `Object.freeze`), so it is never
 * stored where a caller could mutate it: `security.psks` is a frozen
 * {@linkcode KeyRing} whose getters hand out copies, and
 * `security.hmacSecretKey` / `security.aesSecretKey` are non-enumerable
 * getters that return a fresh copy on each read. Consequences: they do not
 * appear in `JSON.stringify`, `Object.keys`, `{ ...spread }` or
 * `console.log`, and `a.hmacSecretKey !== a.hmacSecretKey`.
 *
 * @module
 */

import type { LogLevel } from "../util/mod.ts";

export type { LogLevel };

/** Which cryptography backend the server uses (`"auto"` picks the fastest available). */
export type CryptoBackendName = "auto" | "webcrypto" | "node" | "libcrypto";

/**
 * Every {@linkcode CryptoBackendName}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CRYPTO_BACKENDS } from "./schema.ts";
 * assert.ok(CRYPTO_BACKENDS.includes("webcrypto"));
 * ```
 */
export const CRYPTO_BACKENDS: readonly CryptoBackendName[] = Object.freeze([
  "auto",
  "webcrypto",
  "node",
  "libcrypto",
]);

/** The protocol server: sockets, sessions, back-pressure, timers. */
export interface ServerConfig {
  /** Listen address. @default {"0.0.0.0"} */
  readonly host: string;
  /** Listen port. @default {8000} */
  readonly port: number;
  /** Directory for state (default PSK, embedded database). @default {"./.somnytoo"} */
  readonly dataDir: string;
  /** A handshake must complete within this time. @default {10000} */
  readonly handshakeTimeoutMs: number;
  /** Allowed difference between peer and local clocks. @default {30000} */
  readonly clockSkewMs: number;
  /** Entries remembered to reject replayed handshakes. @default {100000} */
  readonly replayCacheSize: number;
  /** Open connections, all peers. @default {10000} */
  readonly maxConnections: number;
  /** Open connections from one IP. @default {256} */
  readonly maxConnectionsPerIp: number;
  /** Unanswered requests per session. @default {128} */
  readonly maxInFlightPerSession: number;
  /** Bytes queued for one connection before it is closed. @default {4194304} */
  readonly maxSendQueueBytes: number;
  /** Heartbeat period. @default {15000} */
  readonly heartbeatIntervalMs: number;
  /** Close a session silent for this long (must exceed the heartbeat). @default {45000} */
  readonly idleTimeoutMs: number;
  /**
   * A peer whose socket accepts no queued output for this long is
   * disconnected (it stopped reading). @default {10000}
   */
  readonly sendStallTimeoutMs: number;
  /**
   * Release a session's stream pipeline after this long without traffic
   * (it is rebuilt when traffic returns); 0 keeps pipelines for the whole
   * session. Idle sessions then cost a few KiB instead of ~50. @default {1000}
   */
  readonly pipelineReleaseAfterMs: number;
  /** Time between GOAWAY and close. @default {5000} */
  readonly goAwayGraceMs: number;
  /** Graceful shutdown budget. @default {10000} */
  readonly shutdownTimeoutMs: number;
  /** Handlers running at once, all sessions. @default {1024} */
  readonly maxConcurrentHandlers: number;
  /** Requests waiting for a handler slot before shedding. @default {4096} */
  readonly maxQueuedRequests: number;
  /** A handler must answer within this time. @default {30000} */
  readonly handlerTimeoutMs: number;
  /** Rekey a transport direction after this many frames. @default {16777216} */
  readonly rekeyAfterFrames: number;
  /** Cryptography backend. @default {"auto"} */
  readonly cryptoBackend: CryptoBackendName;
}

/** AIMD concurrency limit parameters (Netflix concurrency-limits `AIMDLimit`). */
export interface AimdConfig {
  /** Added to the limit after a success. @default {10} */
  readonly additiveIncrease: number;
  /** Factor applied to the limit on a drop, in (0, 1). @default {0.7} */
  readonly multiplicativeDecrease: number;
  /** Starting limit. @default {100} */
  readonly initialLimit: number;
  /** Upper bound. @default {10000} */
  readonly maxLimit: number;
  /** Lower bound. @default {10} */
  readonly minLimit: number;
}

/** Weights (0–1) of each anomaly signal in the reputation score. */
export interface AnomalyWeights {
  /** Anomaly weight: high packet rate. @default {0.4} */
  readonly highPacketRate: number;
  /** Anomaly weight: burst traffic. @default {0.3} */
  readonly burstTraffic: number;
  /** Anomaly weight: small packet flood. @default {0.6} */
  readonly smallPacketFlood: number;
  /** Anomaly weight: connection flood. @default {0.5} */
  readonly connectionFlood: number;
  /** Anomaly weight: unusual packet size. @default {0.2} */
  readonly unusualPacketSize: number;
  /** Anomaly weight: SQL injection attempt. @default {0.8} */
  readonly sqlInjectionAttempt: number;
  /** Anomaly weight: ORM query flood. @default {0.4} */
  readonly ormQueryFlood: number;
}

/** Keys, limits and IP policy. */
export interface SecurityConfig {
  /**
   * Pre-shared keys by id: `""` → `PSK_SECRET` when set, plus every entry of
   * the PSK file. Empty when neither is given (then `main.ts` falls back to
   * `ensureDefaultPsk`). A frozen {@linkcode KeyRing}: `get` returns copies.
   */
  readonly psks: ReadonlyMap<string, Uint8Array>;
  /** Path of the PSK file (`id=hex` lines), if any. */
  readonly pskFile: string | undefined;
  /** 32-byte HMAC key (non-enumerable getter returning a copy). */
  readonly hmacSecretKey: Uint8Array | undefined;
  /** 32-byte AES key (non-enumerable getter returning a copy). */
  readonly aesSecretKey: Uint8Array | undefined;
  /** Failed handshakes per minute per IP before a ban; 0 disables. @default {20} */
  readonly handshakeFailureLimit: number;
  /** Addresses / CIDRs never rate-limited or banned. @default {[]} */
  readonly ipWhitelist: readonly string[];
  /** Addresses / CIDRs always refused at accept (a permanent ban). @default {[]} */
  readonly ipBlacklist: readonly string[];
  /** Relaxes checks for tests; never enable in production. @default {false} */
  readonly testMode: boolean;
  /** AIMD concurrency limit. */
  readonly aimd: AimdConfig;
  /** Anomaly score weights. */
  readonly anomalyWeights: AnomalyWeights;
  /** Days the audit log keeps entries. @default {90} */
  readonly auditRetentionDays: number;
}

/** Database pool and query policy. */
export interface DatabaseConfig {
  /** PostgreSQL URL; unset → the embedded database in `embeddedDir`. Secret (password). */
  readonly url: string | undefined;
  /** Pool size. @default {50} */
  readonly maxConnections: number;
  /** Connections kept open. @default {10} */
  readonly minConnections: number;
  /** Connect timeout (ms). @default {30000} */
  readonly connectionTimeoutMs: number;
  /** Wait for a free pooled connection. @default {5000} */
  readonly acquireTimeoutMs: number;
  /** Close idle pooled connections after (ms). @default {300000} */
  readonly idleTimeoutMs: number;
  /** Recycle connections after (ms). @default {1800000} */
  readonly maxLifetimeMs: number;
  /** Prepared statements cached per connection. @default {1000} */
  readonly statementCacheSize: number;
  /** Connect attempts after the first. @default {3} */
  readonly connectRetries: number;
  /** Use prepared statements. @default {true} */
  readonly enablePreparedStatements: boolean;
  /** Query timeout (ms). @default {30000} */
  readonly queryTimeoutMs: number;
  /** Characters of SQL text accepted. @default {100000} */
  readonly maxQueryLength: number;
  /** Reject raw SQL that looks like injection. @default {true} */
  readonly enableSqlInjectionProtection: boolean;
  /** Database requests per minute per client. @default {6000} */
  readonly maxRequestsPerMinute: number;
  /** Transaction timeout (ms). @default {30000} */
  readonly defaultTransactionTimeoutMs: number;
  /** Run migrations at startup. @default {true} */
  readonly migrateOnStart: boolean;
  /** Embedded database directory. @default {`${server.dataDir}/db`} */
  readonly embeddedDir: string;
}

/** Read replicas and load-based scaling. */
export interface ScalingConfig {
  /** Replica URLs (secret: passwords are redacted). @default {[]} */
  readonly readReplicaUrls: readonly string[];
  /** Minimum replicas. @default {0} */
  readonly minReplicas: number;
  /** Maximum replicas. @default {4} */
  readonly maxReplicas: number;
  /** Scale up above this CPU %. @default {75} */
  readonly scaleUpCpuPercent: number;
  /** Scale down below this CPU %. @default {25} */
  readonly scaleDownCpuPercent: number;
  /** Minimum time between scaling actions (ms). @default {60000} */
  readonly cooldownMs: number;
}

/** ORM query cache. */
export interface CacheConfig {
  /** Cache ORM query results. @default {true} */
  readonly enableQueryCache: boolean;
  /** Cached queries. @default {1000} */
  readonly queryCacheSize: number;
  /** Query cache TTL (s). @default {60} */
  readonly queryCacheTtlSeconds: number;
}

/** ORM diagnostics. */
export interface OrmConfig {
  /** Log every ORM query. @default {false} */
  readonly logQueries: boolean;
  /** Log queries slower than this (ms). @default {500} */
  readonly slowQueryMs: number;
}

/** Prometheus endpoint, health checks, alerts. */
export interface MonitoringConfig {
  /** Serve Prometheus metrics. @default {true} */
  readonly prometheusEnabled: boolean;
  /** Metrics listen address. @default {"127.0.0.1"} */
  readonly prometheusHost: string;
  /** Metrics and admin listen port (0: any free port). @default {9100} */
  readonly prometheusPort: number;
  /** Metrics collection period (s). @default {15} */
  readonly metricsIntervalSec: number;
  /** `host:port` or URLs probed by the network health check. @default {[]} */
  readonly networkCheckTargets: readonly string[];
  /** Alerts are POSTed here (secret: only the origin is ever shown). */
  readonly alertWebhookUrl: string | undefined;
  /** Bearer token of the admin endpoints (secret, ≥ 16 characters). */
  readonly adminToken: string | undefined;
  /** Metrics/alert history retention (days). @default {7} */
  readonly retentionDays: number;
  /** Alerts kept in memory. @default {1000} */
  readonly maxAlerts: number;
}

/**
 * The whole, validated, deep-frozen configuration returned by `loadConfig`.
 *
 * @example Pass slices down
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AppConfig, CONFIG_DEFAULTS } from "./schema.ts";
 * const config: AppConfig = CONFIG_DEFAULTS;
 * const listen = { hostname: config.server.host, port: config.server.port };
 * assert.ok(listen.port === 8000);
 * ```
 */
export interface AppConfig {
  /** The protocol server. */
  readonly server: ServerConfig;
  /** Keys, limits and IP policy. */
  readonly security: SecurityConfig;
  /** Database pool and query policy. */
  readonly database: DatabaseConfig;
  /** Read replicas and scaling. */
  readonly scaling: ScalingConfig;
  /** ORM query cache. */
  readonly cache: CacheConfig;
  /** ORM diagnostics. */
  readonly orm: OrmConfig;
  /** Metrics, health checks and alerts. */
  readonly monitoring: MonitoringConfig;
  /** Log level. @default {"info"} */
  readonly logLevel: LogLevel;
}

/** The value type and constraints of one config field. */
export type FieldType =
  /** An integer in `[min, max]`. */
  | { readonly kind: "int"; readonly min: number; readonly max: number }
  /** A number in `[min, max]`, or `(min, max)` when `exclusive`. */
  | {
    readonly kind: "number";
    readonly min: number;
    readonly max: number;
    readonly exclusive?: boolean;
  }
  | { readonly kind: "bool" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  /** A non-empty string without whitespace (host names, addresses). */
  | { readonly kind: "word" }
  /** A non-empty file-system path. */
  | { readonly kind: "path"; readonly optional?: boolean }
  /** A `postgres://` or `postgresql://` URL. */
  | { readonly kind: "postgresUrl"; readonly optional?: boolean }
  /** An `http://` or `https://` URL. */
  | { readonly kind: "httpUrl"; readonly optional?: boolean }
  /** A string of at least `minLength` characters without whitespace. */
  | { readonly kind: "token"; readonly minLength: number; readonly optional?: boolean }
  /** A list of IPv4/IPv6 addresses or CIDRs. */
  | { readonly kind: "cidrList" }
  /** A list of `postgres://` URLs. */
  | { readonly kind: "postgresUrlList" }
  /** A list of non-empty strings without whitespace or commas. */
  | { readonly kind: "wordList" }
  /** 32 bytes of key material. */
  | { readonly kind: "key" }
  /** The PSK key ring. */
  | { readonly kind: "keyRing" };

/**
 * How a secret field is hidden by `redactConfig`: `"key"`/`"token"` → the
 * whole value; `"dsn"` → the password (and password-like query parameters);
 * `"webhook"` → everything after the origin.
 */
export type SecretKind = "key" | "token" | "dsn" | "webhook";

/** One leaf of {@linkcode AppConfig}: its dotted path, type, default and docs. */
export interface FieldSpec {
  /** Dotted path in {@linkcode AppConfig}, e.g. `"server.port"`. */
  readonly path: string;
  /** Value type and constraints. */
  readonly type: FieldType;
  /** The default (key material and optional fields: `undefined`). */
  readonly default: unknown;
  /** One-line description (used for generated docs). */
  readonly doc: string;
  /** Set when the value is secret. */
  readonly secret?: SecretKind;
  /** Key material is never accepted from the JSON config file (it tends to get committed). */
  readonly envOnly?: boolean;
}

const int = (min: number, max: number): FieldType => ({ kind: "int", min, max });
const num = (min: number, max: number, exclusive = false): FieldType => ({
  kind: "number",
  min,
  max,
  exclusive,
});
const BOOL: FieldType = { kind: "bool" };
const WORD: FieldType = { kind: "word" };
// Listen ports may be 0: the OS picks a free one (tests, side-by-side instances).
const LISTEN_PORT = int(0, 65_535);
const DAY_MS = 86_400_000;
const weight = (name: string, d: number, doc: string): FieldSpec => ({
  path: `security.anomalyWeights.${name}`,
  type: num(0, 1),
  default: d,
  doc,
});

/**
 * The one table of every configuration leaf, in {@linkcode AppConfig} order.
 * `CONFIG_DEFAULTS`, the config-file validator, `redactConfig` and the env
 * table's documentation derive from it.
 *
 * @example List the secret fields
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONFIG_FIELDS } from "./schema.ts";
 * const secrets = CONFIG_FIELDS.filter((f) => f.secret).map((f) => f.path);
 * assert.ok(secrets.includes("database.url"));
 * ```
 */
export const CONFIG_FIELDS: readonly FieldSpec[] = [
  { path: "server.host", type: WORD, default: "0.0.0.0", doc: "Listen address" },
  { path: "server.port", type: LISTEN_PORT, default: 8000, doc: "Listen port (0: any free port)" },
  {
    path: "server.dataDir",
    type: { kind: "path" },
    default: "./.somnytoo",
    doc: "State directory (default PSK, embedded database)",
  },
  {
    path: "server.handshakeTimeoutMs",
    type: int(100, 300_000),
    default: 10_000,
    doc: "Handshake deadline (ms)",
  },
  {
    path: "server.clockSkewMs",
    type: int(0, 3_600_000),
    default: 30_000,
    doc: "Allowed peer clock skew (ms)",
  },
  {
    path: "server.replayCacheSize",
    type: int(1, 100_000_000),
    default: 100_000,
    doc: "Handshake replay cache entries",
  },
  {
    path: "server.maxConnections",
    type: int(1, 10_000_000),
    default: 10_000,
    doc: "Open connections, all peers",
  },
  {
    path: "server.maxConnectionsPerIp",
    type: int(1, 10_000_000),
    default: 256,
    doc: "Open connections per IP",
  },
  {
    path: "server.maxInFlightPerSession",
    type: int(1, 1_000_000),
    default: 128,
    doc: "Unanswered requests per session",
  },
  {
    path: "server.maxSendQueueBytes",
    type: int(1024, 1024 ** 3),
    default: 4 * 1024 * 1024,
    doc: "Send queue bytes per connection before it is closed",
  },
  {
    path: "server.heartbeatIntervalMs",
    type: int(100, 3_600_000),
    default: 15_000,
    doc: "Heartbeat period (ms)",
  },
  {
    path: "server.idleTimeoutMs",
    type: int(200, DAY_MS),
    default: 45_000,
    doc: "Idle session timeout (ms), greater than the heartbeat",
  },
  {
    path: "server.sendStallTimeoutMs",
    type: int(100, 600_000),
    default: 10_000,
    doc: "Disconnect a peer whose socket accepts no output for this long (ms)",
  },
  {
    path: "server.pipelineReleaseAfterMs",
    type: int(0, 3_600_000),
    default: 1_000,
    doc:
      "Release an idle session's stream pipeline after this long without traffic (ms; 0 = never)",
  },
  {
    path: "server.goAwayGraceMs",
    type: int(0, 600_000),
    default: 5_000,
    doc: "GOAWAY grace period (ms)",
  },
  {
    path: "server.shutdownTimeoutMs",
    type: int(0, 3_600_000),
    default: 10_000,
    doc: "Graceful shutdown budget (ms)",
  },
  {
    path: "server.maxConcurrentHandlers",
    type: int(1, 10_000_000),
    default: 1024,
    doc: "Handlers running at once",
  },
  {
    path: "server.maxQueuedRequests",
    type: int(0, 100_000_000),
    default: 4096,
    doc: "Requests queued for a handler before shedding",
  },
  {
    path: "server.handlerTimeoutMs",
    type: int(1, DAY_MS),
    default: 30_000,
    doc: "Handler deadline (ms)",
  },
  {
    path: "server.rekeyAfterFrames",
    type: int(1, 2 ** 32),
    default: 2 ** 24,
    doc: "Frames per direction before a rekey",
  },
  {
    path: "server.cryptoBackend",
    type: { kind: "enum", values: CRYPTO_BACKENDS },
    default: "auto",
    doc: "Cryptography backend",
  },

  {
    path: "security.psks",
    type: { kind: "keyRing" },
    default: undefined,
    doc: 'Pre-shared keys: id "" from PSK_SECRET plus the PSK file entries',
    secret: "key",
    envOnly: true,
  },
  {
    path: "security.pskFile",
    type: { kind: "path", optional: true },
    default: undefined,
    doc: "PSK file: `id=<64 hex>` lines, `#` comments",
  },
  {
    path: "security.hmacSecretKey",
    type: { kind: "key" },
    default: undefined,
    doc: "HMAC key, 64 hex characters",
    secret: "key",
    envOnly: true,
  },
  {
    path: "security.aesSecretKey",
    type: { kind: "key" },
    default: undefined,
    doc: "AES key, 64 hex characters",
    secret: "key",
    envOnly: true,
  },
  {
    path: "security.handshakeFailureLimit",
    type: int(0, 1_000_000),
    default: 20,
    doc: "Failed handshakes per minute per IP before a ban (0 disables)",
  },
  {
    path: "security.ipWhitelist",
    type: { kind: "cidrList" },
    default: [],
    doc: "IPv4/IPv6 addresses or CIDRs never limited or banned",
  },
  {
    path: "security.ipBlacklist",
    type: { kind: "cidrList" },
    default: [],
    doc: "IPv4/IPv6 addresses or CIDRs always refused at accept",
  },
  {
    path: "security.testMode",
    type: BOOL,
    default: false,
    doc: "Test mode (never in production)",
  },
  {
    path: "security.aimd.additiveIncrease",
    type: int(1, 1_000_000),
    default: 10,
    doc: "AIMD additive increase",
  },
  {
    path: "security.aimd.multiplicativeDecrease",
    type: num(0, 1, true),
    default: 0.7,
    doc: "AIMD multiplicative decrease factor",
  },
  {
    path: "security.aimd.initialLimit",
    type: int(1, 10_000_000),
    default: 100,
    doc: "AIMD initial limit",
  },
  {
    path: "security.aimd.maxLimit",
    type: int(1, 10_000_000),
    default: 10_000,
    doc: "AIMD maximum limit",
  },
  {
    path: "security.aimd.minLimit",
    type: int(1, 10_000_000),
    default: 10,
    doc: "AIMD minimum limit",
  },
  weight("highPacketRate", 0.4, "Anomaly weight: high packet rate"),
  weight("burstTraffic", 0.3, "Anomaly weight: burst traffic"),
  weight("smallPacketFlood", 0.6, "Anomaly weight: small packet flood"),
  weight("connectionFlood", 0.5, "Anomaly weight: connection flood"),
  weight("unusualPacketSize", 0.2, "Anomaly weight: unusual packet size"),
  weight("sqlInjectionAttempt", 0.8, "Anomaly weight: SQL injection attempt"),
  weight("ormQueryFlood", 0.4, "Anomaly weight: ORM query flood"),
  {
    path: "security.auditRetentionDays",
    type: int(1, 36_500),
    default: 90,
    doc: "Audit log retention (days)",
  },

  {
    path: "database.url",
    type: { kind: "postgresUrl", optional: true },
    default: undefined,
    doc: "PostgreSQL URL; unset uses the embedded database",
    secret: "dsn",
  },
  {
    path: "database.maxConnections",
    type: int(1, 10_000),
    default: 50,
    doc: "Pool size",
  },
  {
    path: "database.minConnections",
    type: int(0, 10_000),
    default: 10,
    doc: "Connections kept open",
  },
  {
    path: "database.connectionTimeoutMs",
    type: int(1, 3_600_000),
    default: 30_000,
    doc: "Connect timeout (ms)",
  },
  {
    path: "database.acquireTimeoutMs",
    type: int(1, 3_600_000),
    default: 5_000,
    doc: "Wait for a pooled connection (ms)",
  },
  {
    path: "database.idleTimeoutMs",
    type: int(1, DAY_MS),
    default: 300_000,
    doc: "Close idle pooled connections after (ms)",
  },
  {
    path: "database.maxLifetimeMs",
    type: int(1, 7 * DAY_MS),
    default: 1_800_000,
    doc: "Recycle connections after (ms)",
  },
  {
    path: "database.statementCacheSize",
    type: int(0, 1_000_000),
    default: 1000,
    doc: "Prepared statements cached per connection",
  },
  {
    path: "database.connectRetries",
    type: int(0, 100),
    default: 3,
    doc: "Connect attempts after the first",
  },
  {
    path: "database.enablePreparedStatements",
    type: BOOL,
    default: true,
    doc: "Use prepared statements",
  },
  {
    path: "database.queryTimeoutMs",
    type: int(1, DAY_MS),
    default: 30_000,
    doc: "Query timeout (ms)",
  },
  {
    path: "database.maxQueryLength",
    type: int(1, 100_000_000),
    default: 100_000,
    doc: "Maximum SQL text length (characters)",
  },
  {
    path: "database.enableSqlInjectionProtection",
    type: BOOL,
    default: true,
    doc: "Reject raw SQL that looks like injection",
  },
  {
    path: "database.maxRequestsPerMinute",
    type: int(1, 100_000_000),
    default: 6000,
    doc: "Database requests per minute per client",
  },
  {
    path: "database.defaultTransactionTimeoutMs",
    type: int(1, DAY_MS),
    default: 30_000,
    doc: "Transaction timeout (ms)",
  },
  {
    path: "database.migrateOnStart",
    type: BOOL,
    default: true,
    doc: "Run migrations at startup",
  },
  {
    path: "database.embeddedDir",
    type: { kind: "path" },
    default: "./.somnytoo/db",
    doc: "Embedded database directory (default `<dataDir>/db`)",
  },

  {
    path: "scaling.readReplicaUrls",
    type: { kind: "postgresUrlList" },
    default: [],
    doc: "Read replica PostgreSQL URLs",
    secret: "dsn",
  },
  { path: "scaling.minReplicas", type: int(0, 64), default: 0, doc: "Minimum replicas" },
  { path: "scaling.maxReplicas", type: int(0, 64), default: 4, doc: "Maximum replicas" },
  {
    path: "scaling.scaleUpCpuPercent",
    type: int(1, 100),
    default: 75,
    doc: "Scale up above this CPU %",
  },
  {
    path: "scaling.scaleDownCpuPercent",
    type: int(0, 99),
    default: 25,
    doc: "Scale down below this CPU %",
  },
  {
    path: "scaling.cooldownMs",
    type: int(0, DAY_MS),
    default: 60_000,
    doc: "Minimum time between scaling actions (ms)",
  },

  { path: "cache.enableQueryCache", type: BOOL, default: true, doc: "Cache ORM query results" },
  {
    path: "cache.queryCacheSize",
    type: int(1, 10_000_000),
    default: 1000,
    doc: "Cached queries",
  },
  {
    path: "cache.queryCacheTtlSeconds",
    type: int(1, 86_400),
    default: 60,
    doc: "Query cache TTL (s)",
  },

  { path: "orm.logQueries", type: BOOL, default: false, doc: "Log every ORM query" },
  {
    path: "orm.slowQueryMs",
    type: int(0, 3_600_000),
    default: 500,
    doc: "Log queries slower than this (ms)",
  },

  {
    path: "monitoring.prometheusEnabled",
    type: BOOL,
    default: true,
    doc: "Serve Prometheus metrics",
  },
  {
    path: "monitoring.prometheusHost",
    type: WORD,
    default: "127.0.0.1",
    doc: "Metrics listen address",
  },
  {
    path: "monitoring.prometheusPort",
    type: LISTEN_PORT,
    default: 9100,
    doc: "Metrics and admin listen port (0: any free port)",
  },
  {
    path: "monitoring.metricsIntervalSec",
    type: int(1, 3600),
    default: 15,
    doc: "Metrics collection period (s)",
  },
  {
    path: "monitoring.networkCheckTargets",
    type: { kind: "wordList" },
    default: [],
    doc: "host:port or URLs probed by the network health check",
  },
  {
    path: "monitoring.alertWebhookUrl",
    type: { kind: "httpUrl", optional: true },
    default: undefined,
    doc: "Alert webhook (http/https)",
    secret: "webhook",
  },
  {
    path: "monitoring.adminToken",
    type: { kind: "token", minLength: 16, optional: true },
    default: undefined,
    doc: "Admin endpoint bearer token (at least 16 characters)",
    secret: "token",
  },
  {
    path: "monitoring.retentionDays",
    type: int(1, 3650),
    default: 7,
    doc: "Metrics/alert history retention (days)",
  },
  {
    path: "monitoring.maxAlerts",
    type: int(1, 1_000_000),
    default: 1000,
    doc: "Alerts kept in memory",
  },

  {
    path: "logLevel",
    type: { kind: "enum", values: ["debug", "info", "warn", "error", "silent"] },
    default: "info",
    doc: "Log level",
  },
];

/** Section names of {@linkcode AppConfig} that are objects. */
export const CONFIG_SECTIONS: readonly string[] = Object.freeze([
  "server",
  "security",
  "database",
  "scaling",
  "cache",
  "orm",
  "monitoring",
]);

const FIELD_BY_PATH: ReadonlyMap<string, FieldSpec> = new Map(
  CONFIG_FIELDS.map((f) => [f.path, f]),
);

/**
 * Look up a field by dotted path.
 *
 * @param path e.g. `"database.maxConnections"`
 * @returns the spec, or `undefined` for an unknown path
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldSpec } from "./schema.ts";
 * assert.ok(fieldSpec("server.port")?.default === 8000);
 * ```
 */
export function fieldSpec(path: string): FieldSpec | undefined {
  return FIELD_BY_PATH.get(path);
}

/**
 * A read-only, frozen map of PSK id → 32-byte key. Reads return copies, so
 * no holder can alter the ring; it prints and serializes as ids only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyRing } from "./schema.ts";
 * const ring = new KeyRing([["ops", new Uint8Array(32).fill(7)]]);
 * ring.get("ops")!.fill(0); // mutates a copy
 * assert.ok(ring.get("ops")![0] === 7);
 * assert.ok(JSON.stringify(ring) === '{"ops":"[redacted]"}');
 * ```
 */
export class KeyRing implements ReadonlyMap<string, Uint8Array> {
  #keys: Map<string, Uint8Array>;

  /**
   * Build a ring from id → key pairs; the keys are copied.
   *
   * @param entries id → key pairs
   */
  constructor(entries: Iterable<readonly [string, Uint8Array]> = []) {
    this.#keys = new Map();
    for (const [id, key] of entries) this.#keys.set(id, key.slice());
    Object.freeze(this);
  }
  /** Number of keys. */
  get size(): number {
    return this.#keys.size;
  }
  /** A copy of the key with this id. */
  get(id: string): Uint8Array | undefined {
    return this.#keys.get(id)?.slice();
  }
  /** Whether an id is present. */
  has(id: string): boolean {
    return this.#keys.has(id);
  }
  /** The ids. */
  keys(): MapIterator<string> {
    return this.#keys.keys();
  }
  /** Copies of the keys. */
  values(): MapIterator<Uint8Array> {
    return this.#copy().values();
  }
  /** `[id, copy of key]` pairs. */
  entries(): MapIterator<[string, Uint8Array]> {
    return this.#copy().entries();
  }
  /** Same as {@linkcode KeyRing.entries}. */
  [Symbol.iterator](): MapIterator<[string, Uint8Array]> {
    return this.entries();
  }
  /** Visit `[key copy, id]`. */
  forEach(
    fn: (value: Uint8Array, key: string, map: ReadonlyMap<string, Uint8Array>) => void,
    thisArg?: unknown,
  ): void {
    for (const [id, key] of this.#keys) fn.call(thisArg, key.slice(), id, this);
  }
  /** Ids mapped to `"[redacted]"`. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const id of this.#keys.keys()) out[id] = "[redacted]";
    return out;
  }
  /** `KeyRing(2) ["", "ops"]` */
  toString(): string {
    return `KeyRing(${this.size}) ${JSON.stringify([...this.#keys.keys()])}`;
  }
  /** Deno's `console.log`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
  /** Node's `util.inspect`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
  #copy(): Map<string, Uint8Array> {
    const m = new Map<string, Uint8Array>();
    for (const [id, key] of this.#keys) m.set(id, key.slice());
    return m;
  }
}

/**
 * Freeze plain objects and arrays recursively (a {@linkcode KeyRing} is
 * already frozen; accessor properties are not invoked).
 *
 * @param value the value to freeze in place
 * @returns `value`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deepFreeze } from "./schema.ts";
 * const o = deepFreeze({ a: { b: [1] } });
 * assert.ok(Object.isFrozen(o.a.b));
 * ```
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  if (ArrayBuffer.isView(value)) return value;
  for (const key of Reflect.ownKeys(value)) {
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (desc && "value" in desc) deepFreeze(desc.value);
  }
  return Object.freeze(value);
}

/**
 * Build the nested defaults object from {@linkcode CONFIG_FIELDS} (mutable,
 * not frozen; `loadConfig` applies overrides to it).
 *
 * @returns a fresh plain object shaped like {@linkcode AppConfig}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildDefaults } from "./schema.ts";
 * const d = buildDefaults() as { server: { port: number } };
 * assert.ok(d.server.port === 8000);
 * ```
 */
export function buildDefaults(): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) {
    const parts = f.path.split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) {
      node = (node[p] ??= {}) as Record<string, unknown>;
    }
    const d = f.default;
    node[parts[parts.length - 1]] = Array.isArray(d) ? [...d] : d;
  }
  return root;
}

/**
 * Install the key-material fields on a security section: `psks` as a frozen
 * {@linkcode KeyRing}, the two single keys as non-enumerable getters that
 * return copies.
 *
 * @param security the (not yet frozen) security section
 * @param keys the key material
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { installKeys } from "./schema.ts";
 * const sec: Record<string, unknown> = {};
 * installKeys(sec, { psks: new Map(), hmacSecretKey: new Uint8Array(32) });
 * assert.ok(!Object.keys(sec).includes("hmacSecretKey"));
 * assert.ok((sec.hmacSecretKey as Uint8Array).length === 32);
 * ```
 */
export function installKeys(
  security: Record<string, unknown>,
  keys: {
    psks: ReadonlyMap<string, Uint8Array>;
    hmacSecretKey?: Uint8Array;
    aesSecretKey?: Uint8Array;
  },
): void {
  security.psks = keys.psks instanceof KeyRing ? keys.psks : new KeyRing(keys.psks);
  for (const name of ["hmacSecretKey", "aesSecretKey"] as const) {
    const held = keys[name]?.slice();
    Object.defineProperty(security, name, {
      enumerable: false,
      configurable: false,
      get: () => held?.slice(),
    });
  }
}

function buildFrozenDefaults(): AppConfig {
  const d = buildDefaults();
  installKeys(d.security as Record<string, unknown>, { psks: new KeyRing() });
  return deepFreeze(d) as unknown as AppConfig;
}

/**
 * The defaults, deep-frozen: what `loadConfig({ env: {} })` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONFIG_DEFAULTS } from "./schema.ts";
 * assert.ok(CONFIG_DEFAULTS.server.idleTimeoutMs === 45_000);
 * assert.ok(Object.isFrozen(CONFIG_DEFAULTS.security.aimd));
 * ```
 */
export const CONFIG_DEFAULTS: AppConfig = buildFrozenDefaults();
