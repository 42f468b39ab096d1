/**
 * The fixed label values of SomnyToo's metrics. Every label a metric carries
 * comes from one of these closed sets (anything else becomes `"other"`), so
 * the number of series is bounded whatever a peer sends. No label ever
 * holds an address, a key or a caller.
 *
 * @module
 */

import { PacketType, WireErrorCode } from "../../protocol/mod.ts";
import { HANDSHAKE_FAILURE_REASONS } from "../../security/mod.ts";

/** The catch-all label value for anything outside a fixed set. */
export const OTHER = "other";

/** Frame directions. */
export type FrameDirection = "in" | "out";

/** Control (non-application) frame types by name (protocol-v1 §4). */
export const CONTROL_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [PacketType.ClientHello, "client_hello"],
  [PacketType.ServerHello, "server_hello"],
  [PacketType.Ping, "ping"],
  [PacketType.Pong, "pong"],
  [PacketType.Error, "error"],
  [PacketType.GoAway, "go_away"],
  [PacketType.KeyUpdate, "key_update"],
  [PacketType.Heartbeat, "heartbeat"],
]);

/**
 * Application types known by name without registration: Echo and the
 * key-value service (0x21–0x24, `server/kv`). Other handler types are added
 * with `SomnyMetrics.registerType`.
 */
export const DEFAULT_REQUEST_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [PacketType.Echo, "echo"],
  [0x21, "kv_put"],
  [0x22, "kv_get"],
  [0x23, "kv_delete"],
  [0x24, "kv_list"],
]);

/** Handshake outcomes (`server/stats.ts` HandshakeOutcome); others → "other". */
export const HANDSHAKE_RESULTS: readonly string[] = [
  "ok",
  ...HANDSHAKE_FAILURE_REASONS,
  // The server counts an undecodable first frame apart from a malformed hello.
  "framing",
];

/** Wire error code → label value (snake_case of {@linkcode WireErrorCode}'s keys). */
export const WIRE_ERROR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(WireErrorCode).map(([k, v]) => [v, snake(k)]),
);

/** Security decision kinds (`security/types.ts` Decision) → label value. */
export const DECISION_NAMES: ReadonlyMap<string, string> = new Map([
  ["Accept", "accept"],
  ["RateLimit", "rate_limit"],
  ["TempBan", "temp_ban"],
  ["PermanentBan", "permanent_ban"],
  ["QueryThrottle", "query_throttle"],
]);

/**
 * Enforcement counts read from the security layer's stats, as decision
 * label values: connections refused at accept, requests refused with
 * Error 3, statements refused by a query throttle.
 */
export const ENFORCEMENT_NAMES = {
  refusedAtAccept: "connection_refused",
  rateLimited: "request_rate_limited",
  queryThrottled: "query_throttled",
} as const;

/** Database statement operations (`orm` QueryOperation). */
export const DB_OPERATIONS: readonly string[] = ["select", "insert", "update", "delete", "raw"];

/** Pool states of `somnytoo_db_pool_connections`. */
export const POOL_STATES: readonly string[] = ["in_use", "idle", "waiting"];

/** Health status → gauge value. */
export const HEALTH_VALUES: Readonly<Record<"healthy" | "degraded" | "unhealthy", number>> = {
  healthy: 1,
  degraded: 0.5,
  unhealthy: 0,
};

/** `0x30` → "0x30" (two lowercase hex digits). */
export function hexType(type: number): string {
  return `0x${type.toString(16).padStart(2, "0")}`;
}

/** "RateLimited" → "rate_limited". */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? "" : "_") + c.toLowerCase());
}
