/**
 * Per-caller database request limit: at most `maxRequestsPerMinute` requests
 * per `windowMs` per caller, as a GCRA (the exact form of a token bucket
 * holding `maxRequestsPerMinute` tokens that refills evenly over `windowMs`).
 * A caller may burst its whole allowance, then continues at the steady rate;
 * refused requests cost nothing. One number per caller, at most
 * `maxTrackedCallers` callers, least recently seen evicted first.
 */

import { DatabaseError } from "../../errors.ts";
import type { Clock } from "../../util/mod.ts";
import { type DbSecurityEventSink, emitEvent } from "./events.ts";

/** Options for {@linkcode QueryRateLimiter}. */
export interface QueryRateLimiterOptions {
  /** Requests a caller may make per window (DatabaseConfig.maxRequestsPerMinute). */
  readonly maxRequestsPerMinute: number;
  /** Monotonic time for the limit, wall time for event timestamps. */
  readonly clock: Clock;
  /** The window the allowance refills over. @default {60000} */
  readonly windowMs?: number;
  /** Callers tracked at once; the least recently seen is forgotten first. @default {10000} */
  readonly maxTrackedCallers?: number;
  /** Receives one `ORMQueryFlood` per caller per window while it is limited. */
  readonly onEvent?: DbSecurityEventSink;
}

/**
 * `DB_RATE_LIMITED` (a `DatabaseError`): the caller must wait `retryAfterMs`
 * before its next request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DbRateLimitedError, QueryRateLimiter } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const limiter = new QueryRateLimiter({ maxRequestsPerMinute: 1, clock: new ManualClock() });
 * limiter.acquire("client-1");
 * assert.throws(() => limiter.acquire("client-1"), (e) => {
 *   assert.ok(e instanceof DbRateLimitedError);
 *   assert.equal(e.code, "DB_RATE_LIMITED");
 *   assert.equal(e.retryAfterMs, 60_000);
 *   return true;
 * });
 * ```
 */
export class DbRateLimitedError extends DatabaseError {
  /** Milliseconds until one more request would be admitted (≥ 1). */
  readonly retryAfterMs: number;

  /**
   * Make the error for a refused request.
   *
   * @param retryAfterMs wait until the next admitted request
   * @param limit requests per window
   * @param windowMs the window
   */
  constructor(retryAfterMs: number, limit: number, windowMs: number) {
    super(
      "DB_RATE_LIMITED",
      `Cannot run query: more than ${limit} database requests per ${windowMs} ms; retry after ${retryAfterMs} ms`,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

interface Entry {
  /** GCRA theoretical arrival time: when the allowance is full again. */
  tat: number;
  /** Monotonic time of the last ORMQueryFlood event for this caller. */
  floodAt: number;
}

// Float slack for comparing accumulated intervals (windowMs / limit sums).
const EPSILON_MS = 1e-6;

/**
 * Per-caller database request limit (GCRA over `windowMs`), bounded to
 * `maxTrackedCallers` callers, reporting `ORMQueryFlood` once per window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DbSecurityEvent, QueryRateLimiter } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const clock = new ManualClock();
 * const events: DbSecurityEvent[] = [];
 * const limiter = new QueryRateLimiter({
 *   maxRequestsPerMinute: 2,
 *   clock,
 *   onEvent: (e) => events.push(e),
 * });
 * assert.equal(limiter.tryAcquire("10.0.0.1"), 0);
 * assert.equal(limiter.tryAcquire("10.0.0.1"), 0);
 * assert.equal(limiter.tryAcquire("10.0.0.1"), 30_000); // one request per 30 s after the burst
 * assert.equal(events[0].kind, "ORMQueryFlood");
 * clock.advance(30_000);
 * assert.equal(limiter.tryAcquire("10.0.0.1"), 0);
 * ```
 */
export class QueryRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #intervalMs: number;
  readonly #toleranceMs: number;
  readonly #maxTracked: number;
  readonly #clock: Clock;
  readonly #onEvent: DbSecurityEventSink | undefined;
  readonly #entries = new Map<string, Entry>(); // insertion order = LRU order

  /**
   * Make a limiter; it tracks nothing until the first request.
   *
   * @param options the limit, clock, window, caller bound and event sink
   * @throws {RangeError} when a limit is not a positive integer
   */
  constructor(options: QueryRateLimiterOptions) {
    this.#limit = positiveInt(options.maxRequestsPerMinute, "maxRequestsPerMinute");
    this.#windowMs = positiveInt(options.windowMs ?? 60_000, "windowMs");
    this.#maxTracked = positiveInt(options.maxTrackedCallers ?? 10_000, "maxTrackedCallers");
    this.#intervalMs = this.#windowMs / this.#limit;
    this.#toleranceMs = this.#windowMs - this.#intervalMs;
    this.#clock = options.clock;
    this.#onEvent = options.onEvent;
  }

  /** Callers tracked now (≤ `maxTrackedCallers`). */
  get trackedCallers(): number {
    return this.#entries.size;
  }

  /**
   * Admit one request from `caller`, or say how long to wait.
   *
   * @param caller identity (client IP, session id)
   * @returns 0 when admitted, otherwise the milliseconds until the next admission (≥ 1)
   */
  tryAcquire(caller: string): number {
    const now = this.#clock.monotonic();
    let e = this.#entries.get(caller);
    if (e) this.#entries.delete(caller);
    else e = { tat: now, floodAt: -Infinity };
    this.#entries.set(caller, e); // most recently seen last
    if (this.#entries.size > this.#maxTracked) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    const tat = Math.max(e.tat, now);
    if (tat - now <= this.#toleranceMs + EPSILON_MS) {
      e.tat = tat + this.#intervalMs;
      return 0;
    }
    const retryAfterMs = Math.max(1, Math.ceil(tat - this.#toleranceMs - now - EPSILON_MS));
    if (now - e.floodAt >= this.#windowMs) {
      e.floodAt = now;
      emitEvent(this.#onEvent, {
        kind: "ORMQueryFlood",
        caller,
        detail: `more than ${this.#limit} database requests per ${this.#windowMs} ms`,
        atMs: this.#clock.now(),
      });
    }
    return retryAfterMs;
  }

  /**
   * Admit one request from `caller` or throw.
   *
   * @param caller identity (client IP, session id)
   * @throws {DbRateLimitedError} (`DatabaseError`, `DB_RATE_LIMITED`) with `retryAfterMs`
   */
  acquire(caller: string): void {
    const retryAfterMs = this.tryAcquire(caller);
    if (retryAfterMs > 0) throw new DbRateLimitedError(retryAfterMs, this.#limit, this.#windowMs);
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`Cannot create QueryRateLimiter: ${name} must be a positive integer`);
  }
  return v;
}
