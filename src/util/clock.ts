/** Time as a dependency: production code takes a `Clock`; tests pass a manual one. */

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock, used for protocol timestamps). */
  now(): number;
  /** Monotonic milliseconds (used for durations and deadlines). */
  monotonic(): number;
  /** Schedule `fn` after `ms`; returns a handle for {@linkcode Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): number;
  /** Cancel a timer made by {@linkcode Clock.setTimeout}. */
  clearTimeout(handle: number): void;
}

/** The real clock. Timers are unref'd-free plain timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as number,
  clearTimeout: (h) => clearTimeout(h),
};

/**
 * A clock that only moves when told to. Timers fire synchronously inside
 * {@linkcode ManualClock.advance}, in deadline order.
 */
export class ManualClock implements Clock {
  #wall: number;
  #mono = 0;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startWallMs = 1_700_000_000_000) {
    this.#wall = startWallMs;
  }
  now(): number {
    return this.#wall + this.#mono;
  }
  monotonic(): number {
    return this.#mono;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#mono + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: number): void {
    this.#timers.delete(handle);
  }
  /** Number of timers still pending. */
  get pendingTimers(): number {
    return this.#timers.size;
  }
  /** Move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      let bestId = -1;
      let bestAt = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.at <= target && t.at < bestAt) {
          bestAt = t.at;
          bestId = id;
        }
      }
      if (bestId < 0) break;
      const t = this.#timers.get(bestId)!;
      this.#timers.delete(bestId);
      this.#mono = Math.max(this.#mono, t.at);
      t.fn();
    }
    this.#mono = target;
  }
}
