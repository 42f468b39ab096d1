/**
 * Adaptive congestion control per client (issue #5): an AIMD packet-rate
 * limiter ({@linkcode AimdLimiter}) driven by a server-load monitor
 * ({@linkcode LoadMonitor}). Limits grow by `additiveIncrease` each healthy
 * second for clients that use them and shrink by `multiplicativeDecrease`
 * each second the server is overloaded (event-loop lag, handler queue
 * depth, CPU load per core or DB pool waiters above thresholds). Urgent
 * control packets have their own fixed budget. Memory is bounded: an
 * LRU-bounded table, idle clients dropped on each tick.
 *
 * Time comes only from the injected `Clock`; both parts have `start()` /
 * `stop()` for their timers, and tests drive them with a `ManualClock`.
 *
 * @example Wire the monitor into the limiter and meter packets
 * ```ts
 * import assert from "node:assert/strict";
 * import { AimdLimiter, LoadMonitor } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const clock = new ManualClock();
 * let queued = 0; // the server passes its scheduler's queue length
 * const monitor = new LoadMonitor({ clock, queueDepth: () => queued });
 * const limiter = new AimdLimiter({
 *   clock,
 *   isOverloaded: () => monitor.isOverloaded(),
 *   additiveIncrease: 10, // the five AIMD fields of config `security.aimd`
 *   multiplicativeDecrease: 0.7,
 *   initialLimit: 100,
 *   maxLimit: 10_000,
 *   minLimit: 10,
 * });
 * monitor.start();
 * limiter.start(); // one adjustment per second
 *
 * const decision = limiter.tryAcquire("192.0.2.7");
 * assert.equal(decision.allowed, true);
 *
 * queued = 5000; // handlers are swamped
 * clock.advance(1000);
 * assert.equal(limiter.limitOf("192.0.2.7"), 70);
 *
 * limiter.stop();
 * monitor.stop();
 * ```
 *
 * @module
 */
export {
  type AimdDecision,
  AimdLimiter,
  type AimdLimiterOptions,
  type AimdParameter,
  type AimdTickResult,
} from "./aimd_limiter.ts";
export {
  LoadMonitor,
  type LoadMonitorOptions,
  type LoadSignal,
  type LoadSignalReading,
  type LoadSnapshot,
} from "./load_monitor.ts";
