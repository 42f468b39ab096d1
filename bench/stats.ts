/**
 * Latency samples and percentiles, number formatting and a plain-text table.
 *
 * @module
 */

/** A growable array of latency samples (ms). */
export class Samples {
  #buf = new Float64Array(1 << 16);
  #n = 0;

  /** Number of samples. */
  get count(): number {
    return this.#n;
  }

  /** Add one sample. */
  push(v: number): void {
    if (this.#n === this.#buf.length) {
      const bigger = new Float64Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    this.#buf[this.#n++] = v;
  }

  /** Add many samples. */
  pushAll(values: Float64Array): void {
    for (const v of values) this.push(v);
  }

  /** The samples in insertion order (a copy). */
  values(): Float64Array {
    return this.#buf.slice(0, this.#n);
  }

  /** The samples, sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.values().sort();
  }
}

/** Nearest-rank percentile (`p` in 0–100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** p50 and p99 of `samples`, in ms. */
export function latencySummary(samples: Samples): { p50_ms: number; p99_ms: number } {
  const s = samples.sorted();
  return { p50_ms: percentile(s, 50), p99_ms: percentile(s, 99) };
}

/** Round to `digits` decimals (for JSON). */
export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** A count with thousands separators: 12 345. */
export function fmtInt(v: number): string {
  if (!Number.isFinite(v)) return "—";
  return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** Milliseconds with 3 significant-ish digits. */
export function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return "—";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A ratio: 0.42×. */
export function fmtRatio(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "—" : `${v.toFixed(2)}×`;
}

/** Bytes as 64 B / 1 KiB / 16 KiB. */
export function fmtBytes(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;
}

/**
 * A text table; columns are right-aligned except those listed in `left`.
 * With `markdown`, a GitHub-flavoured table instead.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { left?: readonly number[]; markdown?: boolean } = {},
): string {
  const left = new Set(options.left ?? [0]);
  if (options.markdown) {
    const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
    const sep = header.map((_, i) => (left.has(i) ? "---" : "---:"));
    return [line(header), line(sep), ...rows.map(line)].join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}
