/**
 * Cached results of SELECTs run through the ORM, keyed by SQL text and
 * parameters, bounded by entry count (least recently used goes first) and
 * age (TTL). Every write through the ORM invalidates the entries that read a
 * table it wrote, so a cached read never outlives a write made through this
 * process. (Writes made elsewhere — another instance, psql — are bounded by
 * the TTL only.)
 */

import type { Clock } from "../util/mod.ts";

interface Entry {
  readonly rows: readonly unknown[];
  readonly tables: readonly string[];
  readonly expiresAt: number;
}

/** Options for {@linkcode ResultCache}. */
export interface ResultCacheOptions {
  /** Entries kept at most. */
  readonly maxEntries: number;
  /** Entry lifetime. */
  readonly ttlMs: number;
  readonly clock: Clock;
}

/** Counters for the metrics. */
export interface ResultCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly invalidations: number;
}

/** See module doc. */
export class ResultCache {
  readonly #o: ResultCacheOptions;
  // Map iteration order is insertion order: re-inserting on a hit makes it LRU.
  readonly #entries = new Map<string, Entry>();
  readonly #byTable = new Map<string, Set<string>>();
  #hits = 0;
  #misses = 0;
  #invalidations = 0;

  constructor(options: ResultCacheOptions) {
    this.#o = options;
  }

  /** The cache key of a statement: text and parameters (bigint- and bytes-safe). */
  static key(sql: string, params: readonly unknown[]): string {
    return sql + "\u0000" + JSON.stringify(params, keyReplacer);
  }

  /** Cached rows, or undefined (counted as a miss). */
  get<R>(key: string): R[] | undefined {
    const e = this.#entries.get(key);
    if (e && e.expiresAt > this.#o.clock.monotonic()) {
      this.#entries.delete(key);
      this.#entries.set(key, e);
      this.#hits++;
      return e.rows.slice() as R[];
    }
    if (e) this.#remove(key, e);
    this.#misses++;
    return undefined;
  }

  /** Remember `rows` for `key`, read from `tables`. */
  set(key: string, rows: readonly unknown[], tables: readonly string[]): void {
    if (this.#o.maxEntries <= 0) return;
    const old = this.#entries.get(key);
    if (old) this.#remove(key, old);
    while (this.#entries.size >= this.#o.maxEntries) {
      const [k, e] = this.#entries.entries().next().value!;
      this.#remove(k, e);
    }
    this.#entries.set(key, {
      rows: rows.slice(),
      tables,
      expiresAt: this.#o.clock.monotonic() + this.#o.ttlMs,
    });
    for (const t of tables) {
      let s = this.#byTable.get(t);
      if (!s) this.#byTable.set(t, s = new Set());
      s.add(key);
    }
  }

  /** Drop every entry that read one of `tables`. */
  invalidate(tables: readonly string[]): void {
    for (const t of tables) {
      const keys = this.#byTable.get(t);
      if (!keys) continue;
      for (const k of [...keys]) {
        const e = this.#entries.get(k);
        if (e) {
          this.#remove(k, e);
          this.#invalidations++;
        }
      }
    }
  }

  /** Drop everything. */
  clear(): void {
    this.#entries.clear();
    this.#byTable.clear();
  }

  stats(): ResultCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      entries: this.#entries.size,
      invalidations: this.#invalidations,
    };
  }

  #remove(key: string, e: Entry): void {
    this.#entries.delete(key);
    for (const t of e.tables) {
      const s = this.#byTable.get(t);
      s?.delete(key);
      if (s && s.size === 0) this.#byTable.delete(t);
    }
  }
}

function keyReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (v instanceof Uint8Array) return { $bytes: Array.from(v) };
  return v;
}
