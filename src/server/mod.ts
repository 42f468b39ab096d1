/**
 * The protocol v1 server.
 *
 * @example Serve Echo on a free port
 * ```ts ignore
 * import { createServer, registerEcho } from "./mod.ts";
 * import { CONFIG_DEFAULTS } from "../config/mod.ts";
 * const server = createServer(
 *   { ...CONFIG_DEFAULTS.server, ...CONFIG_DEFAULTS.security, port: 0, host: "127.0.0.1" },
 *   { psks: new Map([["", crypto.getRandomValues(new Uint8Array(32))]]) },
 * );
 * registerEcho(server.dispatcher);
 * const { port } = server.listen();
 * await server.shutdown();
 * ```
 *
 * @module
 */
export {
  createServer,
  type ListenAddr,
  type ServerDeps,
  type ServerOptions,
  SomnyServer,
} from "./server.ts";
export { type ConnectionEnv, type ConnectionOptions, ServerConnection } from "./connection.ts";
export {
  Dispatcher,
  type Handler,
  type HandlerEntry,
  HandlerError,
  type HandlerOptions,
  type RequestContext,
  type SessionInfo,
} from "./dispatcher.ts";
export {
  PriorityScheduler,
  type PrioritySchedulerOptions,
  type ShedCallback,
  type Task,
} from "./scheduler.ts";
export { type HandshakeOutcome, ServerStats, type ServerStatsSnapshot } from "./stats.ts";
export type { ServerMetricsSink } from "./connection.ts";
export type { ReloadableLimits } from "./server.ts";
export { echoHandler, registerEcho } from "./echo.ts";
export { kvEntries, type KvStore, KvType, registerKvService } from "./kv/service.ts";
export {
  type LoadInputs,
  type SecurityExplanation,
  SecurityLayer,
  type SecurityLayerOptions,
  type SecurityLayerStats,
} from "./security_layer.ts";
export {
  currentSettings,
  defaultSettings,
  RELOADABLE_SETTINGS,
  reloadFrom,
  type ReloadResult,
  type ReloadTargets,
  updateSettings,
} from "./reload.ts";
