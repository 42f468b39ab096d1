/** ManualClock: time that moves only when told, timers in deadline order. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ManualClock, systemClock } from "../../src/util/clock.ts";

Deno.test("ManualClock starts at the given wall time with monotonic 0, and advance moves both", () => {
  const c = new ManualClock(5_000);
  assert.equal(c.now(), 5_000);
  assert.equal(c.monotonic(), 0);
  c.advance(250);
  assert.equal(c.now(), 5_250);
  assert.equal(c.monotonic(), 250);
  assert.equal(new ManualClock().now(), 1_700_000_000_000);
});

Deno.test("ManualClock fires timers in deadline order, ties in creation order, with the clock at each deadline", () => {
  const c = new ManualClock(0);
  const log: string[] = [];
  const at = (name: string) => () => log.push(`${name}@${c.monotonic()}`);
  c.setTimeout(at("c"), 300);
  c.setTimeout(at("a"), 100);
  c.setTimeout(at("b1"), 200);
  c.setTimeout(at("b2"), 200);
  c.setTimeout(at("late"), 1000);
  assert.equal(c.pendingTimers, 5);
  c.advance(300);
  assert.deepEqual(log, ["a@100", "b1@200", "b2@200", "c@300"]);
  assert.equal(c.pendingTimers, 1);
  assert.equal(c.monotonic(), 300);
});

Deno.test("ManualClock fires timers scheduled by a timer within the same advance, in order", () => {
  const c = new ManualClock(0);
  const log: number[] = [];
  c.setTimeout(() => {
    log.push(c.monotonic());
    c.setTimeout(() => log.push(c.monotonic()), 50); // due at 150
    c.setTimeout(() => log.push(c.monotonic()), 0); // due at 100
  }, 100);
  c.setTimeout(() => log.push(c.monotonic()), 120);
  c.advance(149);
  assert.deepEqual(log, [100, 100, 120]);
  c.advance(1);
  assert.deepEqual(log, [100, 100, 120, 150]);
});

Deno.test("ManualClock.clearTimeout cancels a timer, even from inside another timer", () => {
  const c = new ManualClock(0);
  let fired = 0;
  const t2 = c.setTimeout(() => fired++, 200);
  const t1 = c.setTimeout(() => c.clearTimeout(t2), 100);
  c.clearTimeout(999); // unknown handle: no effect
  c.advance(1000);
  assert.equal(fired, 0);
  assert.equal(c.pendingTimers, 0);
  c.clearTimeout(t1); // already fired: no effect
  assert.notEqual(t1, t2);
});

Deno.test("ManualClock treats a negative delay as 0 and fires 0-delay timers on advance(0)", () => {
  const c = new ManualClock(0);
  let fired = 0;
  c.setTimeout(() => fired++, -50);
  c.setTimeout(() => fired++, 0);
  assert.equal(fired, 0, "timers never fire synchronously inside setTimeout");
  c.advance(0);
  assert.equal(fired, 2);
  assert.equal(c.monotonic(), 0);
});

Deno.test("property: ManualClock fires every due timer exactly once, in non-decreasing deadline order", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 }),
      fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 6 }),
      (delays, steps) => {
        const c = new ManualClock(0);
        const fired: [number, number][] = [];
        delays.forEach((d, i) =>
          c.setTimeout(() => {
            assert.equal(c.monotonic(), d);
            fired.push([d, i]);
          }, d)
        );
        let now = 0;
        for (const s of steps) {
          c.advance(s);
          now += s;
          assert.equal(c.monotonic(), now);
        }
        const due = delays.map((d, i) => [d, i] as [number, number]).filter(([d]) => d <= now);
        due.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        assert.deepEqual(fired, due);
        assert.equal(c.pendingTimers, delays.length - due.length);
      },
    ),
  );
});

Deno.test("systemClock reads the real clocks and runs real timers", async () => {
  const before = Date.now();
  assert.ok(Math.abs(systemClock.now() - before) < 1000);
  const m0 = systemClock.monotonic();
  await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
  assert.ok(systemClock.monotonic() >= m0);
  let fired = false;
  const h = systemClock.setTimeout(() => (fired = true), 1);
  systemClock.clearTimeout(h);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(fired, false);
});
