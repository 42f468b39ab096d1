/**
 * The anomaly detector (issue #5): signals in, a score per address out.
 *
 * Scoring: detectors run only on new evidence. The traffic detectors
 * (HighPacketRate, BurstTraffic, SmallPacketFlood, UnusualPacketSize) run
 * at most once per key per `evaluateEveryMs` (default 100 ms) while packets
 * arrive; the others run on their own signal (ConnectionFlood on a new
 * connection, HandshakeFailures on a failure, SQLInjectionAttempt and
 * ORMQueryFlood on their DB events). A kind fires at most once per bucket
 * (1 s) per key, UnusualPacketSize (a judgement of the whole window) at most
 * once per window, and adds its weight to the current bucket; the score of a
 * key is the sum over the buckets of the sliding window (10 s), so it decays
 * as the window slides and lies in `[0, Σ weights × buckets per window]`. A
 * condition that persists therefore scores more the longer it lasts (a
 * flood that trips only HighPacketRate, 0.4, reaches the ban score 1.0 in
 * its third second).
 *
 * @module
 */

import { CONFIG_DEFAULTS } from "../../config/mod.ts";
import type { AnomalyWeights } from "../../config/mod.ts";
import type { Clock } from "../../util/mod.ts";
import type { Detection, DetectionKind, SecuritySignal } from "../types.ts";
import {
  type AnomalyThresholds,
  DEFAULT_ANOMALY_THRESHOLDS,
  DETECTION_KINDS,
  DETECTORS,
  HANDSHAKE_FAILURES_WEIGHT,
  relaxedThresholds,
  weightsByKind,
} from "./detectors.ts";
import { type IpActivityStats, IpActivityTracker } from "./ip_activity.ts";
import { LruMap } from "../../util/mod.ts";

/**
 * Options for {@linkcode AnomalyDetector}.
 *
 * @example From the configuration slice
 * ```ts
 * import { AnomalyDetector, type AnomalyDetectorOptions } from "./anomaly_detector.ts";
 * import { CONFIG_DEFAULTS } from "../../config/mod.ts";
 * import { systemClock } from "../../util/mod.ts";
 * const security = CONFIG_DEFAULTS.security;
 * const options: AnomalyDetectorOptions = {
 *   clock: systemClock,
 *   weights: security.anomalyWeights,
 *   handshakeFailureLimit: security.handshakeFailureLimit,
 *   testMode: security.testMode,
 * };
 * new AnomalyDetector(options);
 * ```
 */
export interface AnomalyDetectorOptions {
  /** Time source. */
  readonly clock: Clock;
  /** Weights (`security.anomalyWeights`). @default {CONFIG_DEFAULTS.security.anomalyWeights} */
  readonly weights?: AnomalyWeights;
  /** Weight of a HandshakeFailures detection (> 0). @default {1} */
  readonly handshakeFailuresWeight?: number;
  /** Overrides of the production thresholds. */
  readonly thresholds?: Partial<AnomalyThresholds>;
  /** `security.handshakeFailureLimit` (per minute, 0 disables); wins over `thresholds`. */
  readonly handshakeFailureLimit?: number;
  /** `security.testMode`: relax the traffic thresholds by `testModeFactor`. @default {false} */
  readonly testMode?: boolean;
  /** How much test mode relaxes. @default {10} */
  readonly testModeFactor?: number;
  /** Sliding window of counters and score. @default {10000} */
  readonly windowMs?: number;
  /** Bucket width. @default {1000} */
  readonly bucketMs?: number;
  /** Window of the handshake-failure count. @default {60000} */
  readonly handshakeWindowMs?: number;
  /** Packets below this size are small. @default {64} */
  readonly smallPacketBytes?: number;
  /** Bound of each tracking table. @default {100000} */
  readonly maxTrackedIps?: number;
  /** Traffic detectors run at most this often per key. @default {100} */
  readonly evaluateEveryMs?: number;
  /** Recent detections kept per key for "explain". @default {16} */
  readonly maxDetectionsPerIp?: number;
  /** How long a key's detections are kept after its last one. @default {900000} */
  readonly retainDetectionsMs?: number;
}

interface ScoreState {
  readonly cells: Float64Array; // kinds × buckets: weight added per bucket
  readonly firedEpoch: Float64Array; // per kind: bucket it last fired in
  head: number;
  readonly recent: Detection[]; // oldest first, ≤ maxDetectionsPerIp
  lastMs: number;
}

const KINDS = DETECTION_KINDS.length;
const KIND_INDEX: ReadonlyMap<DetectionKind, number> = new Map(
  DETECTION_KINDS.map((k, i) => [k, i]),
);
const NONE: readonly Detection[] = Object.freeze([]);

/** Detectors run on traffic, at most every `evaluateEveryMs`. */
const TRAFFIC_KINDS: readonly DetectionKind[] = [
  "HighPacketRate",
  "BurstTraffic",
  "SmallPacketFlood",
  "UnusualPacketSize",
];
/** Kinds that judge the whole window: fire at most once per window. */
const WINDOW_KINDS: ReadonlySet<DetectionKind> = new Set(["UnusualPacketSize"]);

/** The detector a rare signal runs at once. */
const ON_SIGNAL: Partial<Record<SecuritySignal["kind"], DetectionKind>> = {
  handshake_failure: "HandshakeFailures",
  sql_injection_attempt: "SQLInjectionAttempt",
  orm_query_flood: "ORMQueryFlood",
  connection_opened: "ConnectionFlood",
};

/**
 * Per-address anomaly scores over a sliding window. See the module doc.
 *
 * @example
 * ```ts
 * import { AnomalyDetector } from "./anomaly_detector.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const detector = new AnomalyDetector({ clock: new ManualClock() });
 * detector.observe({ kind: "sql_injection_attempt", ip: "192.0.2.9" });
 * console.assert(detector.scoreOf("192.0.2.9") === 0.8);
 * console.assert(detector.detectionsOf("192.0.2.9")[0].kind === "SQLInjectionAttempt");
 * ```
 */
export class AnomalyDetector {
  readonly #clock: Clock;
  readonly #tracker: IpActivityTracker;
  readonly #thresholds: AnomalyThresholds;
  readonly #weights: Readonly<Record<DetectionKind, number>>;
  readonly #weightArr: Float64Array;
  readonly #buckets: number;
  readonly #bucketMs: number;
  readonly #maxTrackedIps: number;
  readonly #maxDetections: number;
  readonly #retainMs: number;
  readonly #states = new LruMap<string, ScoreState>();

  /**
   * Create a detector with its own {@linkcode IpActivityTracker}.
   *
   * @param options see {@linkcode AnomalyDetectorOptions}
   * @throws {RangeError} on invalid windows, bounds or weights.
   */
  constructor(options: AnomalyDetectorOptions) {
    this.#clock = options.clock;
    this.#tracker = new IpActivityTracker({
      clock: options.clock,
      windowMs: options.windowMs,
      bucketMs: options.bucketMs,
      handshakeWindowMs: options.handshakeWindowMs,
      smallPacketBytes: options.smallPacketBytes,
      maxTrackedIps: options.maxTrackedIps,
      evaluateEveryMs: options.evaluateEveryMs,
    });
    this.#bucketMs = this.#tracker.bucketMs;
    this.#buckets = this.#tracker.windowMs / this.#bucketMs;
    let t: AnomalyThresholds = { ...DEFAULT_ANOMALY_THRESHOLDS, ...options.thresholds };
    if (options.handshakeFailureLimit !== undefined) {
      t = { ...t, handshakeFailures: options.handshakeFailureLimit };
    }
    this.#thresholds = options.testMode
      ? relaxedThresholds(t, options.testModeFactor ?? 10)
      : Object.freeze(t);
    this.#weights = weightsByKind(
      options.weights ?? CONFIG_DEFAULTS.security.anomalyWeights,
      options.handshakeFailuresWeight ?? HANDSHAKE_FAILURES_WEIGHT,
    );
    this.#weightArr = new Float64Array(DETECTION_KINDS.map((k) => this.#weights[k]));
    for (const k of DETECTION_KINDS) {
      const w = this.#weights[k];
      if (!Number.isFinite(w) || w < 0) throw new RangeError(`Invalid weight of ${k}: ${w}`);
    }
    // The decision engine reads "HandshakeFailures fired" from its score share.
    if (!(this.#weights.HandshakeFailures > 0)) {
      throw new RangeError(
        `Invalid handshakeFailuresWeight: ${this.#weights.HandshakeFailures} (expected > 0; ` +
          "set handshakeFailureLimit to 0 to disable)",
      );
    }
    this.#maxTrackedIps = options.maxTrackedIps ?? 100_000;
    this.#maxDetections = options.maxDetectionsPerIp ?? 16;
    this.#retainMs = options.retainDetectionsMs ?? 900_000;
  }

  /** The thresholds in force (relaxed in test mode). */
  get thresholds(): AnomalyThresholds {
    return this.#thresholds;
  }

  /** The weight of each kind. */
  get weights(): Readonly<Record<DetectionKind, number>> {
    return this.#weights;
  }

  /** The highest score possible: Σ weights × buckets per window. */
  get maxScore(): number {
    let sum = 0;
    for (const w of this.#weightArr) sum += w;
    return sum * this.#buckets;
  }

  /** Sliding window of the score (ms). */
  get windowMs(): number {
    return this.#tracker.windowMs;
  }

  /** Keys whose activity is tracked. */
  get trackedIps(): number {
    return this.#tracker.trackedIps;
  }

  /** Keys with a score or recent detections. */
  get scoredIps(): number {
    return this.#states.size;
  }

  /**
   * Count one signal and run the detectors it makes due. Returns the
   * detections this signal caused (usually none).
   */
  observe(signal: SecuritySignal): readonly Detection[] {
    const due = this.#tracker.observe(signal);
    const only = ON_SIGNAL[signal.kind];
    if (only === undefined && !(due && signal.kind === "packet")) return NONE;
    const stats = this.#tracker.statsOf(signal.ip);
    if (!stats) return NONE;
    if (only !== undefined) return this.#run(stats, only, undefined) ?? NONE;
    let fired: Detection[] | undefined;
    for (const kind of TRAFFIC_KINDS) fired = this.#run(stats, kind, fired);
    return fired ?? NONE;
  }

  /** The score of `ip`'s key now (0 when unknown). */
  scoreOf(ip: string): number {
    const s = this.#states.get(this.#tracker.keyOf(ip));
    if (!s) return 0;
    this.#advance(s, this.#epoch());
    let sum = 0;
    for (const c of s.cells) sum += c;
    return sum;
  }

  /** The score of `ip`'s key now, by kind. */
  scoreByKind(ip: string): Readonly<Record<DetectionKind, number>> {
    const out = {} as Record<DetectionKind, number>;
    const s = this.#states.get(this.#tracker.keyOf(ip));
    if (s) this.#advance(s, this.#epoch());
    const n = this.#buckets;
    for (let k = 0; k < KINDS; k++) {
      let sum = 0;
      if (s) { for (let b = 0; b < n; b++) sum += s.cells[k * n + b]; }
      out[DETECTION_KINDS[k]] = sum;
    }
    return out;
  }

  /** The recent detections of `ip`'s key, oldest first (at most `maxDetectionsPerIp`). */
  detectionsOf(ip: string): readonly Detection[] {
    const s = this.#states.get(this.#tracker.keyOf(ip));
    return s ? [...s.recent] : NONE;
  }

  /** The activity snapshot of `ip`'s key, if tracked. */
  statsOf(ip: string): IpActivityStats | undefined {
    return this.#tracker.statsOf(ip);
  }

  /** The key `ip` is tracked and scored under (`trackingKey`). */
  keyOf(ip: string): string {
    return this.#tracker.keyOf(ip);
  }

  /** Forget everything about `ip`'s key (e.g. after an admin unban). */
  forget(ip: string): void {
    this.#tracker.forget(ip);
    this.#states.delete(this.#tracker.keyOf(ip));
  }

  /**
   * Drop idle activity entries and detection state older than
   * `retainDetectionsMs`. The owner calls it from its maintenance timer.
   * Returns how many entries were dropped.
   */
  sweep(): number {
    let dropped = this.#tracker.sweep();
    const now = this.#clock.monotonic();
    for (const [key, s] of this.#states.entries()) {
      if (now - s.lastMs >= Math.max(this.#retainMs, this.windowMs)) {
        this.#states.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  #epoch(): number {
    return Math.floor(this.#clock.monotonic() / this.#bucketMs);
  }

  /** Run one detector; on a (deduplicated) hit record it and append it to `acc`. */
  #run(
    stats: IpActivityStats,
    kind: DetectionKind,
    acc: Detection[] | undefined,
  ): Detection[] | undefined {
    const detail = DETECTORS[kind](stats, this.#thresholds);
    if (detail === undefined) return acc;
    const k = KIND_INDEX.get(kind)!;
    const epoch = this.#epoch();
    let s = this.#states.get(stats.key);
    if (s) {
      const since = epoch - s.firedEpoch[k];
      if (since === 0 || (WINDOW_KINDS.has(kind) && since < this.#buckets)) return acc;
    }
    if (!s) {
      if (this.#states.size >= this.#maxTrackedIps) this.#states.evictOldest();
      s = {
        cells: new Float64Array(KINDS * this.#buckets),
        firedEpoch: new Float64Array(KINDS).fill(-Infinity),
        head: epoch,
        recent: [],
        lastMs: 0,
      };
    }
    this.#states.set(stats.key, s); // most recent last
    this.#advance(s, epoch);
    s.firedEpoch[k] = epoch;
    s.cells[k * this.#buckets + (epoch % this.#buckets)] += this.#weightArr[k];
    s.lastMs = this.#clock.monotonic();
    const d: Detection = Object.freeze({
      kind,
      weight: this.#weightArr[k],
      atMs: this.#clock.now(),
      detail,
    });
    s.recent.push(d);
    if (s.recent.length > this.#maxDetections) s.recent.shift();
    const out = acc ?? [];
    out.push(d);
    return out;
  }

  #advance(s: ScoreState, epoch: number): void {
    if (epoch <= s.head) return;
    const n = this.#buckets;
    const gap = Math.min(epoch - s.head, n);
    for (let i = 1; i <= gap; i++) {
      const slot = (s.head + i) % n;
      for (let k = 0; k < KINDS; k++) s.cells[k * n + slot] = 0;
    }
    s.head = epoch;
  }
}
