/** A SomnyMetrics with every metric populated, for the exposition tests. */

import { SomnyMetrics } from "../../../src/monitor/metrics/mod.ts";
import { PacketType, WireErrorCode } from "../../../src/protocol/mod.ts";

/** Every family has at least one non-zero series. */
export function populatedMetrics(): SomnyMetrics {
  const m = new SomnyMetrics({
    requestTypes: { 0x30: "search" },
    serverStats: () => ({
      connectionsActive: 4,
      sessionsActive: 3,
      handshakes: { ok: 3, replay: 1, timeout: 2, weird: 1 },
      errorsSent: { [WireErrorCode.Overloaded]: 2, [WireErrorCode.RateLimited]: 1, "99": 1 },
      shed: 2,
    }),
    securityStats: () => ({ refusedAtAccept: 1, rateLimited: 5, queryThrottled: 1, activeBans: 2 }),
    databaseStats: () => ({
      pool: { max: 10, inUse: 2, idle: 8, waiting: 1 },
      cache: { hits: 7, misses: 3 },
      queries: {
        queries: [{
          operation: "select",
          table: "kv_entries",
          duration: { counts: [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], sumMs: 6002, count: 4 },
        }],
      },
    }),
    healthResults: () => [
      { name: "database", status: "healthy", latencyMs: 1, checkedAtMs: 0 },
      { name: "memory", status: "degraded", latencyMs: 0, checkedAtMs: 0 },
      { name: "event_loop", status: "unhealthy", latencyMs: 0, checkedAtMs: 0 },
    ],
  });
  m.frame("in", PacketType.Echo, 80);
  m.frame("out", PacketType.Echo, 80);
  m.frame("in", PacketType.Ping, 40);
  m.frame("in", 0x77, 50);
  m.request(PacketType.Echo, 0.0003);
  m.request(0x21, 0.02);
  m.request(0x30, 0.4);
  m.request(0x77, 12);
  m.decision("TempBan");
  m.decision("RateLimit");
  return m;
}
