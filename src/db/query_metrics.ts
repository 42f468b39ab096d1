/**
 * Per-query measurements the monitoring layer reads (and publishes to
 * Prometheus): durations by operation and table as histograms, rows, errors
 * by code, slow queries. Bounded: operations are a closed set and tables
 * are the ones the ORM declared, so label cardinality stays small.
 */

import type { QueryOperation } from "../orm/mod.ts";

/** Upper bounds (ms) of the duration histogram buckets; the last bucket is +Inf. */
export const DURATION_BUCKETS_MS: readonly number[] = [
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
];

/** A duration histogram (cumulative-free counts per bucket, plus sum and count). */
export interface DurationHistogram {
  /** counts[i] = observations ≤ DURATION_BUCKETS_MS[i] and > the previous bound; last = +Inf. */
  readonly counts: number[];
  sumMs: number;
  count: number;
}

/** Figures for one (operation, table) pair. */
export interface QueryFigures {
  readonly operation: QueryOperation;
  /** First table the statement touched ("" for none, e.g. `SELECT 1`). */
  readonly table: string;
  readonly duration: DurationHistogram;
  rows: number;
  errors: number;
}

/** Snapshot of everything measured. */
export interface QueryMetricsSnapshot {
  readonly queries: readonly QueryFigures[];
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly slowQueries: number;
}

/** See module doc. */
export class QueryMetrics {
  readonly #figures = new Map<string, QueryFigures>();
  // operation → table → figures: no key string built per statement.
  readonly #byOperation = new Map<QueryOperation, Map<string, QueryFigures>>();
  readonly #errorsByCode = new Map<string, number>();
  readonly #slowMs: number;
  #slow = 0;

  /** @param slowQueryMs durations at or above this count as slow */
  constructor(slowQueryMs: number) {
    this.#slowMs = slowQueryMs;
  }

  /** Record one finished statement. */
  record(
    operation: QueryOperation,
    table: string,
    durationMs: number,
    rows: number,
    errorCode?: string,
  ): void {
    let tables = this.#byOperation.get(operation);
    if (!tables) this.#byOperation.set(operation, tables = new Map());
    let f = tables.get(table);
    if (!f) {
      f = {
        operation,
        table,
        duration: { counts: new Array(DURATION_BUCKETS_MS.length + 1).fill(0), sumMs: 0, count: 0 },
        rows: 0,
        errors: 0,
      };
      tables.set(table, f);
      this.#figures.set(`${operation}\u0000${table}`, f);
    }
    let i = 0;
    while (i < DURATION_BUCKETS_MS.length && durationMs > DURATION_BUCKETS_MS[i]) i++;
    f.duration.counts[i]++;
    f.duration.sumMs += durationMs;
    f.duration.count++;
    f.rows += rows;
    if (durationMs >= this.#slowMs) this.#slow++;
    if (errorCode !== undefined) {
      f.errors++;
      this.#errorsByCode.set(errorCode, (this.#errorsByCode.get(errorCode) ?? 0) + 1);
    }
  }

  /** A deep copy of the figures. */
  snapshot(): QueryMetricsSnapshot {
    return {
      queries: [...this.#figures.values()].map((f) => ({
        ...f,
        duration: { ...f.duration, counts: f.duration.counts.slice() },
      })),
      errorsByCode: Object.fromEntries(this.#errorsByCode),
      slowQueries: this.#slow,
    };
  }

  /**
   * The p-quantile (0..1) of durations for `operation` (all tables),
   * estimated from the buckets (upper bound of the bucket that holds it).
   */
  quantileMs(operation: QueryOperation, p: number): number | undefined {
    const counts = new Array(DURATION_BUCKETS_MS.length + 1).fill(0);
    let total = 0;
    for (const f of this.#figures.values()) {
      if (f.operation !== operation) continue;
      f.duration.counts.forEach((c, i) => (counts[i] += c));
      total += f.duration.count;
    }
    if (total === 0) return undefined;
    const rank = Math.ceil(p * total);
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) return DURATION_BUCKETS_MS[i] ?? Infinity;
    }
    return Infinity;
  }
}
