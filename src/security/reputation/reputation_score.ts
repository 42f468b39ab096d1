/**
 * A score per tracking key that decays exponentially: each `add` is worth
 * half as much after `halfLifeMs`. Pure (time is an argument), LRU-bounded:
 * at most `maxKeys` keys, the least recently touched forgotten first.
 */

/** Options for {@linkcode ReputationScore}. */
export interface ReputationScoreOptions {
  /** Time for a score to halve. @default 600 000 (10 min) */
  readonly halfLifeMs?: number;
  /** Keys remembered at most. @default 100 000 */
  readonly maxKeys?: number;
}

interface Entry {
  score: number;
  atMs: number;
}

/**
 * Decaying scores per key (see module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReputationScore } from "./mod.ts";
 *
 * const scores = new ReputationScore({ halfLifeMs: 1000 });
 * scores.add("192.0.2.1", 0.8, 0);
 * assert.equal(scores.get("192.0.2.1", 1000), 0.4);
 * ```
 */
export class ReputationScore {
  readonly #halfLifeMs: number;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>(); // insertion order = LRU order

  /**
   * Create an empty score table.
   * @throws {RangeError} on a non-positive half-life or key bound
   */
  constructor(options: ReputationScoreOptions = {}) {
    this.#halfLifeMs = options.halfLifeMs ?? 600_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    if (!(this.#halfLifeMs > 0) || !Number.isFinite(this.#halfLifeMs)) {
      throw new RangeError(`halfLifeMs must be a positive number: ${this.#halfLifeMs}`);
    }
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1) {
      throw new RangeError(`maxKeys must be a positive integer: ${this.#maxKeys}`);
    }
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Add `amount` to `key`'s decayed score at `nowMs`.
   * @returns the new score
   */
  add(key: string, amount: number, nowMs: number): number {
    const e = this.#entries.get(key);
    const score = (e ? this.#decayed(e, nowMs) : 0) + amount;
    if (e) this.#entries.delete(key);
    this.#entries.set(key, { score, atMs: e ? Math.max(e.atMs, nowMs) : nowMs });
    if (this.#entries.size > this.#maxKeys) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return score;
  }

  /** `key`'s score at `nowMs` (0 when unknown). */
  get(key: string, nowMs: number): number {
    const e = this.#entries.get(key);
    return e ? this.#decayed(e, nowMs) : 0;
  }

  /** Forget `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  #decayed(e: Entry, nowMs: number): number {
    // Time never runs backwards for a score: an earlier `nowMs` sees no decay.
    const dt = Math.max(0, nowMs - e.atMs);
    return e.score * Math.pow(0.5, dt / this.#halfLifeMs);
  }
}
