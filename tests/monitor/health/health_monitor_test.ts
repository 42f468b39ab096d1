import assert from "node:assert/strict";
import {
  HealthMonitor,
  SHUTDOWN_CHECK_NAME,
  worstStatus,
} from "../../../src/monitor/health/mod.ts";
import type {
  CheckOutcome,
  CheckResult,
  HealthCheck,
  HealthStatus,
  ProbeKind,
} from "../../../src/monitor/types.ts";
import { ManualClock, systemClock } from "../../../src/util/mod.ts";
import { deferred } from "../../_helpers/test_server.ts";

/** A check that counts its runs and returns `status()`. */
function counting(
  name: string,
  status: () => HealthStatus = () => "healthy",
  more: Partial<HealthCheck> = {},
): HealthCheck & { calls: number } {
  const c = {
    name,
    calls: 0,
    ...more,
    run(): CheckOutcome {
      c.calls++;
      return { status: status(), details: { n: c.calls } };
    },
  };
  return c;
}

/** A check that only ends when its signal aborts (and records the reason). */
function hanging(name: string, timeoutMs: number): HealthCheck & { reasons: unknown[] } {
  const reasons: unknown[] = [];
  return {
    name,
    timeoutMs,
    reasons,
    run(signal: AbortSignal): Promise<CheckOutcome> {
      return new Promise((_, reject) => {
        signal.addEventListener("abort", () => {
          reasons.push(signal.reason);
          reject(signal.reason);
        });
      });
    },
  };
}

Deno.test("worstStatus picks unhealthy over degraded over healthy", () => {
  assert.equal(worstStatus([]), "healthy");
  assert.equal(worstStatus(["healthy", "degraded", "healthy"]), "degraded");
  assert.equal(worstStatus(["degraded", "unhealthy", "healthy"]), "unhealthy");
});

Deno.test("HealthMonitor rejects invalid and duplicate check names", () => {
  const m = new HealthMonitor({ clock: new ManualClock() });
  m.register(counting("database"));
  assert.throws(() => m.register(counting("database")), TypeError);
  assert.throws(() => m.register(counting("Not-Snake")), TypeError);
  assert.throws(() => m.register(counting(SHUTDOWN_CHECK_NAME)), TypeError);
  assert.throws(() => m.register(counting("t", undefined, { timeoutMs: 0 })), RangeError);
  assert.throws(() => new HealthMonitor({ intervalMs: 0 }), RangeError);
  assert.deepEqual(m.names(), ["database"]);
});

Deno.test("HealthMonitor records latency, time and details of a run", async () => {
  const clock = new ManualClock(1_000_000);
  const m = new HealthMonitor({ clock });
  const gate = deferred<void>();
  m.register({
    name: "slowish",
    async run() {
      await gate.promise;
      return { status: "degraded", message: "meh", details: { x: 1 } };
    },
  });
  const p = m.run();
  clock.advance(40);
  gate.resolve();
  const [r] = await p;
  assert.deepEqual(r, {
    name: "slowish",
    status: "degraded",
    message: "meh",
    details: { x: 1 },
    latencyMs: 40,
    checkedAtMs: 1_000_040,
  });
  assert.deepEqual(m.results(), [r]);
  assert.equal(clock.pendingTimers, 0, "the timeout timer is cleared");
});

Deno.test("HealthMonitor turns a throwing check into unhealthy with its message", async () => {
  const m = new HealthMonitor({ clock: new ManualClock() });
  m.register({
    name: "sync_throw",
    run() {
      throw new Error("boom\nstack-like second line");
    },
  });
  m.register({ name: "async_throw", run: () => Promise.reject(new TypeError("nope")) });
  m.register({ name: "bad_outcome", run: () => ({ status: "weird" }) as unknown as CheckOutcome });
  const results = await m.run();
  assert.deepEqual(
    results.map((r) => [r.name, r.status, r.message]),
    [
      ["sync_throw", "unhealthy", "boom"],
      ["async_throw", "unhealthy", "nope"],
      ["bad_outcome", "unhealthy", "check returned an invalid outcome"],
    ],
  );
});

Deno.test("HealthMonitor times a check out, aborts its signal and reports the timeout as latency", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock });
  const check = hanging("stuck", 1000);
  m.register(check);
  const p = m.run("stuck");
  await Promise.resolve();
  clock.advance(999);
  assert.equal(check.reasons.length, 0);
  clock.advance(1);
  const [r] = await p;
  assert.equal(r.status, "unhealthy");
  assert.equal(r.message, "timed out after 1000 ms");
  assert.equal(r.latencyMs, 1000);
  assert.equal(check.reasons.length, 1);
  assert.equal((check.reasons[0] as DOMException).name, "TimeoutError");
});

Deno.test("HealthMonitor runs independent checks in parallel: two stuck checks time out together", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock });
  m.register(hanging("a", 500));
  m.register(hanging("b", 500));
  const p = m.run();
  clock.advance(500); // one timeout's worth of time, not two
  const results = await p;
  assert.deepEqual(results.map((r) => r.status), ["unhealthy", "unhealthy"]);
});

Deno.test("HealthMonitor runs two slow checks in about one check's time (real clock)", async () => {
  const m = new HealthMonitor({ clock: systemClock });
  const slow = (name: string): HealthCheck => ({
    name,
    timeoutMs: 2000,
    run: () =>
      new Promise<CheckOutcome>((resolve) => setTimeout(() => resolve({ status: "healthy" }), 200)),
  });
  m.register(slow("one"));
  m.register(slow("two"));
  const t0 = performance.now();
  const results = await m.run();
  const elapsed = performance.now() - t0;
  assert.deepEqual(results.map((r) => r.status), ["healthy", "healthy"]);
  assert.ok(elapsed < 380, `took ${elapsed} ms, expected ~200 ms`);
  assert.ok(results.every((r) => r.latencyMs >= 190));
});

Deno.test("HealthMonitor ignores a result that arrives after the timeout", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock });
  const late = deferred<CheckOutcome>();
  m.register({ name: "late", timeoutMs: 100, run: () => late.promise });
  const p = m.run();
  clock.advance(100);
  const [r] = await p;
  late.resolve({ status: "healthy" });
  await Promise.resolve();
  assert.equal(r.status, "unhealthy");
  assert.equal(m.results()[0].status, "unhealthy");
});

Deno.test("HealthMonitor caches a result for its TTL: a second run within the TTL does not run the check", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock });
  const check = counting("cached", undefined, { ttlMs: 10_000 });
  m.register(check);
  const [first] = await m.run();
  clock.advance(9_999);
  const [second] = await m.run();
  assert.equal(check.calls, 1);
  assert.equal(second, first);
  clock.advance(1);
  const [third] = await m.run();
  assert.equal(check.calls, 2);
  assert.notEqual(third, first);
});

Deno.test("HealthMonitor shares one in-flight run among concurrent callers", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock });
  const gate = deferred<void>();
  let calls = 0;
  m.register({
    name: "shared",
    ttlMs: 0,
    async run() {
      calls++;
      await gate.promise;
      return { status: "healthy" };
    },
  });
  const a = m.run();
  const b = m.run("shared");
  const c = m.ready();
  await Promise.resolve();
  gate.resolve();
  const [[ra], [rb], rc] = await Promise.all([a, b, c]);
  assert.equal(calls, 1);
  assert.equal(ra, rb);
  assert.equal(rc.checks[0], ra);
});

Deno.test("HealthMonitor.run(name) runs only that check and rejects unknown names", async () => {
  const m = new HealthMonitor({ clock: new ManualClock() });
  const a = counting("a");
  const b = counting("b");
  m.register(a);
  m.register(b);
  await m.run("b");
  assert.deepEqual([a.calls, b.calls], [0, 1]);
  assert.throws(() => m.run("missing"), RangeError);
});

Deno.test("HealthMonitor liveness counts only liveness checks; readiness only readiness checks", async () => {
  const m = new HealthMonitor({ clock: new ManualClock() });
  const probes = (p: ProbeKind[]) => ({ probes: p });
  m.register(counting("loop", () => "healthy", probes(["liveness", "readiness"])));
  m.register(counting("database", () => "unhealthy", probes(["readiness"])));
  m.register(counting("cpu", () => "degraded", probes([])));
  const live = await m.live();
  assert.equal(live.status, "healthy");
  assert.deepEqual(live.checks.map((c) => c.name), ["loop"]);
  const ready = await m.ready();
  assert.equal(ready.status, "unhealthy");
  assert.deepEqual(ready.checks.map((c) => c.name), ["loop", "database"]);
  const all = await m.report();
  assert.equal(all.status, "unhealthy");
  assert.deepEqual(all.checks.map((c) => c.name), ["loop", "database", "cpu"]);
  assert.deepEqual(m.probesOf("database"), ["readiness"]);
});

Deno.test("HealthMonitor: a check with no probes given counts for readiness only", async () => {
  const m = new HealthMonitor({ clock: new ManualClock() });
  m.register(counting("plain", () => "unhealthy"));
  assert.equal((await m.live()).status, "healthy");
  assert.equal((await m.live()).checks.length, 0);
  assert.equal((await m.ready()).status, "unhealthy");
});

Deno.test("HealthMonitor.setShuttingDown makes readiness unhealthy at once without running checks; liveness is unaffected", async () => {
  const clock = new ManualClock(5_000);
  const m = new HealthMonitor({ clock });
  const db = counting("database", () => "healthy", { probes: ["readiness"], ttlMs: 0 });
  const loop = counting("loop", () => "healthy", { probes: ["liveness"], ttlMs: 0 });
  m.register(db);
  m.register(loop);
  assert.equal((await m.ready()).status, "healthy");
  assert.equal(m.shuttingDown, false);
  m.setShuttingDown();
  assert.equal(m.shuttingDown, true);
  const ready = await m.ready();
  assert.equal(ready.status, "unhealthy");
  const shutdown = ready.checks.find((c) => c.name === SHUTDOWN_CHECK_NAME);
  assert.equal(shutdown?.message, "shutting down");
  assert.equal(shutdown?.checkedAtMs, 5_000);
  assert.equal(db.calls, 1, "readiness checks are not run while shutting down");
  assert.equal(m.snapshot("readiness").status, "unhealthy");
  const live = await m.live();
  assert.equal(live.status, "healthy");
  assert.equal(live.checks.some((c) => c.name === SHUTDOWN_CHECK_NAME), false);
});

Deno.test("HealthMonitor.snapshot reports cached results only", async () => {
  const m = new HealthMonitor({ clock: new ManualClock(0) });
  const c = counting("x", () => "degraded");
  m.register(c);
  assert.deepEqual(m.snapshot(), { status: "healthy", checks: [], atMs: 0 });
  await m.run();
  assert.equal(m.snapshot().status, "degraded");
  assert.equal(c.calls, 1);
});

Deno.test("HealthMonitor runs in the background every intervalMs on its clock until stop()", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock, intervalMs: 15_000 });
  const check = counting("bg", undefined, { ttlMs: 10_000 });
  m.register(check);
  m.start();
  m.start(); // idempotent
  assert.equal(m.running, true);
  await m.run(); // joins the run start() began
  assert.equal(check.calls, 1);
  clock.advance(14_999);
  assert.equal(check.calls, 1);
  clock.advance(1); // the background tick starts a run; run() joins it
  await m.run();
  assert.equal(check.calls, 2);
  clock.advance(15_000);
  await m.run();
  assert.equal(check.calls, 3);
  m.stop();
  assert.equal(m.running, false);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(60_000);
  await Promise.resolve();
  assert.equal(check.calls, 3);
});

Deno.test("HealthMonitor background ticks alone run the checks (no foreground calls)", async () => {
  const clock = new ManualClock();
  const m = new HealthMonitor({ clock, intervalMs: 1_000 });
  const check = counting("bg", undefined, { ttlMs: 0 });
  m.register(check);
  m.start();
  const flush = () => new Promise((r) => setTimeout(r, 0));
  await flush();
  assert.equal(check.calls, 1);
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000);
    await flush();
  }
  assert.equal(check.calls, 6);
  m.stop();
});

Deno.test("HealthMonitor notifies listeners of fresh results with the previous one, not of cache hits", async () => {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const m = new HealthMonitor({ clock, onListenerError: (e) => errors.push(e) });
  let status: HealthStatus = "healthy";
  m.register(counting("flappy", () => status, { ttlMs: 1_000 }));
  const seen: [string, string | undefined][] = [];
  const off = m.onResult((r: CheckResult, prev?: CheckResult) =>
    seen.push([r.status, prev?.status])
  );
  m.onResult(() => {
    throw new Error("listener bug");
  });
  await m.run();
  await m.run(); // cached: no notification
  status = "unhealthy";
  clock.advance(1_000);
  await m.run();
  assert.deepEqual(seen, [["healthy", undefined], ["unhealthy", "healthy"]]);
  assert.equal(errors.length, 2, "a throwing listener is reported, others still run");
  off();
  clock.advance(1_000);
  await m.run();
  assert.equal(seen.length, 2);
});

Deno.test("HealthMonitor.unregister removes a check and its result", async () => {
  const m = new HealthMonitor({ clock: new ManualClock() });
  m.register(counting("a"));
  await m.run();
  assert.equal(m.unregister("a"), true);
  assert.equal(m.unregister("a"), false);
  assert.deepEqual(m.results(), []);
  assert.deepEqual(await m.run(), []);
});
