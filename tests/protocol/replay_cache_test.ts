/** ReplayCache (protocol-v1 §2): bounded, expiring, fail closed. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type AdmitResult, ReplayCache } from "../../src/protocol/replay_cache.ts";

Deno.test("ReplayCache refuses a capacity that is not a positive integer", () => {
  for (const c of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => new ReplayCache(c), RangeError);
  assert.equal(new ReplayCache(3).capacity, 3);
});

Deno.test("ReplayCache admits a key once and reports a second admission as a replay", () => {
  const c = new ReplayCache(4);
  assert.equal(c.admit("a", 1000, 0), "ok");
  assert.equal(c.admit("a", 5000, 10), "replay");
  assert.equal(c.admit("b", 1000, 10), "ok");
  assert.equal(c.size, 2);
  assert.ok(c.has("a", 20));
  assert.ok(!c.has("zzz", 20));
});

Deno.test("ReplayCache keeps an entry while it is live and drops it after its expiry", () => {
  const c = new ReplayCache(4);
  c.admit("a", 1000, 0);
  assert.ok(c.has("a", 999));
  assert.equal(c.admit("a", 2000, 999), "replay");
  assert.ok(!c.has("a", 1001));
  assert.equal(c.size, 0);
  assert.equal(c.admit("a", 3000, 1001), "ok", "an expired key may be admitted again");
});

Deno.test("ReplayCache fails closed when full of live entries and never evicts them", () => {
  const c = new ReplayCache(2);
  assert.equal(c.admit("a", 1000, 0), "ok");
  assert.equal(c.admit("b", 2000, 0), "ok");
  assert.equal(c.admit("c", 3000, 500), "full");
  assert.equal(c.size, 2);
  assert.ok(c.has("a", 500) && c.has("b", 500));
  // A replay of a live key is still a replay, not "full".
  assert.equal(c.admit("a", 1000, 500), "replay");
  // Once "a" expires there is room again; "b" is untouched.
  assert.equal(c.admit("c", 3000, 1500), "ok");
  assert.ok(c.has("b", 1500));
  assert.ok(!c.has("a", 1500));
  assert.equal(c.admit("d", 3000, 1500), "full");
});

Deno.test("ReplayCache expires entries admitted out of expiry order", () => {
  const c = new ReplayCache(10);
  const expiries = [500, 100, 900, 300, 700, 200, 800, 400, 600, 1000];
  expiries.forEach((e, i) => c.admit(`k${i}`, e, 0));
  for (let now = 0; now <= 1100; now += 50) {
    const live = expiries.filter((e) => e > now).length;
    c.has("probe", now);
    if (now % 100 !== 0) assert.equal(c.size, live, `at ${now}`);
  }
  assert.equal(c.size, 0);
});

type Cmd = { kind: "admit"; key: number; ttl: number; dt: number } | {
  kind: "has";
  key: number;
  dt: number;
};

Deno.test("property: ReplayCache behaves like a simple map of live keys (model check)", () => {
  const arbCmd: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({
      kind: fc.constant("admit" as const),
      key: fc.integer({ min: 0, max: 15 }),
      ttl: fc.integer({ min: 1, max: 100 }),
      dt: fc.integer({ min: 0, max: 20 }),
    }),
    fc.record({
      kind: fc.constant("has" as const),
      key: fc.integer({ min: 0, max: 15 }),
      dt: fc.integer({ min: 0, max: 20 }),
    }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(arbCmd, { maxLength: 200 }),
      (cap, cmds) => {
        const cache = new ReplayCache(cap);
        const model = new Map<number, number>();
        let now = 0;
        for (const cmd of cmds) {
          now += cmd.dt;
          // Skip the exact expiry instant: its semantics are pinned by the handshake tests.
          while ([...model.values()].includes(now)) now++;
          for (const [k, exp] of model) if (exp < now) model.delete(k);
          if (cmd.kind === "has") {
            assert.equal(cache.has(`${cmd.key}`, now), model.has(cmd.key));
          } else {
            let expected: AdmitResult = "ok";
            if (model.has(cmd.key)) expected = "replay";
            else if (model.size >= cap) expected = "full";
            else model.set(cmd.key, now + cmd.ttl);
            assert.equal(cache.admit(`${cmd.key}`, now + cmd.ttl, now), expected);
          }
          assert.equal(cache.size, model.size);
          assert.ok(cache.size <= cap);
        }
      },
    ),
  );
});
