/**
 * A Prometheus histogram with one label and a fixed set of label values,
 * kept in typed arrays: `observe` allocates nothing (prom-client's own
 * histogram hashes its labels on every call), and bucket counts from a
 * snapshot can be added in bulk (the database's own histograms). It is
 * registered in a prom-client `Registry` as a metric object: the registry
 * only calls `get()` and `reset()`.
 */

import type client from "prom-client";

/** prom-client's histogram metric object (its type is not exported by name). */
export type HistogramObject = Awaited<ReturnType<client.Histogram["get"]>>;
type Value = HistogramObject["values"][number];

interface Series {
  readonly counts: Float64Array; // per bucket, non-cumulative; last = +Inf
  sum: number;
  count: number;
}

/** See module doc. */
export class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly labelNames: readonly string[];
  readonly #label: string;
  readonly #bounds: Float64Array;
  readonly #series: Series[] = [];
  readonly #values: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #beforeGet: () => void;

  constructor(
    name: string,
    help: string,
    label: string,
    bounds: readonly number[],
    beforeGet: () => void = () => {},
  ) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new RangeError(`Buckets of ${name} must increase`);
    }
    this.name = name;
    this.help = help;
    this.#label = label;
    this.labelNames = [label];
    this.#bounds = Float64Array.from(bounds);
    this.#beforeGet = beforeGet;
  }

  /** The upper bounds (without +Inf). */
  get bounds(): readonly number[] {
    return [...this.#bounds];
  }

  /** Index of the series for `value` (created on first use; callers keep the set bounded). */
  series(value: string): number {
    let i = this.#index.get(value);
    if (i === undefined) {
      i = this.#series.length;
      this.#index.set(value, i);
      this.#values.push(value);
      this.#series.push({ counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 });
    }
    return i;
  }

  /** Record one observation in series `index` (from {@linkcode series}). */
  observe(index: number, value: number): void {
    const s = this.#series[index];
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** Add `n` observations to bucket `bucket` (non-cumulative index) of series `index`. */
  addToBucket(index: number, bucket: number, n: number): void {
    const s = this.#series[index];
    s.counts[Math.min(bucket, this.#bounds.length)] += n;
    s.count += n;
  }

  /** Add to the sum of series `index`. */
  addToSum(index: number, sum: number): void {
    this.#series[index].sum += sum;
  }

  /** Called by the registry. */
  reset(): void {
    for (const s of this.#series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** Called by the registry: prom-client's metric object shape. */
  get(): Promise<HistogramObject> {
    this.#beforeGet();
    const values: Value[] = [];
    const label = this.#label;
    for (let k = 0; k < this.#series.length; k++) {
      const s = this.#series[k];
      const v = this.#values[k];
      let acc = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += s.counts[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: this.#bounds[i], [label]: v },
          value: acc,
        });
      }
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: "+Inf", [label]: v },
        value: s.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: { [label]: v }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [label]: v }, value: s.count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type as unknown as client.MetricType,
      aggregator: this.aggregator,
      collect: () => {},
      values,
    });
  }
}

/**
 * Turns cumulative readings of a source into increments that never go
 * backwards. Readings of one source (one snapshot) are taken together: if
 * any of them is below its previous value, the source restarted from zero
 * (a new `Database`, a restarted component), and every reading of that
 * snapshot is new. (A restart whose every reading has already climbed past
 * the old one cannot be told apart; it is counted as growth.)
 */
export class DeltaTracker {
  readonly #last = new Map<string, number>();

  /** Increments for one snapshot's `[key, reading]` pairs, in order. */
  deltas(readings: readonly (readonly [string, number])[]): number[] {
    let reset = false;
    for (const [key, reading] of readings) {
      if (reading < (this.#last.get(key) ?? 0)) reset = true;
    }
    if (reset) this.#last.clear();
    return readings.map(([key, reading]) => {
      if (!Number.isFinite(reading) || reading < 0) return 0;
      const last = this.#last.get(key) ?? 0;
      this.#last.set(key, reading);
      return reading - last;
    });
  }
}
