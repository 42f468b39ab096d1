/**
 * Per-client packet-rate limits that adapt to the server's load (issue #5):
 * additive increase while the server is healthy, multiplicative decrease
 * while it is overloaded (AIMD, as TCP congestion control and Netflix
 * concurrency-limits' `AIMDLimit`).
 *
 * **Enforcement.** Each client (a string key: `trackingKey(ip)` or a session
 * id) has a limit L in packets/s, enforced as a token bucket holding at most
 * L tokens and refilled continuously at L tokens/s from the injected clock's
 * monotonic time. A new client starts with a full bucket, so it may burst L
 * packets, then continues at L/s. A refused packet costs nothing and is told
 * `retryAfterMs`, the time until one token is back.
 *
 * **Control traffic.** Urgent packets (Ping, Heartbeat, GoAway, KeyUpdate)
 * draw from a second bucket per client with a fixed budget (`urgentLimit`,
 * default 50/s). Ordinary traffic never drains it, AIMD never shrinks it,
 * and urgent packets never drain the ordinary bucket, so a client at its
 * limit can still answer heartbeats and rekey, and a Ping flood cannot eat
 * the request budget.
 *
 * **Adjustment.** Once per `adjustIntervalMs` (`start()` runs the timer; the
 * owner or a test may call `tick()` itself), the `isOverloaded` callback is
 * asked once (a `LoadMonitor`, typically). Overloaded: every client gets
 * L := max(minLimit, ⌊L × multiplicativeDecrease⌋). Healthy: a client that
 * used at least max(1, `growthUtilization` × L) tokens in the interval gets
 * L := min(maxLimit, L + additiveIncrease).
 *
 * Deviations from the sketch, and why:
 * - **Growth needs use, not just activity** (`growthUtilization`, default
 *   0.5). Growing every client that sent one packet would let a client
 *   trickling 1 packet/s climb to `maxLimit` in a quarter of an hour and
 *   then burst 10 000 packets at once. Like concurrency-limits' `AIMDLimit`
 *   (`inflight * 2 >= limit`) and TCP's congestion-window validation
 *   (RFC 7661), the limit grows only while the client actually uses half of
 *   it. `growthUtilization: 0` restores "any packet counts".
 * - **Newcomers follow the load too.** The limit a newly seen key starts
 *   with (`newcomerLimit`) is itself AIMD-controlled between `minLimit` and
 *   `initialLimit`: it shrinks on overloaded ticks and grows back on healthy
 *   ones. Otherwise a flood of new (or spoofed, or LRU-evicted-and-back)
 *   keys would each get a fresh `initialLimit` exactly when the server can
 *   least afford it, and `forget`/eviction would be a way to escape a
 *   decrease.
 * - **Shrunk clients recover when healthy even if quiet.** On a healthy
 *   tick a client below `newcomerLimit` climbs back toward it (by
 *   `additiveIncrease`) whether or not it is active: forgetting it would give
 *   it that much anyway, so keeping it lower would only punish staying
 *   connected. Above `newcomerLimit`, growth needs use as described.
 * - **A throwing `isOverloaded` holds the limits** for that tick (no growth,
 *   no decrease) instead of crashing the timer; idle eviction still runs.
 *
 * **Memory.** One small record per client (one limit, two token counts,
 * a usage counter and two timestamps: about 100 bytes with the Map entry).
 * At most `maxTrackedClients` (default 100 000) are kept; the least recently
 * seen is evicted when a new key would exceed the bound, and `tick()` drops
 * clients idle for `idleEvictMs`. A many-IP flood therefore costs at most
 * ~10 MB and cannot grow the table. `tick()` visits every tracked client once
 * (a few ms at 100 000 clients, once a second).
 *
 * @module
 */

import type { Clock } from "../../util/mod.ts";
import { fraction, nonNegative, ordered, positive, positiveInt } from "./_validate.ts";

/** The parameters {@linkcode AimdLimiter.setParameters} can change (`AimdConfig`'s fields). */
export type AimdParameter =
  | "additiveIncrease"
  | "multiplicativeDecrease"
  | "initialLimit"
  | "maxLimit"
  | "minLimit";

/**
 * Options for {@linkcode AimdLimiter}. The five AIMD fields have the names of
 * `AimdConfig` (config `security.aimd`), so `{ ...config.security.aimd, clock }`
 * is a valid options object.
 *
 * @example Options from the config slice plus the urgent budget
 * ```ts
 * import assert from "node:assert/strict";
 * import { AimdLimiter, type AimdLimiterOptions } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const aimd = { // config.security.aimd
 *   additiveIncrease: 10,
 *   multiplicativeDecrease: 0.7,
 *   initialLimit: 100,
 *   maxLimit: 10_000,
 *   minLimit: 10,
 * };
 * const options: AimdLimiterOptions = { ...aimd, clock: new ManualClock(), urgentLimit: 20 };
 * assert.equal(new AimdLimiter(options).newcomerLimit, 100);
 * ```
 */
export interface AimdLimiterOptions {
  /** Monotonic time for the buckets and timers. */
  readonly clock: Clock;
  /**
   * Asked once per adjustment: true shrinks every limit, false lets active
   * clients grow. Pass `() => loadMonitor.isOverloaded()`.
   * @default {() => false}
   */
  readonly isOverloaded?: () => boolean;
  /** Packets/s added to an active client's limit per healthy interval. @default {10} */
  readonly additiveIncrease?: number;
  /** Factor applied to every limit per overloaded interval, in (0, 1). @default {0.7} */
  readonly multiplicativeDecrease?: number;
  /** Limit of a new client when the server has been healthy (packets/s). @default {100} */
  readonly initialLimit?: number;
  /** Upper bound of any limit (packets/s). @default {10000} */
  readonly maxLimit?: number;
  /** Lower bound of any limit (packets/s), > 0. @default {10} */
  readonly minLimit?: number;
  /** Urgent packets (Ping, Heartbeat, GoAway, KeyUpdate) per second per client; fixed. @default {50} */
  readonly urgentLimit?: number;
  /**
   * Share of its limit a client must use in an interval for its limit to
   * grow, in [0, 1]; at least one packet is always required.
   * @default {0.5}
   */
  readonly growthUtilization?: number;
  /** Period of the timer run by `start()` (ms). @default {1000} */
  readonly adjustIntervalMs?: number;
  /** A client not seen for this long is forgotten at the next `tick()` (ms). @default {60000} */
  readonly idleEvictMs?: number;
  /** Clients tracked at once; the least recently seen is evicted first. @default {100000} */
  readonly maxTrackedClients?: number;
}

/**
 * The answer of {@linkcode AimdLimiter.tryAcquire}.
 *
 * @example Turn a refusal into Error 3's `retry_after_ms`
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AimdDecision, AimdLimiter } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const limiter = new AimdLimiter({ clock: new ManualClock(), initialLimit: 10 });
 * let last: AimdDecision = { allowed: true };
 * for (let i = 0; i < 11; i++) last = limiter.tryAcquire("session-1");
 * const retryAfterMs = last.allowed ? 0 : last.retryAfterMs;
 * assert.equal(retryAfterMs, 100); // 10 packets/s: one token every 100 ms
 * ```
 */
export type AimdDecision =
  | { readonly allowed: true }
  | {
    readonly allowed: false;
    /** Milliseconds until one token is back (≥ 1); send it as `retry_after_ms`. */
    readonly retryAfterMs: number;
  };

/**
 * What one {@linkcode AimdLimiter.tick} did.
 *
 * @example Log the adjustment
 * ```ts
 * import assert from "node:assert/strict";
 * import { AimdLimiter, type AimdTickResult } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const limiter = new AimdLimiter({ clock: new ManualClock(), isOverloaded: () => true });
 * const result: AimdTickResult = limiter.tick();
 * assert.deepEqual(result, {
 *   overloaded: true,
 *   evicted: 0,
 *   trackedClients: 0,
 *   newcomerLimit: 70, // new clients start lower while overloaded
 * });
 * ```
 */
export interface AimdTickResult {
  /** The `isOverloaded` answer (`undefined` when it threw and limits were held). */
  readonly overloaded: boolean | undefined;
  /** Clients forgotten because they were idle for `idleEvictMs`. */
  readonly evicted: number;
  /** Clients tracked after the tick. */
  readonly trackedClients: number;
  /** The limit a new client now starts with. */
  readonly newcomerLimit: number;
}

interface Entry {
  /** Ordinary limit L, packets/s. */
  limit: number;
  /** Ordinary tokens, 0..limit. */
  tokens: number;
  /** Urgent tokens, 0..urgentLimit. */
  urgentTokens: number;
  /** Monotonic ms both buckets were last refilled to. */
  refilledAt: number;
  /** Monotonic ms of the last packet (drives idle eviction; Map order is LRU). */
  seenAt: number;
  /** Ordinary tokens spent since the last tick. */
  used: number;
}

const OWNER = "AimdLimiter";
const ALLOWED: AimdDecision = Object.freeze({ allowed: true });
// Float slack: refills are sums of (ms × rate / 1000) and may land a hair below 1.
const EPSILON = 1e-9;

/**
 * Adaptive per-client packet-rate limiter (see the module doc): token buckets
 * whose rate grows additively while the server is healthy and shrinks
 * multiplicatively while it is overloaded, with a separate fixed budget for
 * urgent control packets, in an LRU-bounded table.
 *
 * @example Limits grow while healthy and shrink under load
 * ```ts
 * import assert from "node:assert/strict";
 * import { AimdLimiter } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const clock = new ManualClock();
 * let overloaded = false;
 * const limiter = new AimdLimiter({ clock, isOverloaded: () => overloaded });
 *
 * // A new client may burst its initial limit (100 packets/s), then waits.
 * for (let i = 0; i < 100; i++) assert.ok(limiter.tryAcquire("192.0.2.1").allowed);
 * assert.deepEqual(limiter.tryAcquire("192.0.2.1"), { allowed: false, retryAfterMs: 10 });
 * // Control packets have their own budget and still pass.
 * assert.ok(limiter.tryAcquire("192.0.2.1", true).allowed);
 *
 * limiter.tick(); // healthy, and the client used its limit: +10
 * assert.equal(limiter.limitOf("192.0.2.1"), 110);
 * overloaded = true;
 * limiter.tick(); // overloaded: ×0.7
 * assert.equal(limiter.limitOf("192.0.2.1"), 77);
 * ```
 */
export class AimdLimiter {
  readonly #clock: Clock;
  readonly #isOverloaded: () => boolean;
  #ai: number;
  #md: number;
  #initial: number;
  #max: number;
  #min: number;
  readonly #urgent: number;
  readonly #growth: number;
  readonly #intervalMs: number;
  readonly #idleMs: number;
  readonly #maxTracked: number;
  readonly #entries = new Map<string, Entry>(); // insertion order = LRU order
  #newcomer: number;
  #timer: number | undefined;

  /**
   * Make a limiter; it tracks nothing until the first packet.
   *
   * @param options clock, overload callback, AIMD parameters and bounds
   * @throws {SecurityError} `SECURITY_INVALID_INPUT` when an option is out of
   * range: a limit ≤ 0, `multiplicativeDecrease` outside (0, 1),
   * `minLimit` > `maxLimit`, `initialLimit` outside [minLimit, maxLimit], …
   */
  constructor(options: AimdLimiterOptions) {
    this.#clock = options.clock;
    this.#isOverloaded = options.isOverloaded ?? (() => false);
    this.#ai = nonNegative(OWNER, "additiveIncrease", options.additiveIncrease ?? 10);
    this.#md = fraction(
      OWNER,
      "multiplicativeDecrease",
      options.multiplicativeDecrease ?? 0.7,
      { low: true, high: true },
    );
    this.#min = positive(OWNER, "minLimit", options.minLimit ?? 10);
    this.#max = positive(OWNER, "maxLimit", options.maxLimit ?? 10_000);
    this.#initial = positive(OWNER, "initialLimit", options.initialLimit ?? 100);
    ordered(OWNER, "minLimit", this.#min, "maxLimit", this.#max);
    ordered(OWNER, "minLimit", this.#min, "initialLimit", this.#initial);
    ordered(OWNER, "initialLimit", this.#initial, "maxLimit", this.#max);
    this.#urgent = positive(OWNER, "urgentLimit", options.urgentLimit ?? 50);
    this.#growth = fraction(OWNER, "growthUtilization", options.growthUtilization ?? 0.5, {
      low: false,
      high: false,
    });
    this.#intervalMs = positive(OWNER, "adjustIntervalMs", options.adjustIntervalMs ?? 1000);
    this.#idleMs = positive(OWNER, "idleEvictMs", options.idleEvictMs ?? 60_000);
    this.#maxTracked = positiveInt(
      OWNER,
      "maxTrackedClients",
      options.maxTrackedClients ?? 100_000,
    );
    this.#newcomer = this.#initial;
  }

  /**
   * Change the AIMD parameters while running (the admin API, SIGHUP). The
   * new bounds apply at once: every client's limit (and the newcomer limit)
   * is clamped into [minLimit, maxLimit]; growth and decrease use the new
   * factors from the next tick.
   * @throws {SecurityError} `SECURITY_INVALID_INPUT` on values the
   * constructor would refuse; nothing changes then
   */
  setParameters(p: Partial<Pick<AimdLimiterOptions, AimdParameter>>): void {
    const ai = nonNegative(OWNER, "additiveIncrease", p.additiveIncrease ?? this.#ai);
    const md = fraction(OWNER, "multiplicativeDecrease", p.multiplicativeDecrease ?? this.#md, {
      low: true,
      high: true,
    });
    const min = positive(OWNER, "minLimit", p.minLimit ?? this.#min);
    const max = positive(OWNER, "maxLimit", p.maxLimit ?? this.#max);
    const initial = positive(OWNER, "initialLimit", p.initialLimit ?? this.#initial);
    ordered(OWNER, "minLimit", min, "maxLimit", max);
    ordered(OWNER, "minLimit", min, "initialLimit", initial);
    ordered(OWNER, "initialLimit", initial, "maxLimit", max);
    this.#ai = ai;
    this.#md = md;
    this.#min = min;
    this.#max = max;
    this.#initial = initial;
    this.#newcomer = Math.min(max, Math.max(min, this.#newcomer));
    for (const [, e] of this.#entries.entries()) e.limit = Math.min(max, Math.max(min, e.limit));
  }

  /** The AIMD parameters in force. */
  parameters(): Record<AimdParameter, number> {
    return {
      additiveIncrease: this.#ai,
      multiplicativeDecrease: this.#md,
      initialLimit: this.#initial,
      maxLimit: this.#max,
      minLimit: this.#min,
    };
  }

  /** Clients tracked now (≤ `maxTrackedClients`). */
  get trackedClients(): number {
    return this.#entries.size;
  }

  /** The limit (packets/s) a client seen for the first time now starts with. */
  get newcomerLimit(): number {
    return this.#newcomer;
  }

  /** True while the adjustment timer started by {@linkcode AimdLimiter.start} runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Admit one packet from `key`, or say how long to wait.
   *
   * @param key the client (`trackingKey(ip)`, a session id)
   * @param urgent true for Ping, Heartbeat, GoAway and KeyUpdate: metered
   * against the fixed urgent budget instead of the adaptive limit
   * @returns `{ allowed: true }`, or `{ allowed: false, retryAfterMs }`
   */
  tryAcquire(key: string, urgent = false): AimdDecision {
    const now = this.#clock.monotonic();
    const e = this.#touch(key, now);
    if (urgent) {
      if (e.urgentTokens >= 1 - EPSILON) {
        e.urgentTokens = Math.max(0, e.urgentTokens - 1);
        return ALLOWED;
      }
      return refused(e.urgentTokens, this.#urgent);
    }
    if (e.tokens >= 1 - EPSILON) {
      e.tokens = Math.max(0, e.tokens - 1);
      e.used++;
      return ALLOWED;
    }
    return refused(e.tokens, e.limit);
  }

  /**
   * The current limit of `key` in packets/s; for an untracked key, the limit
   * it would start with ({@linkcode AimdLimiter.newcomerLimit}). Does not
   * refresh the key's LRU position.
   *
   * @param key the client
   * @returns packets per second
   */
  limitOf(key: string): number {
    return this.#entries.get(key)?.limit ?? this.#newcomer;
  }

  /**
   * Stop tracking `key` (its connection closed). It comes back as a
   * newcomer, with {@linkcode AimdLimiter.newcomerLimit}.
   *
   * @param key the client
   * @returns true when the key was tracked
   */
  forget(key: string): boolean {
    return this.#entries.delete(key);
  }

  /**
   * One adjustment: ask `isOverloaded` once, then shrink every limit
   * (overloaded) or grow the limits of clients that used them (healthy), and
   * forget clients idle for `idleEvictMs`. Called by the timer of
   * {@linkcode AimdLimiter.start} every `adjustIntervalMs`; tests call it
   * directly.
   *
   * @returns what the tick decided
   */
  tick(): AimdTickResult {
    const now = this.#clock.monotonic();
    let overloaded: boolean | undefined;
    try {
      overloaded = this.#isOverloaded() === true;
    } catch {
      overloaded = undefined; // hold the limits; see the module doc
    }
    if (overloaded === true) {
      this.#newcomer = this.#shrink(this.#newcomer);
    } else if (overloaded === false) {
      this.#newcomer = Math.min(this.#initial, this.#newcomer + this.#ai);
    }
    let evicted = 0;
    // Deleting the current entry while iterating a Map is safe in JS.
    for (const [key, e] of this.#entries) {
      if (now - e.seenAt >= this.#idleMs) {
        this.#entries.delete(key);
        evicted++;
        continue;
      }
      if (overloaded !== undefined) {
        const next = overloaded ? this.#shrink(e.limit) : this.#grow(e);
        if (next !== e.limit) {
          this.#refill(e, now); // tokens earned so far accrue at the old rate
          e.limit = next;
          if (e.tokens > next) e.tokens = next;
        }
      }
      e.used = 0;
    }
    return {
      overloaded,
      evicted,
      trackedClients: this.#entries.size,
      newcomerLimit: this.#newcomer,
    };
  }

  /**
   * Run {@linkcode AimdLimiter.tick} every `adjustIntervalMs` on the clock.
   * Calling it while running does nothing.
   */
  start(): void {
    if (this.#timer !== undefined) return;
    const loop = () => {
      this.#timer = this.#clock.setTimeout(loop, this.#intervalMs);
      this.tick();
    };
    this.#timer = this.#clock.setTimeout(loop, this.#intervalMs);
  }

  /** Stop the adjustment timer; limits and tracked clients are kept. */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #touch(key: string, now: number): Entry {
    let e = this.#entries.get(key);
    if (e) {
      this.#entries.delete(key);
      this.#refill(e, now);
    } else {
      if (this.#entries.size >= this.#maxTracked) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
      e = {
        limit: this.#newcomer,
        tokens: this.#newcomer,
        urgentTokens: this.#urgent,
        refilledAt: now,
        seenAt: now,
        used: 0,
      };
    }
    e.seenAt = now;
    this.#entries.set(key, e);
    return e;
  }

  #refill(e: Entry, now: number): void {
    const elapsedMs = now - e.refilledAt;
    if (elapsedMs <= 0) return;
    e.tokens = Math.min(e.limit, e.tokens + (elapsedMs * e.limit) / 1000);
    e.urgentTokens = Math.min(this.#urgent, e.urgentTokens + (elapsedMs * this.#urgent) / 1000);
    e.refilledAt = now;
  }

  #shrink(limit: number): number {
    return Math.max(this.#min, Math.floor(limit * this.#md));
  }

  #grow(e: Entry): number {
    if (e.used >= Math.max(1, this.#growth * e.limit)) {
      return Math.min(this.#max, e.limit + this.#ai);
    }
    if (e.limit < this.#newcomer) return Math.min(this.#newcomer, e.limit + this.#ai);
    return e.limit;
  }
}

function refused(tokens: number, ratePerSecond: number): AimdDecision {
  const retryAfterMs = Math.max(1, Math.ceil(((1 - tokens) * 1000) / ratePerSecond));
  return { allowed: false, retryAfterMs };
}
