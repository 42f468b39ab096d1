/** ReputationScore: exponential decay with a half-life, LRU-bounded. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ReputationScore } from "../../../src/security/reputation/mod.ts";

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

Deno.test("ReputationScore halves a score every half-life (property)", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      fc.integer({ min: 1, max: 86_400_000 }),
      fc.integer({ min: 0, max: 1e12 }),
      fc.integer({ min: 0, max: 8 }),
      (amount, halfLifeMs, t0, k) => {
        const s = new ReputationScore({ halfLifeMs });
        s.add("k", amount, t0);
        assert.ok(close(s.get("k", t0), amount));
        assert.ok(close(s.get("k", t0 + halfLifeMs), amount / 2));
        assert.ok(close(s.get("k", t0 + k * halfLifeMs), amount * 2 ** -k));
      },
    ),
  );
});

Deno.test("ReputationScore never grows without an add and sums decayed additions (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.nat(100_000)), {
        minLength: 1,
        maxLength: 20,
      }),
      fc.nat(1_000_000),
      (adds, later) => {
        const halfLifeMs = 10_000;
        const s = new ReputationScore({ halfLifeMs });
        let t = 0;
        let expected = 0;
        for (const [amount, dt] of adds) {
          t += dt;
          expected = expected * 0.5 ** (dt / halfLifeMs) + amount;
          s.add("k", amount, t);
        }
        assert.ok(close(s.get("k", t), expected));
        assert.ok(s.get("k", t + later) <= s.get("k", t) + 1e-12);
      },
    ),
  );
});

Deno.test("ReputationScore defaults to a 10 minute half-life", () => {
  const s = new ReputationScore();
  s.add("192.0.2.1", 1, 0);
  assert.equal(s.get("192.0.2.1", 600_000), 0.5);
  assert.equal(s.get("192.0.2.9", 600_000), 0, "unknown keys score 0");
});

Deno.test("ReputationScore forgets the least recently touched key beyond maxKeys", () => {
  const s = new ReputationScore({ maxKeys: 2 });
  s.add("a", 1, 0);
  s.add("b", 1, 0);
  s.add("a", 1, 1); // a is now the most recent
  s.add("c", 1, 2);
  assert.equal(s.size, 2);
  assert.equal(s.get("b", 2), 0);
  assert.ok(s.get("a", 2) > 1.9);
  assert.ok(s.get("c", 2) > 0.9);
});

Deno.test("ReputationScore rejects a non-positive half-life or key bound", () => {
  assert.throws(() => new ReputationScore({ halfLifeMs: 0 }), RangeError);
  assert.throws(() => new ReputationScore({ maxKeys: 0 }), RangeError);
});
