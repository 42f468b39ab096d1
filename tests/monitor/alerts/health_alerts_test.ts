import assert from "node:assert/strict";
import { ManualClock } from "../../../src/util/mod.ts";
import type { CheckResult, HealthStatus } from "../../../src/monitor/types.ts";
import {
  type AlertEvent,
  AlertManager,
  thresholdRule,
  watchHealth,
} from "../../../src/monitor/alerts/mod.ts";

function setup() {
  const clock = new ManualClock(0);
  const manager = new AlertManager({ clock });
  const events: AlertEvent[] = [];
  manager.onChange((e) => events.push(e));
  return { clock, manager, events };
}

function result(name: string, status: HealthStatus, message?: string): CheckResult {
  return { name, status, message, latencyMs: 12.4, checkedAtMs: 0 };
}

Deno.test("watchHealth: healthy → degraded raises a warning, → unhealthy escalates to error, → healthy resolves", () => {
  const { manager, events } = setup();
  const onResult = watchHealth(manager);
  onResult(result("memory", "healthy"));
  assert.equal(events.length, 0, "healthy from the start raises nothing");
  onResult(result("memory", "degraded", "rss 900 MiB"));
  const warn = manager.openFor("check:memory")!;
  assert.equal(warn.level, "warning");
  assert.equal(warn.title, 'Health check "memory" is degraded');
  assert.match(warn.message, /rss 900 MiB \(healthy → degraded, latency 12 ms\)/);
  onResult(result("memory", "unhealthy", "rss 2 GiB"));
  assert.equal(manager.openFor("check:memory")?.level, "error");
  onResult(result("memory", "unhealthy", "rss 2 GiB"));
  onResult(result("memory", "healthy"));
  assert.equal(manager.openFor("check:memory"), undefined);
  assert.deepEqual(events.map((e) => e.event), ["raised", "escalated", "resolved"]);
  assert.equal(events[2].alert.occurrences, 3);
  onResult(result("memory", "healthy"));
  assert.equal(events.length, 3, "healthy again: nothing new");
});

Deno.test("watchHealth: checks in the critical list raise critical; a persisting failure stays one alert", () => {
  const { clock, manager, events } = setup();
  const onResult = watchHealth(manager, { critical: ["database"] });
  onResult(result("database", "unhealthy", "connection\nrefused"));
  clock.advance(10_000);
  onResult(result("database", "unhealthy", "connection refused"));
  onResult(result("network", "unhealthy"));
  const dbAlert = manager.openFor("check:database")!;
  assert.equal(dbAlert.level, "critical");
  assert.equal(dbAlert.occurrences, 2);
  assert.equal(dbAlert.lastSeenAtMs, 10_000);
  assert.match(dbAlert.message, /^connection refused \(still unhealthy/);
  assert.equal(manager.openFor("check:network")?.level, "error");
  assert.match(manager.openFor("check:network")!.message, /no reason given/);
  assert.deepEqual(events.map((e) => e.event), ["raised", "raised"]);
});

Deno.test("watchHealth: unhealthy → degraded keeps the alert open at its level; details are never copied", () => {
  const { manager } = setup();
  const onResult = watchHealth(manager);
  onResult({ ...result("disk", "unhealthy", "full"), details: { path: "/secret/dir" } });
  onResult(result("disk", "degraded", "90%"));
  const a = manager.openFor("check:disk")!;
  assert.equal(a.level, "error");
  assert.equal(a.occurrences, 2);
  assert.ok(!JSON.stringify(manager.list()).includes("/secret/dir"));
});

Deno.test("thresholdRule: raises above, folds repeats, holds within the hysteresis band, resolves below it", () => {
  const { manager, events } = setup();
  let value = 50;
  const rule = thresholdRule(manager, {
    key: "threshold:memory_rss",
    level: "warning",
    read: () => value,
    above: 100,
    hysteresis: 10,
    unit: "MiB",
    title: "Memory RSS high",
  });
  assert.equal(rule.evaluate(), 50);
  assert.ok(!rule.firing);
  value = 100; // not strictly above
  rule.evaluate();
  assert.ok(!rule.firing);
  value = 120;
  rule.evaluate();
  value = 130;
  rule.evaluate();
  assert.ok(rule.firing);
  const open = manager.openFor("threshold:memory_rss")!;
  assert.equal(open.occurrences, 2);
  assert.equal(open.message, "130 MiB is above the threshold 100 MiB");
  value = 95; // below 100, above 90: still firing
  rule.evaluate();
  assert.ok(rule.firing);
  assert.ok(manager.openFor("threshold:memory_rss"));
  value = 90; // at the clear point
  rule.evaluate();
  assert.ok(!rule.firing);
  assert.equal(manager.openFor("threshold:memory_rss"), undefined);
  value = 95; // below the threshold: stays quiet
  rule.evaluate();
  assert.deepEqual(events.map((e) => e.event), ["raised", "resolved"]);
});

Deno.test("thresholdRule: without hysteresis resolves at the threshold; a failing reader changes nothing", () => {
  const { manager } = setup();
  let value: number | Error = 11;
  const rule = thresholdRule(manager, {
    key: "threshold:lag",
    level: "error",
    read: () => {
      if (value instanceof Error) throw value;
      return value;
    },
    above: 10,
    title: "Lag",
  });
  rule.evaluate();
  assert.ok(rule.firing);
  value = new Error("reader broke");
  assert.ok(Number.isNaN(rule.evaluate()));
  assert.ok(rule.firing);
  value = NaN;
  assert.ok(Number.isNaN(rule.evaluate()));
  value = 10;
  rule.evaluate();
  assert.ok(!rule.firing);
  assert.throws(
    () =>
      thresholdRule(manager, { key: "k", level: "info", read: () => 0, above: NaN, title: "t" }),
    RangeError,
  );
  assert.throws(
    () =>
      thresholdRule(manager, {
        key: "k",
        level: "info",
        read: () => 0,
        above: 1,
        hysteresis: -1,
        title: "t",
      }),
    RangeError,
  );
});
