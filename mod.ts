/**
 * SomnyToo: a secure binary-protocol server and client for Deno.
 *
 * Protocol v1 runs `Noise_NNpsk0_25519_AESGCM_SHA256` over TCP, then
 * AES-256-GCM frames with an HMAC-SHA256 trailer (see docs/PROTOCOL.md).
 *
 * @example Serve Echo and call it
 * ```ts ignore
 * import { connect, createServer, CONFIG_DEFAULTS, registerEcho } from "./mod.ts";
 *
 * const psk = crypto.getRandomValues(new Uint8Array(32));
 * const server = createServer(
 *   { ...CONFIG_DEFAULTS.server, ...CONFIG_DEFAULTS.security, host: "127.0.0.1", port: 0 },
 *   { psks: new Map([["", psk]]) },
 * );
 * registerEcho(server.dispatcher);
 * const { port } = server.listen();
 *
 * const session = await connect({ port, psk });
 * const reply = await session.request(0x20, new TextEncoder().encode("hello"));
 * console.log(new TextDecoder().decode(reply)); // "hello"
 * await session.close();
 * await server.shutdown();
 * ```
 *
 * @module
 */

// Errors
export {
  ConfigError,
  DatabaseError,
  type ErrorCode,
  LimitError,
  OrmError,
  ProtocolError,
  SessionError,
  SomnyError,
} from "./src/errors.ts";

// Server
export {
  createServer,
  Dispatcher,
  echoHandler,
  type Handler,
  HandlerError,
  type HandlerOptions,
  type KvStore,
  KvType,
  type ListenAddr,
  registerEcho,
  registerKvService,
  type ReloadableLimits,
  type RequestContext,
  SecurityLayer,
  type SecurityLayerOptions,
  type ServerDeps,
  type ServerMetricsSink,
  type ServerOptions,
  type ServerStatsSnapshot,
  type SessionInfo,
  SomnyServer,
  updateSettings,
} from "./src/server/mod.ts";

// Security
export {
  AuditLog,
  type AuditLogOptions,
  IpRules,
  ReputationStore,
  type ReputationStoreOptions,
} from "./src/security/mod.ts";

// Monitoring
export {
  AlertManager,
  createMonitoringApp,
  createRequestMetrics,
  type HealthCheck,
  HealthMonitor,
  type HealthReport,
  type Monitoring,
  type MonitoringReport,
  SomnyMetrics,
  startMonitoring,
  startMonitoringServer,
} from "./src/monitor/mod.ts";

// Client
export {
  type ClientSession,
  type CloseInfo,
  connect,
  type ConnectOptions,
  NotSentError,
  type ReconnectOptions,
  RemoteError,
  type RequestOptions,
  type SessionDetails,
} from "./src/client/mod.ts";

// Protocol constants a handler author needs
export {
  type CryptoBackend,
  GoAwayReason,
  MAX_PAYLOAD_BYTES,
  PacketType,
  Priority,
  webCryptoBackend,
  WireErrorCode,
} from "./src/protocol/mod.ts";

// ORM (pure query builder) and the database it runs on
export {
  boolean,
  bytea,
  type CompiledQuery,
  createQueryBuilder,
  createTableSql,
  date,
  excluded,
  float8,
  type InsertRow,
  int2,
  int4,
  int8,
  jsonb,
  numeric,
  type QueryExecutor,
  ref,
  type SelectRow,
  sql,
  table,
  text,
  timestamptz,
  type UpdateRow,
  uuid,
  val,
  varchar,
} from "./src/orm/mod.ts";
export {
  type CallerDatabase,
  Database,
  type DatabaseStats,
  migrate,
  type Migration,
  type MigrationReport,
  openDatabase,
  type OpenedDatabase,
  PROJECT_MIGRATIONS,
  startEmbeddedDatabase,
  type Transaction,
  type TransactionOptions,
} from "./src/db/mod.ts";

// Crypto backends
export { type CryptoBackendPreference, selectCryptoBackend } from "./src/crypto/mod.ts";

// Configuration
export {
  type AppConfig,
  CONFIG_DEFAULTS,
  ensureDefaultPsk,
  loadConfig,
  type LoadConfigOptions,
  redactConfig,
} from "./src/config/mod.ts";

// Utilities
export { type Clock, createLogger, type Logger, ManualClock, systemClock } from "./src/util/mod.ts";
