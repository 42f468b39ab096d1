/**
 * Decides whether the server is overloaded, for the AIMD limiter (issue #5),
 * from four signals, each with its own threshold:
 *
 * | signal         | source                                         | default threshold |
 * | -------------- | ---------------------------------------------- | ----------------- |
 * | `eventLoopLag` | a probe timer on the injected clock            | 100 ms            |
 * | `queueDepth`   | `queueDepth()`: requests queued for handlers   | 1000              |
 * | `cpuLoad`      | `loadPerCore()`: 1-minute load average / cores | 1.5               |
 * | `dbWaiting`    | `dbWaiting()`: callers waiting for a DB conn.  | 8                 |
 *
 * **Event-loop lag.** `start()` arms a timer every `lagProbeIntervalMs`
 * (500 ms); when it fires, lag = the clock's monotonic time − the time it was
 * due. Samples are smoothed with an exponentially weighted moving average
 * (`lagSmoothing` 0.3): one 300 ms GC pause moves the average to 90 ms, not
 * past the threshold, while a sustained 150 ms lag crosses 100 ms within
 * four probes (2 s). A max-over-window would shrink every client's limit
 * after each isolated pause. Lag measured elsewhere can be fed with
 * {@linkcode LoadMonitor.recordLagSample}, the same path the probe uses.
 *
 * **Hysteresis.** The monitor enters overload when any signal is above its
 * threshold and leaves it only when every signal is at or below
 * `recoveryRatio` (0.8) × its threshold, so a signal hovering at the
 * threshold does not flip the limiter between growth and decrease each
 * second.
 *
 * A callback that is absent, throws or returns a non-finite number
 * contributes nothing (its reading is `undefined`); a threshold of
 * `Infinity` disables its signal. Callbacks are read on each
 * `isOverloaded()`/`snapshot()` call, i.e. once per limiter tick.
 *
 * @module
 */

import type { Clock } from "../../util/mod.ts";
import { fraction, positive, threshold } from "./_validate.ts";

/**
 * The four load signals.
 *
 * @example List the signals over their thresholds
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoadMonitor, type LoadSignal } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const monitor = new LoadMonitor({ clock: new ManualClock(), dbWaiting: () => 20 });
 * const over: readonly LoadSignal[] = monitor.snapshot().over;
 * assert.deepEqual(over, ["dbWaiting"]);
 * ```
 */
export type LoadSignal = "eventLoopLag" | "queueDepth" | "cpuLoad" | "dbWaiting";

/**
 * Options for {@linkcode LoadMonitor}; every threshold is overridable.
 *
 * @example The server's sources, with a stricter lag threshold
 * ```ts
 * import { LoadMonitor, type LoadMonitorOptions } from "./mod.ts";
 * import { systemClock } from "../../util/mod.ts";
 *
 * const options: LoadMonitorOptions = {
 *   clock: systemClock,
 *   queueDepth: () => 0, // scheduler.queued
 *   loadPerCore: () => Deno.loadavg()[0] / navigator.hardwareConcurrency,
 *   dbWaiting: () => 0, // database.metrics.waiting
 *   maxEventLoopLagMs: 50,
 * };
 * const monitor = new LoadMonitor(options);
 * console.assert(monitor.snapshot().signals.eventLoopLag.threshold === 50);
 * ```
 */
export interface LoadMonitorOptions {
  /** Runs the lag probe. */
  readonly clock: Clock;
  /** Requests waiting for a handler (e.g. the scheduler's queue length). */
  readonly queueDepth?: () => number;
  /**
   * CPU load average per core, e.g.
   * `() => Deno.loadavg()[0] / navigator.hardwareConcurrency`.
   */
  readonly loadPerCore?: () => number;
  /** Callers waiting for a database connection. */
  readonly dbWaiting?: () => number;
  /** Smoothed event-loop lag above which the server is overloaded (ms). @default {100} */
  readonly maxEventLoopLagMs?: number;
  /** Handler queue depth above which the server is overloaded. @default {1000} */
  readonly maxQueueDepth?: number;
  /** Load average per core above which the server is overloaded. @default {1.5} */
  readonly maxLoadPerCore?: number;
  /** DB pool waiters above which the server is overloaded. @default {8} */
  readonly maxDbWaiting?: number;
  /** Overload ends when every signal is ≤ this share of its threshold, in (0, 1]. @default {0.8} */
  readonly recoveryRatio?: number;
  /** Period of the lag probe (ms). @default {500} */
  readonly lagProbeIntervalMs?: number;
  /** Weight of a new lag sample in the moving average, in (0, 1]. @default {0.3} */
  readonly lagSmoothing?: number;
}

/**
 * One signal's reading in a {@linkcode LoadSnapshot}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoadMonitor, type LoadSignalReading } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const monitor = new LoadMonitor({ clock: new ManualClock(), loadPerCore: () => 2 });
 * const cpu: LoadSignalReading = monitor.snapshot().signals.cpuLoad;
 * assert.deepEqual(cpu, { value: 2, threshold: 1.5, over: true });
 * ```
 */
export interface LoadSignalReading {
  /** Current value; `undefined` when the signal has no source or no sample yet. */
  readonly value: number | undefined;
  /** Overload threshold. */
  readonly threshold: number;
  /** True when `value` is above `threshold`. */
  readonly over: boolean;
}

/**
 * The monitor's state, for monitoring and "explain".
 *
 * @example Before the lag probe has run and with no other sources
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoadMonitor, type LoadSnapshot } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const snap: LoadSnapshot = new LoadMonitor({ clock: new ManualClock() }).snapshot();
 * assert.equal(snap.overloaded, false);
 * assert.equal(snap.signals.eventLoopLag.value, undefined);
 * assert.deepEqual(snap.over, []);
 * ```
 */
export interface LoadSnapshot {
  /** The decision, with hysteresis applied. */
  readonly overloaded: boolean;
  /** Each signal's value and threshold. */
  readonly signals: Readonly<Record<LoadSignal, LoadSignalReading>>;
  /** The signals above their thresholds now (empty when none). */
  readonly over: readonly LoadSignal[];
}

const OWNER = "LoadMonitor";

/**
 * Server-load monitor: event-loop lag, handler queue depth, CPU load per core
 * and DB pool waiters against thresholds, with hysteresis (see the module doc).
 *
 * @example Overloaded while the handler queue is deep, healthy again below 80 %
 * ```ts
 * import assert from "node:assert/strict";
 * import { LoadMonitor } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * let queued = 0;
 * const monitor = new LoadMonitor({ clock: new ManualClock(), queueDepth: () => queued });
 * assert.equal(monitor.isOverloaded(), false);
 * queued = 1500;
 * assert.equal(monitor.isOverloaded(), true);
 * assert.deepEqual(monitor.snapshot().over, ["queueDepth"]);
 * queued = 900; // below the threshold, but above 80 % of it: still overloaded
 * assert.equal(monitor.isOverloaded(), true);
 * queued = 700;
 * assert.equal(monitor.isOverloaded(), false);
 * ```
 */
export class LoadMonitor {
  readonly #clock: Clock;
  readonly #sources: Readonly<
    Record<Exclude<LoadSignal, "eventLoopLag">, (() => number) | undefined>
  >;
  readonly #thresholds: Readonly<Record<LoadSignal, number>>;
  readonly #recovery: number;
  readonly #probeMs: number;
  readonly #alpha: number;
  #lagMs: number | undefined;
  #overloaded = false;
  #timer: number | undefined;

  /**
   * Make a monitor. The lag probe does not run until {@linkcode LoadMonitor.start}.
   *
   * @param options clock, signal sources and thresholds
   * @throws {SecurityError} `SECURITY_INVALID_INPUT` when a threshold is not
   * above 0, or a ratio or interval is out of range
   */
  constructor(options: LoadMonitorOptions) {
    this.#clock = options.clock;
    this.#sources = {
      queueDepth: options.queueDepth,
      cpuLoad: options.loadPerCore,
      dbWaiting: options.dbWaiting,
    };
    this.#thresholds = {
      eventLoopLag: threshold(OWNER, "maxEventLoopLagMs", options.maxEventLoopLagMs ?? 100),
      queueDepth: threshold(OWNER, "maxQueueDepth", options.maxQueueDepth ?? 1000),
      cpuLoad: threshold(OWNER, "maxLoadPerCore", options.maxLoadPerCore ?? 1.5),
      dbWaiting: threshold(OWNER, "maxDbWaiting", options.maxDbWaiting ?? 8),
    };
    this.#recovery = fraction(OWNER, "recoveryRatio", options.recoveryRatio ?? 0.8, {
      low: true,
      high: false,
    });
    this.#probeMs = positive(OWNER, "lagProbeIntervalMs", options.lagProbeIntervalMs ?? 500);
    this.#alpha = fraction(OWNER, "lagSmoothing", options.lagSmoothing ?? 0.3, {
      low: true,
      high: false,
    });
  }

  /** The smoothed event-loop lag (ms); `undefined` before the first sample. */
  get eventLoopLagMs(): number | undefined {
    return this.#lagMs;
  }

  /** True while the lag probe started by {@linkcode LoadMonitor.start} runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Whether the server is overloaded now: reads every signal and applies
   * the hysteresis.
   *
   * @returns true while overloaded
   */
  isOverloaded(): boolean {
    return this.#evaluate().overloaded;
  }

  /**
   * Every signal's value and threshold, and the decision.
   *
   * @returns a fresh snapshot (reads every signal, like `isOverloaded()`)
   */
  snapshot(): LoadSnapshot {
    return this.#evaluate();
  }

  /**
   * Feed one event-loop lag sample into the moving average. The probe timer
   * calls it; so may a caller that measures lag another way.
   *
   * @param lagMs how late a timer fired (negative values count as 0)
   */
  recordLagSample(lagMs: number): void {
    if (!Number.isFinite(lagMs)) return;
    const sample = Math.max(0, lagMs);
    this.#lagMs = this.#lagMs === undefined
      ? sample
      : this.#lagMs + this.#alpha * (sample - this.#lagMs);
  }

  /** Start the event-loop lag probe. Calling it while running does nothing. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#arm();
  }

  /** Stop the lag probe; the last smoothed lag is kept. */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    const dueAt = this.#clock.monotonic() + this.#probeMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.recordLagSample(this.#clock.monotonic() - dueAt);
      this.#arm();
    }, this.#probeMs);
  }

  #evaluate(): LoadSnapshot {
    const values: Record<LoadSignal, number | undefined> = {
      eventLoopLag: this.#lagMs,
      queueDepth: read(this.#sources.queueDepth),
      cpuLoad: read(this.#sources.cpuLoad),
      dbWaiting: read(this.#sources.dbWaiting),
    };
    const over: LoadSignal[] = [];
    let allRecovered = true;
    const signals = {} as Record<LoadSignal, LoadSignalReading>;
    for (const name of SIGNALS) {
      const value = values[name];
      const limit = this.#thresholds[name];
      const isOver = value !== undefined && value > limit;
      if (isOver) over.push(name);
      if (value !== undefined && value > limit * this.#recovery) allRecovered = false;
      signals[name] = { value, threshold: limit, over: isOver };
    }
    if (over.length > 0) this.#overloaded = true;
    else if (allRecovered) this.#overloaded = false;
    return { overloaded: this.#overloaded, signals, over };
  }
}

const SIGNALS: readonly LoadSignal[] = ["eventLoopLag", "queueDepth", "cpuLoad", "dbWaiting"];

function read(source: (() => number) | undefined): number | undefined {
  if (source === undefined) return undefined;
  try {
    const v = source();
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
