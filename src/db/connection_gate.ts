/**
 * A counting gate in front of postgres.js, which queues queries without a
 * bound when every connection is busy. The gate gives the pool what the
 * configuration promises: at most `size` statements (or transactions) hold
 * a connection at once, a caller waits at most `acquireTimeoutMs` for one
 * (then `DB_ACQUIRE_TIMEOUT`, never a hang), and in-use / waiting counts for
 * the metrics.
 */

import { DatabaseError } from "../errors.ts";
import type { Clock } from "../util/mod.ts";

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  timer: number | undefined;
}

/** See module doc. */
export class ConnectionGate {
  readonly size: number;
  readonly #acquireTimeoutMs: number;
  readonly #clock: Clock;
  #inUse = 0;
  #waiters: Waiter[] = [];
  #closed = false;

  constructor(size: number, acquireTimeoutMs: number, clock: Clock) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError("gate size must be ≥ 1");
    this.size = size;
    this.#acquireTimeoutMs = acquireTimeoutMs;
    this.#clock = clock;
  }

  /** Slots held now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Take a slot, waiting up to `acquireTimeoutMs`.
   * @throws {DatabaseError} `DB_ACQUIRE_TIMEOUT` when none frees up in time,
   * `DB_CLOSED` after {@linkcode close}.
   */
  acquire(): Promise<void> | void {
    if (this.#closed) throw new DatabaseError("DB_CLOSED", "Database is closed");
    if (this.#inUse < this.size && this.#waiters.length === 0) {
      this.#inUse++;
      return;
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      w.timer = this.#clock.setTimeout(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(
          new DatabaseError(
            "DB_ACQUIRE_TIMEOUT",
            `No database connection free within ${this.#acquireTimeoutMs} ms ` +
              `(${this.size} in use, ${this.#waiters.length} waiting)`,
          ),
        );
      }, this.#acquireTimeoutMs);
      this.#waiters.push(w);
    });
  }

  /** Give a slot back (to the longest waiter, if any). */
  release(): void {
    const w = this.#waiters.shift();
    if (w) {
      this.#clock.clearTimeout(w.timer!);
      w.resolve(); // the slot passes to the waiter: inUse unchanged
      return;
    }
    if (this.#inUse > 0) this.#inUse--;
  }

  /** Refuse new acquisitions and fail every waiter. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      this.#clock.clearTimeout(w.timer!);
      w.reject(new DatabaseError("DB_CLOSED", "Database is closed"));
    }
  }
}
