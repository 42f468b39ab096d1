/**
 * The decision engine (issue #5): from an address's anomaly score and its
 * offence history to a {@linkcode Decision}. It decides; enforcement (Error 3,
 * closing, refusing at accept, persisting bans) is the owner's.
 *
 * Policy, in order (every number is a {@linkcode DecisionPolicy} field):
 * 1. Allow-listed (`allowList`, i.e. IP_WHITELIST) → Accept, always.
 * 2. Deny-listed (`denyList`) → PermanentBan.
 * 3. A HandshakeFailures detection in the window → a ban (below).
 * 4. score < `rateLimitScore` (0.5) → Accept.
 * 5. non-query score (all but SQLInjectionAttempt / ORMQueryFlood) ≥
 *    `banScore` (1.0), or query score ≥ `queryBanScore` (4.0) → a ban.
 * 6. query score ≥ non-query score → QueryThrottle(`queryThrottleMs`, 60 s).
 * 7. score ≥ `banScore` → a ban.
 * 8. otherwise → RateLimit(`rateLimitMs`, 10 s).
 *
 * A ban is TempBan(`banDurationsMs[banCount]`: 1 min, 10 min, 1 h, then
 * 24 h) where `banCount` is {@linkcode OffenceHistory.banCount} of the
 * tracking key, or PermanentBan once `banCount ≥ permanentBanAfter` (5).
 * The engine never increments the count: the owner records the ban (in
 * `onDecision`), so the next offence escalates.
 *
 * Decisions are sticky for their duration: while an issued decision is in
 * force, `decide` returns it unless the new one is more severe
 * (Accept < QueryThrottle < RateLimit < TempBan < PermanentBan); a TempBan
 * in force is only replaced by the deny-list's PermanentBan. So the owner's
 * recording of a ban does not turn the same offence into a longer (or
 * permanent) ban on the next call.
 *
 * @module
 */

import type { Clock } from "../../util/mod.ts";
import { type IpRules, trackingKey } from "../ip_rules.ts";
import type { Decision, Detection, DetectionKind, OffenceHistory } from "../types.ts";

/**
 * Thresholds and durations of the policy (see the module doc).
 *
 * @example Shorter bans, permanent after three
 * ```ts
 * import type { DecisionPolicy } from "./decision_engine.ts";
 * const policy: Partial<DecisionPolicy> = { banDurationsMs: [30_000, 300_000], permanentBanAfter: 3 };
 * ```
 */
export interface DecisionPolicy {
  /** Score from which an address is rate-limited. @default {0.5} */
  readonly rateLimitScore: number;
  /** Score from which an address is banned. @default {1} */
  readonly banScore: number;
  /** Score of SQLInjectionAttempt + ORMQueryFlood from which throttling becomes a ban. @default {4} */
  readonly queryBanScore: number;
  /** Duration of a RateLimit. @default {10000} */
  readonly rateLimitMs: number;
  /** Duration of a QueryThrottle. @default {60000} */
  readonly queryThrottleMs: number;
  /** TempBan duration by previous ban count; the last repeats. @default {[60000, 600000, 3600000, 86400000]} */
  readonly banDurationsMs: readonly number[];
  /** Previous temp bans after which the next ban is permanent; 0 never. @default {5} */
  readonly permanentBanAfter: number;
}

/**
 * The default policy.
 *
 * @example
 * ```ts
 * import { DEFAULT_DECISION_POLICY } from "./decision_engine.ts";
 * console.assert(DEFAULT_DECISION_POLICY.banDurationsMs[0] === 60_000);
 * ```
 */
export const DEFAULT_DECISION_POLICY: DecisionPolicy = Object.freeze({
  rateLimitScore: 0.5,
  banScore: 1,
  queryBanScore: 4,
  rateLimitMs: 10_000,
  queryThrottleMs: 60_000,
  banDurationsMs: Object.freeze([60_000, 600_000, 3_600_000, 86_400_000]),
  permanentBanAfter: 5,
});

/**
 * Where the engine reads scores (`AnomalyDetector` satisfies it).
 *
 * @example A fixed score, e.g. in a test
 * ```ts
 * import type { AnomalyScores } from "./decision_engine.ts";
 * import { DETECTION_KINDS } from "./detectors.ts";
 * const zero = Object.fromEntries(DETECTION_KINDS.map((k) => [k, 0]));
 * const scores: AnomalyScores = {
 *   scoreByKind: () => ({ ...zero, SQLInjectionAttempt: 0.8 } as never),
 *   detectionsOf: () => [],
 * };
 * ```
 */
export interface AnomalyScores {
  /** The score now, by kind. */
  scoreByKind(ip: string): Readonly<Record<DetectionKind, number>>;
  /** Recent detections, oldest first. */
  detectionsOf(ip: string): readonly Detection[];
}

/**
 * What `onDecision` receives.
 *
 * @example Persist bans and audit every change
 * ```ts
 * import type { DecisionChange } from "./decision_engine.ts";
 * const onDecision = (c: DecisionChange) => {
 *   console.log(c.key, c.decision.kind, c.detections.map((d) => d.detail));
 * };
 * ```
 */
export interface DecisionChange {
  /** The address as passed to `decide`. */
  readonly ip: string;
  /** Its tracking key (IPv6 /64). */
  readonly key: string;
  /** The new decision (never Accept). */
  readonly decision: Decision;
  /** The decision in force before (Accept when none). */
  readonly previous: Decision;
  /** Score at the time. */
  readonly score: number;
  /** Recent detections, for the audit log's "why". */
  readonly detections: readonly Detection[];
}

/**
 * Options for {@linkcode DecisionEngine}.
 *
 * @example
 * ```ts
 * import { AnomalyDetector, DecisionEngine, type DecisionEngineOptions } from "./mod.ts";
 * import { IpRules } from "../ip_rules.ts";
 * import { systemClock } from "../../util/mod.ts";
 * const options: DecisionEngineOptions = {
 *   scores: new AnomalyDetector({ clock: systemClock }),
 *   history: { banCount: () => 0 },
 *   clock: systemClock,
 *   allowList: new IpRules(["127.0.0.1"]),
 * };
 * new DecisionEngine(options);
 * ```
 */
export interface DecisionEngineOptions {
  /** Score source, normally the {@linkcode AnomalyDetector}. */
  readonly scores: AnomalyScores;
  /** Past bans per tracking key (the reputation store). */
  readonly history: OffenceHistory;
  /** Time source (monotonic ms time the stickiness). */
  readonly clock: Clock;
  /** Never limited or banned (IP_WHITELIST). */
  readonly allowList?: IpRules;
  /** Always PermanentBan. */
  readonly denyList?: IpRules;
  /** Overrides of {@linkcode DEFAULT_DECISION_POLICY}. */
  readonly policy?: Partial<DecisionPolicy>;
  /**
   * Called when a new non-Accept decision is issued: Accept → anything,
   * or an upgrade (RateLimit → TempBan, TempBan expired → TempBan again, …).
   * A throwing callback is ignored.
   */
  readonly onDecision?: (change: DecisionChange) => void;
  /** Bound of the table of decisions in force. @default {100000} */
  readonly maxTrackedIps?: number;
}

interface Issued {
  readonly decision: Decision;
  readonly untilMs: number;
}

const ACCEPT: Decision = Object.freeze({ kind: "Accept" });
const PERMANENT: Decision = Object.freeze({ kind: "PermanentBan" });
const SEVERITY: Readonly<Record<Decision["kind"], number>> = {
  Accept: 0,
  QueryThrottle: 1,
  RateLimit: 2,
  TempBan: 3,
  PermanentBan: 4,
};

/**
 * Turns scores and history into decisions. See the module doc for the policy.
 *
 * @example
 * ```ts
 * import { AnomalyDetector, DecisionEngine } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const clock = new ManualClock();
 * const scores = new AnomalyDetector({ clock, handshakeFailureLimit: 3 });
 * const engine = new DecisionEngine({ scores, clock, history: { banCount: () => 0 } });
 * for (let i = 0; i < 3; i++) {
 *   scores.observe({ kind: "handshake_failure", ip: "192.0.2.7", reason: "decrypt" });
 * }
 * console.assert(engine.decide("192.0.2.7").kind === "TempBan");
 * ```
 */
export class DecisionEngine {
  readonly #o: DecisionEngineOptions;
  readonly #p: DecisionPolicy;
  readonly #maxTrackedIps: number;
  readonly #issued = new Map<string, Issued>(); // insertion order ≈ LRU order

  /**
   * Create an engine.
   *
   * @param options see {@linkcode DecisionEngineOptions}
   * @throws {RangeError} on an invalid policy.
   */
  constructor(options: DecisionEngineOptions) {
    this.#o = options;
    this.#p = Object.freeze({ ...DEFAULT_DECISION_POLICY, ...options.policy });
    if (this.#p.banDurationsMs.length === 0) {
      throw new RangeError("Invalid banDurationsMs: expected at least one duration");
    }
    if (!(this.#p.rateLimitScore > 0) || !(this.#p.banScore >= this.#p.rateLimitScore)) {
      throw new RangeError(
        `Invalid scores: rateLimitScore ${this.#p.rateLimitScore}, banScore ${this.#p.banScore}`,
      );
    }
    this.#maxTrackedIps = options.maxTrackedIps ?? 100_000;
  }

  /** The policy in force. */
  get policy(): DecisionPolicy {
    return this.#p;
  }

  /** Addresses with a decision in force (or recently expired, until `sweep`). */
  get trackedIps(): number {
    return this.#issued.size;
  }

  /** The decision for `ip` now. */
  decide(ip: string): Decision {
    const key = trackingKey(ip);
    if (this.#o.allowList?.matches(ip)) {
      this.#issued.delete(key);
      return ACCEPT;
    }
    const now = this.#o.clock.monotonic();
    const prev = this.#issued.get(key);
    const inForce = prev !== undefined && prev.untilMs > now ? prev.decision : ACCEPT;
    if (inForce.kind === "PermanentBan") return inForce;
    let score = 0;
    let fresh: Decision;
    const denied = this.#o.denyList?.matches(ip) === true;
    if (denied) fresh = PERMANENT;
    else if (inForce.kind === "TempBan") return inForce; // the owner's count of this very ban must not escalate it
    else {
      const by = this.#o.scores.scoreByKind(ip);
      for (const v of Object.values(by)) score += v;
      fresh = this.#evaluate(key, by, score);
    }
    if (SEVERITY[inForce.kind] >= SEVERITY[fresh.kind]) {
      if (inForce.kind === "Accept" && prev !== undefined) this.#issued.delete(key);
      return inForce;
    }
    const untilMs = "durationMs" in fresh ? now + fresh.durationMs : Infinity;
    this.#issued.delete(key);
    this.#issued.set(key, { decision: fresh, untilMs });
    if (this.#issued.size > this.#maxTrackedIps) {
      this.#issued.delete(this.#issued.keys().next().value!);
    }
    try {
      this.#o.onDecision?.({
        ip,
        key,
        decision: fresh,
        previous: inForce,
        score,
        detections: this.#o.scores.detectionsOf(ip),
      });
    } catch {
      // The owner's audit/persistence failing must not change the decision.
    }
    return fresh;
  }

  /** Drop the decision in force for `ip` (an admin unban). */
  forget(ip: string): boolean {
    return this.#issued.delete(trackingKey(ip));
  }

  /** Drop expired decisions. Returns how many were dropped. */
  sweep(): number {
    const now = this.#o.clock.monotonic();
    let dropped = 0;
    for (const [key, i] of this.#issued) {
      if (i.untilMs <= now) {
        this.#issued.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  #evaluate(key: string, by: Readonly<Record<DetectionKind, number>>, score: number): Decision {
    const p = this.#p;
    if (by.HandshakeFailures > 0) return this.#ban(key);
    if (score < p.rateLimitScore) return ACCEPT;
    const query = by.SQLInjectionAttempt + by.ORMQueryFlood;
    const other = score - query;
    if (other >= p.banScore || query >= p.queryBanScore) return this.#ban(key);
    if (query >= other) return { kind: "QueryThrottle", durationMs: p.queryThrottleMs };
    if (score >= p.banScore) return this.#ban(key);
    return { kind: "RateLimit", durationMs: p.rateLimitMs };
  }

  #ban(key: string): Decision {
    const count = Math.max(0, this.#o.history.banCount(key));
    const p = this.#p;
    if (p.permanentBanAfter > 0 && count >= p.permanentBanAfter) return PERMANENT;
    const d = p.banDurationsMs;
    return { kind: "TempBan", durationMs: d[Math.min(count, d.length - 1)] };
  }
}
