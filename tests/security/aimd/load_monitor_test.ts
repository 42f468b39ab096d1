import assert from "node:assert/strict";
import {
  AimdLimiter,
  LoadMonitor,
  type LoadMonitorOptions,
} from "../../../src/security/aimd/mod.ts";
import { SecurityError } from "../../../src/errors.ts";
import { type Clock, ManualClock } from "../../../src/util/mod.ts";

/**
 * A ManualClock whose monotonic time can be pushed ahead of its timers:
 * `block(ms)` models a handler that kept the event loop busy for `ms`, so the
 * next timer fires `ms` late as seen by `monotonic()`.
 */
class LaggingClock implements Clock {
  readonly manual = new ManualClock();
  #skewMs = 0;
  now(): number {
    return this.manual.now() + this.#skewMs;
  }
  monotonic(): number {
    return this.manual.monotonic() + this.#skewMs;
  }
  setTimeout(fn: () => void, ms: number): number {
    return this.manual.setTimeout(fn, ms);
  }
  clearTimeout(handle: number): void {
    this.manual.clearTimeout(handle);
  }
  block(ms: number): void {
    this.#skewMs += ms;
  }
  advance(ms: number): void {
    this.manual.advance(ms);
  }
}

Deno.test("LoadMonitor is healthy with no sources and no lag sample", () => {
  const monitor = new LoadMonitor({ clock: new ManualClock() });
  assert.equal(monitor.isOverloaded(), false);
  const snap = monitor.snapshot();
  assert.deepEqual(snap.over, []);
  assert.deepEqual(snap.signals.queueDepth, { value: undefined, threshold: 1000, over: false });
  assert.deepEqual(snap.signals.cpuLoad, { value: undefined, threshold: 1.5, over: false });
  assert.deepEqual(snap.signals.dbWaiting, { value: undefined, threshold: 8, over: false });
  assert.deepEqual(snap.signals.eventLoopLag, { value: undefined, threshold: 100, over: false });
});

Deno.test("LoadMonitor reports each signal above its own threshold", () => {
  const cases: {
    options: Partial<LoadMonitorOptions>;
    signal: string;
  }[] = [
    { options: { queueDepth: () => 1001 }, signal: "queueDepth" },
    { options: { loadPerCore: () => 1.6 }, signal: "cpuLoad" },
    { options: { dbWaiting: () => 9 }, signal: "dbWaiting" },
    { options: { queueDepth: () => 11, maxQueueDepth: 10 }, signal: "queueDepth" },
    { options: { loadPerCore: () => 0.6, maxLoadPerCore: 0.5 }, signal: "cpuLoad" },
    { options: { dbWaiting: () => 2, maxDbWaiting: 1 }, signal: "dbWaiting" },
  ];
  for (const { options, signal } of cases) {
    const monitor = new LoadMonitor({ clock: new ManualClock(), ...options });
    assert.equal(monitor.isOverloaded(), true, signal);
    assert.deepEqual(monitor.snapshot().over, [signal]);
  }
});

Deno.test("LoadMonitor is not overloaded exactly at a threshold", () => {
  const monitor = new LoadMonitor({
    clock: new ManualClock(),
    queueDepth: () => 1000,
    loadPerCore: () => 1.5,
    dbWaiting: () => 8,
  });
  assert.equal(monitor.isOverloaded(), false);
});

Deno.test("LoadMonitor lists every signal over its threshold", () => {
  const monitor = new LoadMonitor({
    clock: new ManualClock(),
    queueDepth: () => 5000,
    loadPerCore: () => 0.2,
    dbWaiting: () => 50,
  });
  monitor.recordLagSample(500);
  const snap = monitor.snapshot();
  assert.equal(snap.overloaded, true);
  assert.deepEqual(snap.over, ["eventLoopLag", "queueDepth", "dbWaiting"]);
  assert.equal(snap.signals.cpuLoad.value, 0.2);
});

Deno.test("LoadMonitor ignores a source that throws or returns a non-number", () => {
  const monitor = new LoadMonitor({
    clock: new ManualClock(),
    queueDepth: () => {
      throw new Error("scheduler gone");
    },
    loadPerCore: () => NaN,
    dbWaiting: () => Infinity,
  });
  assert.equal(monitor.isOverloaded(), false);
  assert.equal(monitor.snapshot().signals.queueDepth.value, undefined);
});

Deno.test("LoadMonitor threshold Infinity disables a signal", () => {
  const monitor = new LoadMonitor({
    clock: new ManualClock(),
    queueDepth: () => 1e9,
    maxQueueDepth: Infinity,
  });
  assert.equal(monitor.isOverloaded(), false);
});

Deno.test("LoadMonitor leaves overload only below recoveryRatio of every threshold", () => {
  let queued = 0;
  let waiting = 0;
  const monitor = new LoadMonitor({
    clock: new ManualClock(),
    queueDepth: () => queued,
    dbWaiting: () => waiting,
    maxQueueDepth: 100,
    maxDbWaiting: 10,
  });
  queued = 90;
  assert.equal(monitor.isOverloaded(), false); // 90 % of the threshold, not entered
  queued = 101;
  assert.equal(monitor.isOverloaded(), true);
  queued = 90;
  assert.equal(monitor.isOverloaded(), true); // below threshold, above 80 %
  assert.deepEqual(monitor.snapshot().over, []); // but no signal is "over"
  queued = 80;
  waiting = 9; // another signal still above 80 % of its threshold
  assert.equal(monitor.isOverloaded(), true);
  waiting = 8;
  assert.equal(monitor.isOverloaded(), false);
  queued = 95;
  assert.equal(monitor.isOverloaded(), false); // re-entry needs the full threshold
});

Deno.test("LoadMonitor honours a custom recoveryRatio of 1 (no hysteresis)", () => {
  let queued = 2000;
  const monitor = new LoadMonitor({
    clock: new ManualClock(),
    queueDepth: () => queued,
    recoveryRatio: 1,
  });
  assert.equal(monitor.isOverloaded(), true);
  queued = 1000;
  assert.equal(monitor.isOverloaded(), false);
});

Deno.test("LoadMonitor measures event-loop lag as firing time minus due time", () => {
  const clock = new LaggingClock();
  const monitor = new LoadMonitor({ clock, lagProbeIntervalMs: 500, lagSmoothing: 1 });
  monitor.start();
  clock.advance(500); // on time
  assert.equal(monitor.eventLoopLagMs, 0);
  clock.block(250); // the loop was busy: the next probe fires 250 ms late
  clock.advance(500);
  assert.equal(monitor.eventLoopLagMs, 250);
  assert.equal(monitor.isOverloaded(), true);
  assert.deepEqual(monitor.snapshot().over, ["eventLoopLag"]);
  clock.advance(500); // the probe after the late one is due relative to its own arming
  assert.equal(monitor.eventLoopLagMs, 0);
  assert.equal(monitor.isOverloaded(), false);
  monitor.stop();
});

Deno.test("LoadMonitor smooths lag: one pause does not trip it, sustained lag does", () => {
  const clock = new LaggingClock();
  const monitor = new LoadMonitor({ clock }); // probe 500 ms, smoothing 0.3, threshold 100
  monitor.start();
  clock.advance(500);
  clock.block(300); // one 300 ms GC pause
  clock.advance(500);
  assert.ok(Math.abs(monitor.eventLoopLagMs! - 90) < 1e-9);
  assert.equal(monitor.isOverloaded(), false);
  clock.advance(500);
  assert.ok(monitor.eventLoopLagMs! < 90);

  // Sustained 150 ms lag on every probe crosses 100 ms within four probes.
  let probes = 0;
  while (!monitor.isOverloaded()) {
    clock.block(150);
    clock.advance(500);
    probes++;
    assert.ok(probes <= 4, `still healthy after ${probes} probes`);
  }
  monitor.stop();
});

Deno.test("LoadMonitor recordLagSample feeds the same average and ignores bad samples", () => {
  const monitor = new LoadMonitor({ clock: new ManualClock(), lagSmoothing: 0.5 });
  monitor.recordLagSample(-5);
  assert.equal(monitor.eventLoopLagMs, 0);
  monitor.recordLagSample(200);
  assert.equal(monitor.eventLoopLagMs, 100);
  monitor.recordLagSample(NaN);
  assert.equal(monitor.eventLoopLagMs, 100);
  monitor.recordLagSample(300);
  assert.equal(monitor.eventLoopLagMs, 200);
  assert.equal(monitor.isOverloaded(), true);
});

Deno.test("LoadMonitor start is idempotent and stop cancels the probe timer", () => {
  const clock = new ManualClock();
  const monitor = new LoadMonitor({ clock });
  monitor.start();
  monitor.start();
  assert.equal(monitor.running, true);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(2000);
  assert.equal(clock.pendingTimers, 1);
  assert.equal(monitor.eventLoopLagMs, 0);
  monitor.stop();
  monitor.stop();
  assert.equal(monitor.running, false);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("LoadMonitor rejects nonsense options with SECURITY_INVALID_INPUT", () => {
  const clock = new ManualClock();
  const bad: Partial<LoadMonitorOptions>[] = [
    { maxEventLoopLagMs: 0 },
    { maxQueueDepth: -1 },
    { maxLoadPerCore: NaN },
    { maxDbWaiting: 0 },
    { recoveryRatio: 0 },
    { recoveryRatio: 1.2 },
    { lagProbeIntervalMs: 0 },
    { lagProbeIntervalMs: Infinity },
    { lagSmoothing: 0 },
    { lagSmoothing: 2 },
  ];
  for (const options of bad) {
    assert.throws(
      () => new LoadMonitor({ clock, ...options }),
      (e) => e instanceof SecurityError && e.code === "SECURITY_INVALID_INPUT",
      JSON.stringify(options),
    );
  }
});

Deno.test("LoadMonitor drives AimdLimiter: limits shrink under load and grow back when healthy", () => {
  const clock = new ManualClock();
  let queued = 0;
  const monitor = new LoadMonitor({ clock, queueDepth: () => queued });
  const limiter = new AimdLimiter({ clock, isOverloaded: () => monitor.isOverloaded() });
  monitor.start();
  limiter.start();
  const busy = (seconds: number) => {
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < 10_000 && limiter.tryAcquire("10.0.0.1").allowed; i++);
      clock.advance(1000);
    }
  };
  busy(2);
  assert.equal(limiter.limitOf("10.0.0.1"), 120);
  queued = 5000;
  busy(2);
  assert.equal(limiter.limitOf("10.0.0.1"), 58); // ⌊⌊120 × 0.7⌋ × 0.7⌋
  queued = 900; // under the threshold but not yet recovered (hysteresis)
  busy(1);
  assert.equal(limiter.limitOf("10.0.0.1"), 40);
  queued = 0;
  busy(3);
  assert.equal(limiter.limitOf("10.0.0.1"), 70);
  limiter.stop();
  monitor.stop();
  assert.equal(clock.pendingTimers, 0);
});
