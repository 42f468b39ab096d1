/**
 * One pure function per {@linkcode DetectionKind}: given an
 * {@linkcode IpActivityStats} snapshot and thresholds, say whether it fires
 * and why (a short, secret-free detail), or `undefined`.
 *
 * Rates are judged on the current bucket (1 s) so that each bucket is
 * judged on its own traffic and the score (a sum over the window's buckets)
 * does not count one spike again in every later bucket. The window serves as
 * the baseline (BurstTraffic), the sample (UnusualPacketSize) and the
 * connection rate.
 *
 * @module
 */

import type { AnomalyWeights } from "../../config/mod.ts";
import type { DetectionKind } from "../types.ts";
import type { IpActivityStats } from "./ip_activity.ts";

/**
 * Thresholds of the detectors (per tracking key).
 *
 * @example
 * ```ts
 * import { type AnomalyThresholds, DEFAULT_ANOMALY_THRESHOLDS } from "./detectors.ts";
 * const strict: AnomalyThresholds = { ...DEFAULT_ANOMALY_THRESHOLDS, handshakeFailures: 5 };
 * ```
 */
export interface AnomalyThresholds {
  /** HighPacketRate: packets/s in the current bucket. @default {2000} */
  readonly highPacketRatePerSecond: number;
  /** BurstTraffic: packets/s in the current bucket, at least. @default {1000} */
  readonly burstMinPacketsPerSecond: number;
  /** BurstTraffic: the current bucket holds this many times the span's mean per bucket, at least. @default {4} */
  readonly burstFactor: number;
  /** SmallPacketFlood: small packets/s in the current bucket, at least. @default {500} */
  readonly smallPacketRatePerSecond: number;
  /** SmallPacketFlood: share of small packets in the current bucket, at least (0–1). @default {0.8} */
  readonly smallPacketMinShare: number;
  /** ConnectionFlood: new connections/s over the whole window, at least. @default {20} */
  readonly newConnectionsPerSecond: number;
  /** ConnectionFlood: connections open at once, at least. @default {200} */
  readonly maxOpenConnections: number;
  /** UnusualPacketSize: packets needed before sizes are judged. @default {50} */
  readonly unusualSizeMinPackets: number;
  /** UnusualPacketSize: mean packet size, at least. @default {16384} */
  readonly unusualMeanPacketBytes: number;
  /** UnusualPacketSize: coefficient of variation (stddev / mean), at least. @default {4} */
  readonly unusualSizeVariation: number;
  /** SQLInjectionAttempt: attempts in the window, at least. @default {1} */
  readonly sqlInjectionAttempts: number;
  /** ORMQueryFlood: flood events in the window, at least. @default {1} */
  readonly ormQueryFloods: number;
  /**
   * HandshakeFailures: failures in the handshake window (a minute), at
   * least; 0 disables. Pass `security.handshakeFailureLimit`. @default {20}
   */
  readonly handshakeFailures: number;
}

/**
 * Production thresholds.
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS } from "./detectors.ts";
 * console.assert(DEFAULT_ANOMALY_THRESHOLDS.handshakeFailures === 20);
 * ```
 */
export const DEFAULT_ANOMALY_THRESHOLDS: AnomalyThresholds = Object.freeze({
  highPacketRatePerSecond: 2_000,
  burstMinPacketsPerSecond: 1_000,
  burstFactor: 4,
  smallPacketRatePerSecond: 500,
  smallPacketMinShare: 0.8,
  newConnectionsPerSecond: 20,
  maxOpenConnections: 200,
  unusualSizeMinPackets: 50,
  unusualMeanPacketBytes: 16_384,
  unusualSizeVariation: 4,
  sqlInjectionAttempts: 1,
  ormQueryFloods: 1,
  handshakeFailures: 20,
});

/**
 * TEST_MODE: the traffic-volume thresholds multiplied by `factor` (harder to
 * trigger), so tests' legitimate bursts from one loopback address are not
 * punished. Evidence of an attack is not relaxed: SQL-injection attempts,
 * ORM floods and the handshake-failure limit (an explicit setting,
 * `HANDSHAKE_FAILURE_LIMIT`) stay as given.
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS, relaxedThresholds } from "./detectors.ts";
 * const t = relaxedThresholds(DEFAULT_ANOMALY_THRESHOLDS);
 * console.assert(t.highPacketRatePerSecond === 20_000);
 * ```
 */
export function relaxedThresholds(base: AnomalyThresholds, factor = 10): AnomalyThresholds {
  if (!(factor >= 1)) throw new RangeError(`Invalid factor: ${factor} (expected ≥ 1)`);
  return Object.freeze({
    ...base,
    highPacketRatePerSecond: base.highPacketRatePerSecond * factor,
    burstMinPacketsPerSecond: base.burstMinPacketsPerSecond * factor,
    smallPacketRatePerSecond: base.smallPacketRatePerSecond * factor,
    newConnectionsPerSecond: base.newConnectionsPerSecond * factor,
    maxOpenConnections: base.maxOpenConnections * factor,
    unusualSizeMinPackets: base.unusualSizeMinPackets * factor,
    unusualMeanPacketBytes: base.unusualMeanPacketBytes * factor,
    unusualSizeVariation: base.unusualSizeVariation * factor,
  });
}

/**
 * A detector: the detail when it fires, otherwise undefined.
 *
 * @example
 * ```ts
 * import type { Detector } from "./detectors.ts";
 * const errors: Detector = (s) => (s.protocolErrors >= 10 ? `${s.protocolErrors} protocol errors` : undefined);
 * ```
 */
export type Detector = (stats: IpActivityStats, t: AnomalyThresholds) => string | undefined;

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const seconds = (ms: number): string => `${fmt(ms / 1000)} s`;

/**
 * Packets in the current bucket ≥ `highPacketRatePerSecond` × its seconds.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectHighPacketRate } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * for (let i = 0; i < 2_000; i++) tracker.observe({ kind: "packet", ip: "192.0.2.1", bytes: 100 });
 * console.assert(detectHighPacketRate(tracker.statsOf("192.0.2.1")!, T) === "2000 packets in 1 s");
 * ```
 */
export function detectHighPacketRate(s: IpActivityStats, t: AnomalyThresholds): string | undefined {
  const n = s.currentBucketPackets;
  if (n === 0 || n < t.highPacketRatePerSecond * (s.bucketMs / 1000)) return undefined;
  return `${n} packets in ${seconds(s.bucketMs)}`;
}

/**
 * The current bucket ≥ `burstMinPacketsPerSecond` and ≥ `burstFactor` × the span's mean.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectBurstTraffic } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * for (let i = 0; i < 10; i++) tracker.observe({ kind: "packet", ip: "192.0.2.1", bytes: 100 });
 * console.assert(detectBurstTraffic(tracker.statsOf("192.0.2.1")!, T) === undefined);
 * ```
 */
export function detectBurstTraffic(s: IpActivityStats, t: AnomalyThresholds): string | undefined {
  const n = s.currentBucketPackets;
  if (n === 0 || n < t.burstMinPacketsPerSecond * (s.bucketMs / 1000)) return undefined;
  const meanPerBucket = s.packets / (s.spanMs / s.bucketMs);
  if (n < t.burstFactor * meanPerBucket) return undefined;
  return `${n} packets in ${seconds(s.bucketMs)} (${fmt(n / meanPerBucket)}× the mean)`;
}

/**
 * Small packets in the current bucket ≥ the rate and ≥ `smallPacketMinShare` of its packets.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectSmallPacketFlood } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * for (let i = 0; i < 500; i++) tracker.observe({ kind: "packet", ip: "192.0.2.1", bytes: 20 });
 * console.assert(detectSmallPacketFlood(tracker.statsOf("192.0.2.1")!, T) !== undefined);
 * ```
 */
export function detectSmallPacketFlood(
  s: IpActivityStats,
  t: AnomalyThresholds,
): string | undefined {
  const small = s.currentBucketSmallPackets;
  if (small === 0 || small < t.smallPacketRatePerSecond * (s.bucketMs / 1000)) return undefined;
  const share = small / s.currentBucketPackets;
  if (share < t.smallPacketMinShare) return undefined;
  return `${small} small packets in ${seconds(s.bucketMs)} (${
    Math.round(share * 100)
  }% of packets)`;
}

/**
 * New connections/s over the window ≥ `newConnectionsPerSecond`, or open ≥ `maxOpenConnections`.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectConnectionFlood } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * for (let i = 0; i < 200; i++) tracker.observe({ kind: "connection_opened", ip: "192.0.2.1" });
 * console.assert(detectConnectionFlood(tracker.statsOf("192.0.2.1")!, T) === "200 new connections in 10 s");
 * ```
 */
export function detectConnectionFlood(
  s: IpActivityStats,
  t: AnomalyThresholds,
): string | undefined {
  const rate = s.newConnections / (s.windowMs / 1000);
  if (s.newConnections > 0 && rate >= t.newConnectionsPerSecond) {
    return `${s.newConnections} new connections in ${seconds(s.windowMs)}`;
  }
  if (s.openConnections >= t.maxOpenConnections) {
    return `${s.openConnections} connections open`;
  }
  return undefined;
}

/**
 * With ≥ `unusualSizeMinPackets`: mean size ≥ `unusualMeanPacketBytes` or stddev/mean ≥ `unusualSizeVariation`.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectUnusualPacketSize } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * for (let i = 0; i < 50; i++) tracker.observe({ kind: "packet", ip: "192.0.2.1", bytes: 60_000 });
 * console.assert(detectUnusualPacketSize(tracker.statsOf("192.0.2.1")!, T) !== undefined);
 * ```
 */
export function detectUnusualPacketSize(
  s: IpActivityStats,
  t: AnomalyThresholds,
): string | undefined {
  if (s.packets === 0 || s.packets < t.unusualSizeMinPackets) return undefined;
  const mean = s.meanPacketBytes;
  const cv = mean > 0 ? s.packetBytesStdDev / mean : 0;
  if (mean < t.unusualMeanPacketBytes && cv < t.unusualSizeVariation) return undefined;
  return `mean packet ${Math.round(mean)} B, stddev ${Math.round(s.packetBytesStdDev)} B over ${
    fmt(s.packets)
  } packets`;
}

/**
 * SQL-injection attempts in the window ≥ `sqlInjectionAttempts`.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectSqlInjectionAttempt } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * tracker.observe({ kind: "sql_injection_attempt", ip: "192.0.2.1" });
 * console.assert(detectSqlInjectionAttempt(tracker.statsOf("192.0.2.1")!, T) !== undefined);
 * ```
 */
export function detectSqlInjectionAttempt(
  s: IpActivityStats,
  t: AnomalyThresholds,
): string | undefined {
  if (s.sqlInjectionAttempts === 0 || s.sqlInjectionAttempts < t.sqlInjectionAttempts) {
    return undefined;
  }
  return `${s.sqlInjectionAttempts} SQL injection attempt(s) in ${seconds(s.windowMs)}`;
}

/**
 * ORM flood events in the window ≥ `ormQueryFloods`.
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectOrmQueryFlood } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * tracker.observe({ kind: "orm_query_flood", ip: "192.0.2.1" });
 * console.assert(detectOrmQueryFlood(tracker.statsOf("192.0.2.1")!, T) !== undefined);
 * ```
 */
export function detectOrmQueryFlood(s: IpActivityStats, t: AnomalyThresholds): string | undefined {
  if (s.ormQueryFloods === 0 || s.ormQueryFloods < t.ormQueryFloods) return undefined;
  return `${s.ormQueryFloods} ORM query flood(s) in ${seconds(s.windowMs)}`;
}

/**
 * Handshake failures in the handshake window ≥ `handshakeFailures` (0 disables).
 *
 * @param s the key's activity snapshot
 * @param t thresholds in force
 * @returns a short detail when it fires, otherwise undefined
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS as T, detectHandshakeFailures } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * for (let i = 0; i < 20; i++) {
 *   tracker.observe({ kind: "handshake_failure", ip: "192.0.2.1", reason: "decrypt" });
 * }
 * console.assert(detectHandshakeFailures(tracker.statsOf("192.0.2.1")!, T) === "20 handshake failures in 60 s (decrypt 20)");
 * ```
 */
export function detectHandshakeFailures(
  s: IpActivityStats,
  t: AnomalyThresholds,
): string | undefined {
  if (t.handshakeFailures <= 0 || s.handshakeFailures < t.handshakeFailures) return undefined;
  const reasons = Object.entries(s.handshakeFailuresByReason)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
  return `${s.handshakeFailures} handshake failures in ${
    seconds(s.handshakeWindowMs)
  } (${reasons})`;
}

/**
 * Every detector by kind.
 *
 * @example
 * ```ts
 * import { DEFAULT_ANOMALY_THRESHOLDS, DETECTION_KINDS, DETECTORS } from "./detectors.ts";
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * tracker.observe({ kind: "sql_injection_attempt", ip: "192.0.2.1" });
 * const stats = tracker.statsOf("192.0.2.1")!;
 * const fired = DETECTION_KINDS.filter((k) => DETECTORS[k](stats, DEFAULT_ANOMALY_THRESHOLDS));
 * console.assert(fired.join() === "SQLInjectionAttempt");
 * ```
 */
export const DETECTORS: Readonly<Record<DetectionKind, Detector>> = Object.freeze({
  HighPacketRate: detectHighPacketRate,
  BurstTraffic: detectBurstTraffic,
  SmallPacketFlood: detectSmallPacketFlood,
  ConnectionFlood: detectConnectionFlood,
  UnusualPacketSize: detectUnusualPacketSize,
  SQLInjectionAttempt: detectSqlInjectionAttempt,
  ORMQueryFlood: detectOrmQueryFlood,
  HandshakeFailures: detectHandshakeFailures,
});

/**
 * Every detection kind, in a fixed order.
 *
 * @example
 * ```ts
 * import { DETECTION_KINDS } from "./detectors.ts";
 * console.assert(DETECTION_KINDS.length === 8);
 * ```
 */
export const DETECTION_KINDS: readonly DetectionKind[] = Object.freeze([
  "HighPacketRate",
  "BurstTraffic",
  "SmallPacketFlood",
  "ConnectionFlood",
  "UnusualPacketSize",
  "SQLInjectionAttempt",
  "ORMQueryFlood",
  "HandshakeFailures",
]);

/**
 * Weight of a HandshakeFailures detection: enough for a ban on its own.
 *
 * @example
 * ```ts
 * import { HANDSHAKE_FAILURES_WEIGHT } from "./detectors.ts";
 * console.assert(HANDSHAKE_FAILURES_WEIGHT >= 1);
 * ```
 */
export const HANDSHAKE_FAILURES_WEIGHT = 1.0;

/**
 * The weight of each kind: `AnomalyWeights` for the seven configurable ones,
 * `handshakeFailuresWeight` for HandshakeFailures.
 *
 * @example
 * ```ts
 * import { weightsByKind } from "./detectors.ts";
 * import { CONFIG_DEFAULTS } from "../../config/mod.ts";
 * const w = weightsByKind(CONFIG_DEFAULTS.security.anomalyWeights);
 * console.assert(w.SmallPacketFlood === 0.6 && w.HandshakeFailures === 1);
 * ```
 */
export function weightsByKind(
  w: AnomalyWeights,
  handshakeFailuresWeight: number = HANDSHAKE_FAILURES_WEIGHT,
): Readonly<Record<DetectionKind, number>> {
  return Object.freeze({
    HighPacketRate: w.highPacketRate,
    BurstTraffic: w.burstTraffic,
    SmallPacketFlood: w.smallPacketFlood,
    ConnectionFlood: w.connectionFlood,
    UnusualPacketSize: w.unusualPacketSize,
    SQLInjectionAttempt: w.sqlInjectionAttempt,
    ORMQueryFlood: w.ormQueryFlood,
    HandshakeFailures: handshakeFailuresWeight,
  });
}
