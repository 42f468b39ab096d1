import assert from "node:assert/strict";
import { createLogger, ManualClock } from "../../../src/util/mod.ts";
import {
  type AlertEvent,
  AlertManager,
  compareAlertLevels,
  createAlerting,
} from "../../../src/monitor/alerts/mod.ts";

const DAY_MS = 86_400_000;

function setup(options: { maxAlerts?: number; retentionDays?: number } = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const manager = new AlertManager({ clock, ...options });
  const events: AlertEvent[] = [];
  manager.onChange((e) => events.push(e));
  return { clock, manager, events };
}

const db = { key: "check:database", title: "Database down", message: "refused" } as const;

Deno.test("AlertManager: three raises of one key make one open alert with 3 occurrences and one notification", () => {
  const { clock, manager, events } = setup();
  const first = manager.raise({ ...db, level: "warning" });
  clock.advance(1000);
  manager.raise({ ...db, level: "warning" });
  clock.advance(1000);
  const third = manager.raise({ ...db, level: "warning", message: "still refused" });
  assert.equal(third.id, first.id);
  assert.equal(third.occurrences, 3);
  assert.equal(third.raisedAtMs, first.raisedAtMs);
  assert.equal(third.lastSeenAtMs, first.raisedAtMs + 2000);
  assert.equal(third.message, "still refused");
  assert.equal(manager.list({ open: true }).length, 1);
  assert.deepEqual(events.map((e) => e.event), ["raised"]);
  assert.ok(Object.isFrozen(third));
});

Deno.test("AlertManager: a repeat at a higher level escalates and notifies; a lower one only counts", () => {
  const { manager, events } = setup();
  manager.raise({ ...db, level: "warning" });
  const up = manager.raise({ ...db, level: "critical", title: "Database unreachable" });
  assert.equal(up.level, "critical");
  assert.equal(up.title, "Database unreachable");
  const down = manager.raise({ ...db, level: "info", title: "Database flaky" });
  assert.equal(down.level, "critical");
  assert.equal(down.title, "Database unreachable");
  assert.equal(down.occurrences, 3);
  assert.deepEqual(events.map((e) => e.event), ["raised", "escalated"]);
  assert.equal(events[1].alert.level, "critical");
  assert.ok(compareAlertLevels("error", "warning") > 0 && compareAlertLevels("info", "info") === 0);
});

Deno.test("AlertManager: resolve closes the alert and notifies; raising again opens a new alert", () => {
  const { clock, manager, events } = setup();
  const a = manager.raise({ ...db, level: "error" });
  clock.advance(5000);
  const r = manager.resolve(db.key)!;
  assert.equal(r.id, a.id);
  assert.equal(r.resolvedAtMs, a.raisedAtMs + 5000);
  assert.equal(manager.resolve(db.key), undefined, "nothing open: no-op");
  const b = manager.raise({ ...db, level: "error" });
  assert.notEqual(b.id, a.id);
  assert.deepEqual([a.id, b.id], ["a-1", "a-2"]);
  assert.equal(b.occurrences, 1);
  assert.deepEqual(events.map((e) => e.event), ["raised", "resolved", "raised"]);
  assert.equal(manager.get(a.id)?.resolvedAtMs, r.resolvedAtMs);
  assert.equal(manager.openFor(db.key)?.id, b.id);
});

Deno.test("AlertManager: acknowledge records who and when, once; unknown ids return undefined", () => {
  const { clock, manager, events } = setup();
  const a = manager.raise({ ...db, level: "error" });
  clock.advance(42);
  const acked = manager.acknowledge(a.id, "  ops-ann ")!;
  assert.equal(acked.acknowledgedBy, "ops-ann");
  assert.equal(acked.acknowledgedAtMs, a.raisedAtMs + 42);
  assert.equal(acked.resolvedAtMs, null, "acknowledging does not resolve");
  clock.advance(1);
  assert.equal(manager.acknowledge(a.id, "bob")?.acknowledgedBy, "ops-ann");
  assert.equal(manager.acknowledge("a-999", "bob"), undefined);
  assert.throws(() => manager.acknowledge(a.id, " "), TypeError);
  assert.deepEqual(events.map((e) => e.event), ["raised", "acknowledged"]);
  // A later repeat keeps the acknowledgement.
  assert.equal(manager.raise({ ...db, level: "error" }).acknowledgedBy, "ops-ann");
});

Deno.test("AlertManager: list filters by open, level, minLevel, acknowledged and limit, newest first", () => {
  const { clock, manager } = setup();
  const levels = ["info", "warning", "error", "critical", "warning"] as const;
  levels.forEach((level, i) => {
    clock.advance(10);
    manager.raise({ key: `k${i}`, level, title: `t${i}`, message: "" });
  });
  manager.resolve("k1");
  manager.acknowledge("a-3", "ann");
  assert.deepEqual(manager.list().map((a) => a.id), ["a-5", "a-4", "a-3", "a-2", "a-1"]);
  assert.deepEqual(manager.list({ open: true }).map((a) => a.id), ["a-5", "a-4", "a-3", "a-1"]);
  assert.deepEqual(manager.list({ open: false }).map((a) => a.id), ["a-2"]);
  assert.deepEqual(manager.list({ level: "warning" }).map((a) => a.id), ["a-5", "a-2"]);
  assert.deepEqual(manager.list({ minLevel: "error" }).map((a) => a.id), ["a-4", "a-3"]);
  assert.deepEqual(manager.list({ acknowledged: true }).map((a) => a.id), ["a-3"]);
  assert.deepEqual(manager.list({ open: true, limit: 2 }).map((a) => a.id), ["a-5", "a-4"]);
  assert.deepEqual(manager.list({ limit: 0 }), []);
  assert.throws(() => manager.list({ limit: -1 }), RangeError);
});

Deno.test("AlertManager: maxAlerts drops the oldest resolved alert first, then the oldest open one", () => {
  const { manager } = setup({ maxAlerts: 3 });
  manager.raise({ key: "a", level: "error", title: "A", message: "" }); // a-1 open
  manager.raise({ key: "b", level: "error", title: "B", message: "" }); // a-2
  manager.resolve("b");
  manager.raise({ key: "c", level: "error", title: "C", message: "" }); // a-3 open
  manager.raise({ key: "d", level: "error", title: "D", message: "" }); // a-4: drops a-2 (resolved)
  assert.deepEqual(manager.list().map((a) => a.id), ["a-4", "a-3", "a-1"]);
  manager.raise({ key: "e", level: "error", title: "E", message: "" }); // all open: drops a-1
  assert.deepEqual(manager.list().map((a) => a.id), ["a-5", "a-4", "a-3"]);
  assert.equal(manager.size, 3);
  assert.equal(manager.openFor("a"), undefined, "the dropped open alert is forgotten");
  assert.equal(manager.raise({ key: "a", level: "error", title: "A", message: "" }).id, "a-6");
  assert.equal(manager.openCount, 3);
});

Deno.test("AlertManager: prune drops resolved alerts older than retentionDays and keeps open ones", () => {
  const { clock, manager } = setup({ retentionDays: 2 });
  manager.raise({ key: "old", level: "warning", title: "old", message: "" }); // a-1
  manager.raise({ key: "open", level: "warning", title: "open", message: "" }); // a-2 stays open
  manager.resolve("old");
  clock.advance(DAY_MS);
  manager.raise({ key: "newer", level: "warning", title: "newer", message: "" }); // a-3
  manager.resolve("newer");
  clock.advance(DAY_MS + 1); // a-1 resolved 2 days + 1 ms ago; a-3 1 day + 1 ms ago
  assert.equal(manager.prune(), 1);
  assert.deepEqual(manager.list().map((a) => a.id), ["a-3", "a-2"]);
  clock.advance(DAY_MS);
  // Pruning also runs on insert.
  manager.raise({ key: "fresh", level: "info", title: "fresh", message: "" });
  assert.deepEqual(manager.list().map((a) => a.id), ["a-4", "a-2"]);
  clock.advance(30 * DAY_MS);
  assert.equal(manager.prune(), 0, "open alerts are never aged out");
});

Deno.test("AlertManager: a throwing listener is logged and does not break raise or other listeners", () => {
  const lines: string[] = [];
  const clock = new ManualClock(0);
  const manager = new AlertManager({
    clock,
    logger: createLogger({ clock, sink: (l) => lines.push(l) }),
  });
  let heard = 0;
  manager.onChange(() => {
    throw new Error("boom");
  });
  const off = manager.onChange(() => heard++);
  manager.raise({ ...db, level: "error" });
  off();
  manager.resolve(db.key);
  assert.equal(heard, 1);
  assert.ok(lines.some((l) => JSON.parse(l).msg === "alert listener failed"));
  const raised = lines.map((l) => JSON.parse(l)).find((r) => r.msg === "alert raised");
  assert.equal(raised.condition, db.key);
});

Deno.test("AlertManager: rejects bad options and inputs", () => {
  assert.throws(() => new AlertManager({ maxAlerts: 0 }), RangeError);
  assert.throws(() => new AlertManager({ retentionDays: 0 }), RangeError);
  assert.throws(() => new AlertManager({ retentionDays: NaN }), RangeError);
  const m = new AlertManager({ clock: new ManualClock(0) });
  assert.throws(() => m.raise({ key: "", level: "info", title: "t", message: "" }), TypeError);
  assert.throws(() => m.raise({ key: "k", level: "loud" as "info", title: "t", message: "" }));
  assert.throws(() => m.raise({ key: "k", level: "info", title: "", message: "" }), TypeError);
  const long = m.raise({ key: "k", level: "info", title: "t", message: "x".repeat(5000) });
  assert.ok(long.message.length <= 1000);
});

Deno.test("createAlerting: no webhook without a URL; bounds come from the config", async () => {
  const alerting = createAlerting(
    { alertWebhookUrl: undefined, retentionDays: 7, maxAlerts: 2 },
    { clock: new ManualClock(0) },
  );
  assert.equal(alerting.webhook, undefined);
  for (const key of ["a", "b", "c"]) {
    alerting.manager.raise({ key, level: "info", title: key, message: "" });
  }
  assert.equal(alerting.manager.size, 2);
  await alerting.close();
  assert.throws(
    () => createAlerting({ alertWebhookUrl: "ftp://x/secret", retentionDays: 7, maxAlerts: 2 }),
    (e: Error) => e instanceof TypeError && !e.message.includes("secret"),
  );
});
