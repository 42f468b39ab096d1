/**
 * The health-check runner: a registry of {@linkcode HealthCheck}s, run in
 * parallel with a per-check timeout (an `AbortSignal` tells the check to
 * stop), each result cached for the check's TTL, one in-flight run per
 * check shared by concurrent callers, and background runs on an injected
 * {@linkcode Clock}. Probes follow Kubernetes: liveness counts only checks
 * that say "liveness" (fails only when the process must be restarted);
 * readiness counts the "readiness" checks and fails at once after
 * {@linkcode HealthMonitor.setShuttingDown}.
 *
 * @module
 */

import { type Clock, systemClock } from "../../util/mod.ts";
import { errorMessage } from "./_util.ts";
import type {
  CheckOutcome,
  CheckResult,
  HealthCheck,
  HealthReport,
  HealthStatus,
  ProbeKind,
} from "../types.ts";

/**
 * Default per-check timeout (ms), as documented on {@linkcode HealthCheck.timeoutMs}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CHECK_TIMEOUT_MS } from "./health_monitor.ts";
 * assert.equal(DEFAULT_CHECK_TIMEOUT_MS, 5000);
 * ```
 */
export const DEFAULT_CHECK_TIMEOUT_MS = 5000;
/**
 * Default result TTL (ms), as documented on {@linkcode HealthCheck.ttlMs}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CHECK_TTL_MS } from "./health_monitor.ts";
 * assert.equal(DEFAULT_CHECK_TTL_MS, 10_000);
 * ```
 */
export const DEFAULT_CHECK_TTL_MS = 10_000;
/**
 * Default probes of a check, as documented on {@linkcode HealthCheck.probes}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CHECK_PROBES } from "./health_monitor.ts";
 * assert.deepEqual(DEFAULT_CHECK_PROBES, ["readiness"]);
 * ```
 */
export const DEFAULT_CHECK_PROBES: readonly ProbeKind[] = ["readiness"];
/**
 * Name of the synthetic readiness result added once shutting down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthMonitor, SHUTDOWN_CHECK_NAME } from "./health_monitor.ts";
 * const m = new HealthMonitor();
 * m.setShuttingDown();
 * assert.equal(m.snapshot("readiness").checks[0].name, SHUTDOWN_CHECK_NAME);
 * ```
 */
export const SHUTDOWN_CHECK_NAME = "shutdown";

const CHECK_NAME = /^[a-z][a-z0-9_]*$/;
const RANK: Readonly<Record<HealthStatus, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

/**
 * The worst of some statuses (`healthy` for none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { worstStatus } from "./health_monitor.ts";
 * assert.equal(worstStatus(["healthy", "degraded"]), "degraded");
 * assert.equal(worstStatus([]), "healthy");
 * ```
 */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = "healthy";
  for (const s of statuses) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** Called with every fresh result (not with cache hits), and the one it replaces. */
export type HealthResultListener = (
  result: CheckResult,
  previous: CheckResult | undefined,
) => void;

/** Options for {@linkcode HealthMonitor}. */
export interface HealthMonitorOptions {
  /** Time and timers (timeouts, TTLs, background runs). @default systemClock */
  readonly clock?: Clock;
  /** Period of the background runs started by `start()` (ms). @default 15000 */
  readonly intervalMs?: number;
  /** Called when a result listener throws. @default ignore */
  readonly onListenerError?: (error: unknown) => void;
}

interface Entry {
  readonly check: HealthCheck;
  readonly probes: readonly ProbeKind[];
  readonly timeoutMs: number;
  readonly ttlMs: number;
  result?: CheckResult;
  /** Monotonic ms when `result` was produced. */
  resultAtMono?: number;
  inFlight?: Promise<CheckResult>;
}

/**
 * See module doc.
 *
 * @example Register a check, run it, read readiness
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "../../util/mod.ts";
 * import { HealthMonitor } from "./health_monitor.ts";
 * const monitor = new HealthMonitor({ clock: new ManualClock() });
 * monitor.register({ name: "always", run: () => ({ status: "healthy" }) });
 * const ready = await monitor.ready();
 * assert.equal(ready.status, "healthy");
 * monitor.setShuttingDown();
 * assert.equal((await monitor.ready()).status, "unhealthy");
 * ```
 */
export class HealthMonitor {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<HealthResultListener>();
  #timer: number | undefined;
  #started = false;
  #shuttingDownAtMs: number | undefined;

  /**
   * Create a monitor with no checks.
   * @throws {RangeError} when `intervalMs` is not a positive number */
  constructor(options: HealthMonitorOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? 15_000;
    if (!(this.#intervalMs > 0) || !Number.isFinite(this.#intervalMs)) {
      throw new RangeError(
        `Cannot create HealthMonitor: intervalMs ${this.#intervalMs} is not a positive number`,
      );
    }
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  /**
   * Add a check.
   * @throws {TypeError} when the name is not snake_case or is already registered
   * @throws {RangeError} when `timeoutMs` is not positive or `ttlMs` is negative
   */
  register(check: HealthCheck): void {
    if (!CHECK_NAME.test(check.name) || check.name === SHUTDOWN_CHECK_NAME) {
      throw new TypeError(`Cannot register health check: invalid name "${check.name}"`);
    }
    if (this.#entries.has(check.name)) {
      throw new TypeError(`Cannot register health check: "${check.name}" is already registered`);
    }
    const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const ttlMs = check.ttlMs ?? DEFAULT_CHECK_TTL_MS;
    if (!(timeoutMs > 0)) {
      throw new RangeError(`Cannot register health check "${check.name}": timeoutMs ${timeoutMs}`);
    }
    if (!(ttlMs >= 0)) {
      throw new RangeError(`Cannot register health check "${check.name}": ttlMs ${ttlMs}`);
    }
    this.#entries.set(check.name, {
      check,
      probes: check.probes ?? DEFAULT_CHECK_PROBES,
      timeoutMs,
      ttlMs,
    });
  }

  /** Remove a check (and its cached result). Returns whether it was registered. */
  unregister(name: string): boolean {
    return this.#entries.delete(name);
  }

  /** Names of the registered checks, in registration order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Run the checks whose cached result has expired (all of them, or only
   * `name`), in parallel; resolves with the current result of each (fresh
   * or cached). Never rejects for a failing check.
   * @throws {RangeError} when `name` is not registered
   */
  run(name?: string): Promise<CheckResult[]> {
    if (name !== undefined) {
      const entry = this.#entries.get(name);
      if (!entry) throw new RangeError(`Cannot run health check: "${name}" is not registered`);
      return this.#runEntries([entry]);
    }
    return this.#runEntries([...this.#entries.values()]);
  }

  /** Liveness: runs due liveness checks, reports their worst status. */
  live(): Promise<HealthReport> {
    return this.report("liveness");
  }

  /**
   * Readiness: runs due readiness checks, reports their worst status;
   * unhealthy at once (without running anything) after `setShuttingDown()`.
   */
  ready(): Promise<HealthReport> {
    return this.report("readiness");
  }

  /** Run the due checks of `probe` (or all checks) and report on them. */
  async report(probe?: ProbeKind): Promise<HealthReport> {
    if (probe !== "readiness" || this.#shuttingDownAtMs === undefined) {
      await this.#runEntries(this.#select(probe));
    }
    return this.snapshot(probe);
  }

  /** A report from cached results only (checks never run yet are left out). */
  snapshot(probe?: ProbeKind): HealthReport {
    const checks: CheckResult[] = [];
    for (const e of this.#select(probe)) if (e.result) checks.push(e.result);
    if (probe !== "liveness" && this.#shuttingDownAtMs !== undefined) {
      checks.push({
        name: SHUTDOWN_CHECK_NAME,
        status: "unhealthy",
        message: "shutting down",
        latencyMs: 0,
        checkedAtMs: this.#shuttingDownAtMs,
      });
    }
    return {
      status: worstStatus(checks.map((c) => c.status)),
      checks,
      atMs: this.#clock.now(),
    };
  }

  /** Latest result of every check that has run, in registration order. */
  results(): CheckResult[] {
    const out: CheckResult[] = [];
    for (const e of this.#entries.values()) if (e.result) out.push(e.result);
    return out;
  }

  /** The probes a registered check counts for (undefined when not registered). */
  probesOf(name: string): readonly ProbeKind[] | undefined {
    return this.#entries.get(name)?.probes;
  }

  /** Watch fresh results (e.g. for alert transitions). Returns an unsubscribe function. */
  onResult(listener: HealthResultListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Readiness becomes unhealthy now and stays so; liveness is unaffected. */
  setShuttingDown(): void {
    this.#shuttingDownAtMs ??= this.#clock.now();
  }

  /** True after {@linkcode HealthMonitor.setShuttingDown}. */
  get shuttingDown(): boolean {
    return this.#shuttingDownAtMs !== undefined;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.#started;
  }

  /** Run all due checks now, then every `intervalMs`, until `stop()`. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#tick();
  }

  /** Stop the background runs (runs in flight finish and are still recorded). */
  stop(): void {
    this.#started = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (!this.#started) return;
    // Fixed rate: a slow run does not push later runs back (in-flight runs are shared).
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#intervalMs);
    this.#runEntries([...this.#entries.values()]).catch(() => {});
  }

  #select(probe: ProbeKind | undefined): Entry[] {
    const all = [...this.#entries.values()];
    return probe === undefined ? all : all.filter((e) => e.probes.includes(probe));
  }

  #runEntries(entries: readonly Entry[]): Promise<CheckResult[]> {
    return Promise.all(entries.map((e) => this.#current(e)));
  }

  #current(e: Entry): Promise<CheckResult> | CheckResult {
    if (e.inFlight) return e.inFlight;
    if (
      e.result && e.resultAtMono !== undefined &&
      this.#clock.monotonic() - e.resultAtMono < e.ttlMs
    ) {
      return e.result;
    }
    const p = this.#execute(e).then((result) => {
      e.inFlight = undefined;
      const previous = e.result;
      e.result = result;
      e.resultAtMono = this.#clock.monotonic();
      // An unregistered (or replaced) check's late result is not announced.
      if (this.#entries.get(e.check.name) === e) this.#notify(result, previous);
      return result;
    });
    e.inFlight = p;
    return p;
  }

  #notify(result: CheckResult, previous: CheckResult | undefined): void {
    for (const l of this.#listeners) {
      try {
        l(result, previous);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  async #execute(e: Entry): Promise<CheckResult> {
    const clock = this.#clock;
    const controller = new AbortController();
    const t0 = clock.monotonic();
    let timer: number | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = clock.setTimeout(() => resolve("timeout"), e.timeoutMs);
    });
    let outcome: CheckOutcome;
    let latencyMs: number;
    try {
      const running = Promise.resolve().then(() => e.check.run(controller.signal));
      // A run that settles after its timeout is ignored (but not left unhandled).
      running.catch(() => {});
      const first = await Promise.race([running, timedOut]);
      if (first === "timeout") {
        controller.abort(new DOMException("health check timed out", "TimeoutError"));
        outcome = { status: "unhealthy", message: `timed out after ${e.timeoutMs} ms` };
        latencyMs = e.timeoutMs;
      } else {
        outcome = normalize(first);
        latencyMs = clock.monotonic() - t0;
      }
    } catch (err) {
      outcome = { status: "unhealthy", message: errorMessage(err) };
      latencyMs = clock.monotonic() - t0;
    } finally {
      clock.clearTimeout(timer!);
    }
    return {
      name: e.check.name,
      status: outcome.status,
      ...(outcome.details !== undefined ? { details: outcome.details } : {}),
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      latencyMs,
      checkedAtMs: clock.now(),
    };
  }
}

function normalize(o: CheckOutcome): CheckOutcome {
  if (o === null || typeof o !== "object" || !(o.status in RANK)) {
    return { status: "unhealthy", message: "check returned an invalid outcome" };
  }
  return o;
}
