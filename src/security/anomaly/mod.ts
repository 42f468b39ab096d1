/**
 * Anomaly detection and decisions (issue #5): per-address activity
 * counters ({@linkcode IpActivityTracker}), pure detectors, the scoring
 * {@linkcode AnomalyDetector} and the {@linkcode DecisionEngine}.
 *
 * Wiring: the server, the pipeline and the database layer call
 * `detector.observe(signal)`; the server asks `engine.decide(ip)` (at
 * accept, and when `observe` returned detections) and enforces the answer;
 * one maintenance timer calls `detector.sweep()` and `engine.sweep()`.
 *
 * @example Ban after repeated wrong-key handshakes, never the allow-list
 * ```ts
 * import { AnomalyDetector, DecisionEngine } from "./mod.ts";
 * import { IpRules } from "../ip_rules.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const clock = new ManualClock();
 * const detector = new AnomalyDetector({ clock, handshakeFailureLimit: 20 });
 * const engine = new DecisionEngine({
 *   scores: detector,
 *   clock,
 *   history: { banCount: () => 0 },
 *   allowList: new IpRules(["10.0.0.0/8"]),
 * });
 * for (const ip of ["203.0.113.5", "10.1.2.3"]) {
 *   for (let i = 0; i < 25; i++) detector.observe({ kind: "handshake_failure", ip, reason: "decrypt" });
 * }
 * console.assert(engine.decide("203.0.113.5").kind === "TempBan");
 * console.assert(engine.decide("10.1.2.3").kind === "Accept");
 * ```
 *
 * @module
 */

export {
  HANDSHAKE_FAILURE_REASONS,
  type IpActivityStats,
  IpActivityTracker,
  type IpActivityTrackerOptions,
} from "./ip_activity.ts";
export {
  type AnomalyThresholds,
  DEFAULT_ANOMALY_THRESHOLDS,
  detectBurstTraffic,
  detectConnectionFlood,
  detectHandshakeFailures,
  detectHighPacketRate,
  DETECTION_KINDS,
  type Detector,
  detectOrmQueryFlood,
  DETECTORS,
  detectSmallPacketFlood,
  detectSqlInjectionAttempt,
  detectUnusualPacketSize,
  HANDSHAKE_FAILURES_WEIGHT,
  relaxedThresholds,
  weightsByKind,
} from "./detectors.ts";
export { AnomalyDetector, type AnomalyDetectorOptions } from "./anomaly_detector.ts";
export {
  type AnomalyScores,
  type DecisionChange,
  DecisionEngine,
  type DecisionEngineOptions,
  type DecisionPolicy,
  DEFAULT_DECISION_POLICY,
} from "./decision_engine.ts";
