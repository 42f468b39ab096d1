/**
 * The security layer as the bench runs it: every part working, but with the
 * rate thresholds and AIMD limits raised, because the whole load comes from
 * one address at tens of thousands of frames per second. The work per frame
 * is the same as with the defaults.
 *
 * @module
 */
import { CONFIG_DEFAULTS } from "../src/config/mod.ts";
import type { SecurityLayerOptions } from "../src/server/mod.ts";

const HUGE = 1e9;

/** Options for a `SecurityLayer` that measures the load generator instead of banning it. */
export function benchSecurityOptions(): SecurityLayerOptions {
  return {
    security: {
      ...CONFIG_DEFAULTS.security,
      aimd: { ...CONFIG_DEFAULTS.security.aimd, initialLimit: HUGE, maxLimit: HUGE },
    },
    thresholds: {
      highPacketRatePerSecond: HUGE,
      burstMinPacketsPerSecond: HUGE,
      smallPacketRatePerSecond: HUGE,
      newConnectionsPerSecond: HUGE,
      maxOpenConnections: HUGE,
    },
  };
}
