/**
 * The security layer a server enforces (issue #5): it composes the parts of
 * `src/security/` into the four questions the server asks.
 *
 * - `admit(ip)`, at accept, before a byte is read: false for banned,
 *   deny-listed, or currently temp-banned addresses.
 * - `packet(key, ip, type, bytes)`, for every decrypted frame: feeds the
 *   anomaly detector and the per-address AIMD limiter; a non-zero answer is
 *   the `retry_after_ms` of an Error 3 for that request. Urgent frames
 *   (Ping, Pong, Heartbeat, GoAway, KeyUpdate) are metered on their own
 *   budget and never refused: refusing them would starve control traffic or
 *   break the session's key schedule.
 * - `queryThrottleMs(ip)`, before a handler's database work: non-zero while
 *   a QueryThrottle decision is in force.
 * - `observe(signal)`, for everything else the server and the database see
 *   (connections, handshake failures, protocol errors, injection attempts).
 *
 * Decisions come from the {@linkcode DecisionEngine}. A ban is enforced at
 * once in memory (listeners of `onBan` close that address's sessions),
 * persisted through the {@linkcode ReputationStore} when there is one (so it
 * survives restarts and reaches every instance on the same database), and
 * written to the audit log.
 *
 * @module
 */

import type { SecurityConfig } from "../config/mod.ts";
import { DatabaseError, SecurityError } from "../errors.ts";
import type { CompiledQuery, QueryExecutor } from "../orm/mod.ts";
import { isUrgentType } from "../protocol/mod.ts";
import {
  AimdLimiter,
  type AimdParameter,
  AnomalyDetector,
  type AnomalyThresholds,
  type AuditSink,
  type BanExplanation,
  type BanResult,
  type DbSecurityEvent,
  type Decision,
  type DecisionChange,
  DecisionEngine,
  type DecisionPolicy,
  type Detection,
  type IpRule,
  IpRules,
  LoadMonitor,
  type LoadSnapshot,
  type OffenceHistory,
  parseIp,
  ReputationScore,
  type ReputationStore,
  type RuleList,
  type SecuritySignal,
  trackingKey,
} from "../security/mod.ts";
import { type Clock, type Logger, LruMap, noopLogger, systemClock } from "../util/mod.ts";

/** Addresses with a restriction or an offence count kept in this process. */
const MAX_TRACKED = 100_000;

/** Inputs of the load monitor (each optional). */
export interface LoadInputs {
  /** Requests waiting for a handler slot. */
  readonly queueDepth?: () => number;
  /** 1-minute load average divided by the number of cores. */
  readonly loadPerCore?: () => number;
  /** Callers waiting for a database connection. */
  readonly dbWaiting?: () => number;
}

/** Options for {@linkcode SecurityLayer}. */
export interface SecurityLayerOptions {
  /** Weights, AIMD parameters, lists, test mode, handshake failure limit. */
  readonly security: Pick<
    SecurityConfig,
    | "anomalyWeights"
    | "aimd"
    | "testMode"
    | "handshakeFailureLimit"
    | "ipWhitelist"
    | "ipBlacklist"
  >;
  /** Persistent, shared bans; without it bans live in this process only. */
  readonly reputation?: ReputationStore;
  /** Where decisions, bans and attacks are recorded. */
  readonly audit?: AuditSink;
  readonly load?: LoadInputs;
  /** Detector thresholds (tests tune them). */
  readonly thresholds?: Partial<AnomalyThresholds>;
  /** Decision policy (tests tune ban durations). */
  readonly policy?: Partial<DecisionPolicy>;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default noopLogger */
  readonly logger?: Logger;
  /** Background clean-up period. @default 10 000 */
  readonly sweepEveryMs?: number;
}

/** Counters for monitoring. */
export interface SecurityLayerStats {
  readonly refusedAtAccept: number;
  readonly rateLimited: number;
  readonly queryThrottled: number;
  readonly bans: number;
  /** Bans in force that this instance decided or applied (others' bans are the store's). */
  readonly activeBans: number;
  readonly trackedIps: number;
  readonly load: LoadSnapshot;
}

/** What {@linkcode SecurityLayer.explain} answers. */
export interface SecurityExplanation {
  /** The tracking key (IPv6: its /64). */
  readonly key: string;
  /** Would a new connection be admitted now? */
  readonly admitted: boolean;
  /** The persisted ban and rules (absent without a reputation store). */
  readonly stored: BanExplanation | undefined;
  /** The decision in force in this process. */
  readonly decision: Decision;
  /** When it ends (wall ms), null for none or permanent. */
  readonly decisionUntilMs: number | null;
  /** Sum of detection weights in the sliding window. */
  readonly windowScore: number;
  /** Recent detections. */
  readonly detections: readonly Detection[];
  /** Decaying long-memory score (10-minute half-life). */
  readonly reputation: number;
  readonly allowListed: boolean;
  readonly denyListed: boolean;
}

/** A restriction in force for one tracking key. */
interface Restriction {
  readonly decision: Decision;
  /** Wall-clock ms; Infinity for permanent. */
  readonly untilMs: number;
}

/** Ban counts when there is no reputation store (bounded, oldest dropped). */
class LocalOffences implements OffenceHistory {
  readonly #counts = new LruMap<string, number>();
  banCount(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.#counts.set(key, this.banCount(key) + 1);
    if (this.#counts.size > MAX_TRACKED) this.#counts.evictOldest();
  }
}

/** See module doc. */
export class SecurityLayer {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #reputation: ReputationStore | undefined;
  readonly #audit: AuditSink | undefined;
  readonly #allow: IpRules;
  readonly #deny: IpRules;
  readonly #detector: AnomalyDetector;
  readonly #engine: DecisionEngine;
  readonly #limiter: AimdLimiter;
  readonly #monitor: LoadMonitor;
  readonly #local = new LocalOffences();
  /** Long-memory reputation: detection weights with a 10-minute half-life. */
  readonly #score = new ReputationScore();
  readonly #restrictions = new LruMap<string, Restriction>();
  readonly #banListeners: ((key: string) => void)[] = [];
  readonly #decisionListeners: ((kind: Decision["kind"]) => void)[] = [];
  readonly #sweepEveryMs: number;
  #sweepTimer: number | undefined;
  #refused = 0;
  #rateLimited = 0;
  #throttled = 0;
  #bans = 0;

  constructor(options: SecurityLayerOptions) {
    const s = options.security;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    this.#reputation = options.reputation;
    this.#audit = options.audit;
    this.#allow = new IpRules(s.ipWhitelist);
    this.#deny = new IpRules(s.ipBlacklist);
    this.#sweepEveryMs = options.sweepEveryMs ?? 10_000;
    this.#detector = new AnomalyDetector({
      clock: this.#clock,
      weights: s.anomalyWeights,
      handshakeFailureLimit: s.handshakeFailureLimit,
      testMode: s.testMode,
      thresholds: options.thresholds,
    });
    const reputation = this.#reputation;
    this.#engine = new DecisionEngine({
      scores: this.#detector,
      history: {
        banCount: (key) => Math.max(reputation?.banCount(key) ?? 0, this.#local.banCount(key)),
      },
      clock: this.#clock,
      allowList: this.#allow,
      denyList: this.#deny,
      policy: options.policy,
      onDecision: (c) => this.#onDecision(c),
    });
    this.#monitor = new LoadMonitor({ clock: this.#clock, ...options.load });
    this.#limiter = new AimdLimiter({
      ...s.aimd,
      clock: this.#clock,
      isOverloaded: () => this.#monitor.isOverloaded(),
    });
    // Bans decided elsewhere (another instance, an operator) close this
    // instance's sessions too.
    this.#reputation?.onBanned((key) => this.#emitBan(key));
  }

  /** Start the timers (load probe, AIMD adjustment, clean-up). */
  start(): void {
    this.#monitor.start();
    this.#limiter.start();
    this.#armSweep();
  }

  /** Stop the timers. Does not close the reputation store (its owner does). */
  close(): void {
    this.#monitor.stop();
    this.#limiter.stop();
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  /** The AIMD parameters in force (`security.aimd`). */
  aimdParameters(): Record<AimdParameter, number> {
    return this.#limiter.parameters();
  }

  /**
   * Change AIMD parameters while running (admin API, SIGHUP).
   * @throws {SecurityError} `SECURITY_INVALID_INPUT`; nothing changes then
   */
  setAimdParameters(p: Partial<Record<AimdParameter, number>>): void {
    this.#limiter.setParameters(p);
  }

  /** Call `listener(kind)` for every decision that changes an address's treatment (metrics). */
  onDecisionMade(listener: (kind: Decision["kind"]) => void): void {
    this.#decisionListeners.push(listener);
  }

  /** Call `listener(trackingKey)` whenever an address is banned. */
  onBan(listener: (key: string) => void): void {
    this.#banListeners.push(listener);
  }

  /** False when a new connection from `ip` must be refused (before reading a byte). */
  admit(ip: string): boolean {
    if (this.#allow.matches(ip)) return true;
    const refused = this.#deny.matches(ip) || this.#reputation?.isBanned(ip) === true ||
      this.#banned(trackingKey(ip));
    if (refused) this.#refused++;
    return !refused;
  }

  /**
   * Meter one inbound frame of a session from `ip` (`key` = its
   * `trackingKey`, computed once per connection). Returns 0 to process it,
   * or the ms after which the peer may retry (answer with Error 3).
   */
  packet(key: string, ip: string, type: number, bytes: number): number {
    const found = this.#detector.observe({ kind: "packet", ip, bytes });
    if (found.length > 0) this.#detected(ip, found);
    const urgent = isUrgentType(type);
    if (this.#allow.matches(ip)) return 0;
    const r = this.#restrictions.get(key);
    if (r && !urgent && r.decision.kind === "RateLimit") {
      const left = r.untilMs - this.#clock.now();
      if (left > 0) {
        this.#rateLimited++;
        return Math.ceil(left);
      }
      this.#restrictions.delete(key);
    }
    const d = this.#limiter.tryAcquire(key, urgent);
    if (d.allowed || urgent) return 0;
    this.#rateLimited++;
    return Math.max(1, Math.ceil(d.retryAfterMs));
  }

  /** Milliseconds `ip`'s database work is refused for (0: not throttled). */
  queryThrottleMs(ip: string): number {
    if (this.#allow.matches(ip)) return 0;
    const key = trackingKey(ip);
    const r = this.#restrictions.get(key);
    if (!r || r.decision.kind !== "QueryThrottle") return 0;
    const left = r.untilMs - this.#clock.now();
    if (left <= 0) {
      this.#restrictions.delete(key);
      return 0;
    }
    this.#throttled++;
    return Math.ceil(left);
  }

  /**
   * `executor` with this layer's QueryThrottle applied for `caller` (a
   * client address): while one is in force, statements fail with
   * `DB_RATE_LIMITED` carrying `retryAfterMs` (the KV service answers
   * Error 3) instead of reaching the database.
   */
  throttle(caller: string, executor: QueryExecutor): QueryExecutor {
    return {
      execute: <R>(query: CompiledQuery): Promise<R[]> => {
        const ms = this.queryThrottleMs(caller);
        if (ms === 0) return executor.execute<R>(query);
        return Promise.reject(Object.assign(
          new DatabaseError(
            "DB_RATE_LIMITED",
            `Queries from this address are throttled for ${ms} ms`,
          ),
          { retryAfterMs: ms },
        ));
      },
    };
  }

  /** Feed one observation (connections, handshake failures, protocol errors, DB events). */
  observe(signal: SecuritySignal): void {
    if (signal.kind === "handshake_failure") {
      this.#audit?.record({
        kind: "handshake_failure",
        ip: signal.ip,
        details: { reason: signal.reason },
      });
    }
    const found = this.#detector.observe(signal);
    if (found.length > 0) this.#detected(signal.ip, found);
  }

  /** The database layer's security events (the caller is the client's address). */
  onDatabaseEvent(e: DbSecurityEvent): void {
    const kind = e.kind === "SQLInjectionAttempt" ? "sql_injection_attempt" : "orm_query_flood";
    this.#audit?.record({ kind, ip: e.caller, details: { detail: e.detail } });
    this.observe({ kind, ip: e.caller });
  }

  /** Counters and the load reading. */
  stats(): SecurityLayerStats {
    return {
      refusedAtAccept: this.#refused,
      rateLimited: this.#rateLimited,
      queryThrottled: this.#throttled,
      bans: this.#bans,
      activeBans: this.#activeBans(),
      trackedIps: this.#detector.trackedIps,
      load: this.#monitor.snapshot(),
    };
  }

  /**
   * Ban `ip` by hand (an operator, the admin API): enforced at once,
   * persisted and shared when there is a reputation store, audited with
   * `actor`.
   */
  async ban(
    ip: string,
    options: { permanent?: boolean; durationMs?: number; reason: string },
    actor: string,
  ): Promise<BanResult | undefined> {
    if (!parseIp(ip)) {
      throw new SecurityError("SECURITY_INVALID_ADDRESS", "Not an IPv4 or IPv6 address");
    }
    const key = trackingKey(ip);
    if (this.#allow.matches(ip)) {
      return { applied: false, reason: "allow_listed", matchedRule: "IP_WHITELIST" };
    }
    const durationMs = options.durationMs ?? 3_600_000;
    const decision: Decision = options.permanent
      ? { kind: "PermanentBan" }
      : { kind: "TempBan", durationMs };
    this.#restrictions.set(key, {
      decision,
      untilMs: options.permanent ? Infinity : this.#clock.now() + durationMs,
    });
    this.#audit?.record({
      kind: "admin_action",
      ip,
      actor,
      details: {
        action: "ban",
        permanent: options.permanent === true,
        durationMs,
        reason: options.reason,
      },
    });
    this.#bans++;
    this.#emitBan(key);
    return await this.#reputation?.ban(ip, { ...options, durationMs });
  }

  /** Lift a ban (and this process's restrictions and scores for the address), audited. */
  async unban(ip: string, actor: string): Promise<boolean> {
    const key = trackingKey(ip);
    const local = this.#restrictions.delete(key);
    this.#engine.forget(ip);
    this.#detector.forget(ip);
    this.#score.delete(key);
    const stored = (await this.#reputation?.unban(ip)) ?? false;
    this.#audit?.record({ kind: "unban", ip, actor, details: { stored, local } });
    return stored || local;
  }

  /** Add an allow or deny rule (persisted when there is a store), audited. */
  async addRule(
    cidr: string,
    list: RuleList,
    note: string,
    actor: string,
  ): Promise<IpRule | undefined> {
    const rule = await this.#reputation?.addRule(cidr, list, note);
    this.#audit?.record({
      kind: "admin_action",
      actor,
      details: { action: "add_rule", cidr, list, note },
    });
    return rule;
  }

  /** Remove a rule, audited. */
  async removeRule(cidr: string, actor: string): Promise<boolean> {
    const removed = (await this.#reputation?.removeRule(cidr)) ?? false;
    this.#audit?.record({
      kind: "admin_action",
      actor,
      details: { action: "remove_rule", cidr, removed },
    });
    return removed;
  }

  /**
   * Why `ip` is (or is not) refused: the stored ban and rules, this
   * process's decision in force, the sliding-window score and detections,
   * and the long-memory reputation score.
   */
  async explain(ip: string): Promise<SecurityExplanation> {
    const key = trackingKey(ip);
    const r = this.#restrictions.get(key);
    const now = this.#clock.now();
    return {
      key,
      admitted: this.#allow.matches(ip) ||
        !(this.#deny.matches(ip) || this.#reputation?.isBanned(ip) === true || this.#banned(key)),
      stored: await this.#reputation?.explain(ip),
      decision: r && r.untilMs > now ? r.decision : { kind: "Accept" },
      decisionUntilMs: r && r.untilMs > now && r.untilMs !== Infinity ? r.untilMs : null,
      windowScore: this.#detector.scoreOf(ip),
      detections: this.#detector.detectionsOf(ip),
      reputation: this.#score.get(key, now),
      allowListed: this.#allow.matches(ip),
      denyListed: this.#deny.matches(ip),
    };
  }

  #detected(ip: string, found: readonly Detection[]): void {
    const now = this.#clock.now();
    const key = trackingKey(ip);
    for (const d of found) this.#score.add(key, d.weight, now);
    this.#engine.decide(ip);
  }

  #emitBan(key: string): void {
    for (const l of this.#banListeners) {
      try {
        l(key);
      } catch (e) {
        this.#logger.error("ban listener failed", { error: e as Error });
      }
    }
  }

  /** An address is banned in this process (persisted bans are the store's). */
  #banned(key: string): boolean {
    const r = this.#restrictions.get(key);
    if (!r || (r.decision.kind !== "TempBan" && r.decision.kind !== "PermanentBan")) return false;
    if (r.untilMs > this.#clock.now()) return true;
    this.#restrictions.delete(key);
    return false;
  }

  #activeBans(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const [, r] of this.#restrictions.entries()) {
      if (
        (r.decision.kind === "TempBan" || r.decision.kind === "PermanentBan") && r.untilMs > now
      ) n++;
    }
    return n;
  }

  #onDecision(c: DecisionChange): void {
    const d = c.decision;
    for (const l of this.#decisionListeners) {
      try {
        l(d.kind);
      } catch (e) {
        this.#logger.error("decision listener failed", { error: e as Error });
      }
    }
    const now = this.#clock.now();
    const untilMs = d.kind === "PermanentBan"
      ? Infinity
      : d.kind === "Accept"
      ? now
      : now + d.durationMs;
    this.#restrictions.set(c.key, { decision: d, untilMs });
    if (this.#restrictions.size > MAX_TRACKED) this.#restrictions.evictOldest();
    const kinds = [...new Set(c.detections.map((x) => x.kind))];
    this.#audit?.record({
      kind: "decision",
      ip: c.ip,
      details: {
        decision: d.kind,
        ...("durationMs" in d ? { durationMs: d.durationMs } : {}),
        score: Math.round(c.score * 100) / 100,
        detections: kinds,
      },
    });
    if (d.kind !== "TempBan" && d.kind !== "PermanentBan") return;
    this.#bans++;
    this.#local.add(c.key);
    this.#logger.warn("address banned", { key: c.key, decision: d.kind, detections: kinds });
    this.#emitBan(c.key);
    const permanent = d.kind === "PermanentBan";
    const reputation = this.#reputation;
    if (!reputation) {
      this.#audit?.record({ kind: "ban", ip: c.ip, details: { permanent, persisted: false } });
      return;
    }
    reputation.ban(c.ip, {
      permanent,
      ...(permanent ? {} : { durationMs: (d as { durationMs: number }).durationMs }),
      reason: `anomaly score ${c.score.toFixed(2)}: ${kinds.join(", ")}`,
      detections: c.detections,
    }).then((r) => {
      this.#audit?.record({
        kind: "ban",
        ip: c.ip,
        details: r.applied
          ? { permanent, expiresAtMs: r.ban.expiresAtMs, banCount: r.ban.banCount }
          : { refused: r.reason },
      });
    }, (e) => {
      // Still enforced in this process until it expires; the store's resync
      // will not know of it. Logged, not thrown: enforcement must not fail.
      this.#logger.error("could not persist a ban", { key: c.key, error: e as Error });
    });
  }

  #armSweep(): void {
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#detector.sweep();
      this.#engine.sweep();
      const now = this.#clock.now();
      for (const [key, r] of this.#restrictions.entries()) {
        if (r.untilMs <= now) this.#restrictions.delete(key);
      }
      this.#armSweep();
    }, this.#sweepEveryMs);
  }
}
