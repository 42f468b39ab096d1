/**
 * Replay cache for ClientHello ephemeral keys (protocol-v1 §2): an accepted
 * `e` stays until its `timestamp_ms + skew` has passed. Bounded, and fail
 * closed: when full of live entries, new handshakes are refused rather than
 * evicting anything that could still be replayed.
 */

/** Result of {@linkcode ReplayCache.admit}. */
export type AdmitResult = "ok" | "replay" | "full";

/** A bounded set of keys, each with an expiry time. Time is passed in. */
export class ReplayCache {
  readonly #capacity: number;
  readonly #expiry = new Map<string, number>();
  // Min-heap of [expiresAtMs, key] so expired entries leave in O(log n).
  readonly #heap: [number, string][] = [];

  /** @param capacity maximum live entries (> 0). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`ReplayCache capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /** Live entries. */
  get size(): number {
    return this.#expiry.size;
  }

  /** Capacity given at construction. */
  get capacity(): number {
    return this.#capacity;
  }

  /** True if `key` is held at `nowMs` (entries live until their expiry instant, inclusive). */
  has(key: string, nowMs: number): boolean {
    this.#prune(nowMs);
    return this.#expiry.has(key);
  }

  /**
   * Record `key` until `expiresAtMs`, unless it is already there ("replay") or
   * the cache is full of live entries ("full").
   */
  admit(key: string, expiresAtMs: number, nowMs: number): AdmitResult {
    this.#prune(nowMs);
    if (this.#expiry.has(key)) return "replay";
    if (this.#expiry.size >= this.#capacity) return "full";
    this.#expiry.set(key, expiresAtMs);
    this.#push([expiresAtMs, key]);
    return "ok";
  }

  #prune(nowMs: number): void {
    const h = this.#heap;
    // An entry lives through its expiry instant: the handshake's skew check
    // accepts |timestamp − now| == skew, so the entry must still be there then.
    while (h.length > 0 && h[0][0] < nowMs) {
      const [, key] = this.#pop();
      this.#expiry.delete(key);
    }
  }

  #push(item: [number, string]): void {
    const h = this.#heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p][0] <= h[i][0]) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  #pop(): [number, string] {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l][0] < h[m][0]) m = l;
        if (r < h.length && h[r][0] < h[m][0]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
