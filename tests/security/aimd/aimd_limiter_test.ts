import assert from "node:assert/strict";
import fc from "fast-check";
import { AimdLimiter, type AimdLimiterOptions } from "../../../src/security/aimd/mod.ts";
import { SecurityError } from "../../../src/errors.ts";
import { ManualClock } from "../../../src/util/mod.ts";

const IP = "192.0.2.1";

function setup(options: Partial<AimdLimiterOptions> = {}) {
  const clock = new ManualClock();
  const state = { overloaded: false };
  const limiter = new AimdLimiter({
    clock,
    isOverloaded: () => state.overloaded,
    ...options,
  });
  return { clock, state, limiter };
}

/** Spend up to `n` ordinary tokens of `key`; returns how many were admitted. */
function spend(limiter: AimdLimiter, key: string, n: number, urgent = false): number {
  let admitted = 0;
  for (let i = 0; i < n; i++) if (limiter.tryAcquire(key, urgent).allowed) admitted++;
  return admitted;
}

Deno.test("AimdLimiter starts a client at initialLimit and tracks it on first packet", () => {
  const { limiter } = setup();
  assert.equal(limiter.limitOf(IP), 100);
  assert.equal(limiter.trackedClients, 0);
  limiter.tryAcquire(IP);
  assert.equal(limiter.trackedClients, 1);
  assert.equal(limiter.limitOf(IP), 100);
});

Deno.test("AimdLimiter grows an active client's limit by additiveIncrease per healthy tick", () => {
  const { clock, limiter } = setup();
  for (let i = 1; i <= 5; i++) {
    spend(limiter, IP, 10_000); // use the whole limit
    limiter.tick();
    assert.equal(limiter.limitOf(IP), 100 + 10 * i);
    clock.advance(1000);
  }
});

Deno.test("AimdLimiter grows on any packet with growthUtilization 0", () => {
  const { limiter } = setup({ growthUtilization: 0 });
  limiter.tryAcquire(IP);
  limiter.tick();
  assert.equal(limiter.limitOf(IP), 110);
  limiter.tick(); // idle in this interval
  assert.equal(limiter.limitOf(IP), 110);
});

Deno.test("AimdLimiter does not grow an idle or under-using client", () => {
  const { limiter } = setup();
  limiter.tryAcquire(IP);
  limiter.tick(); // 1 of 100 used: below half the limit
  assert.equal(limiter.limitOf(IP), 100);
  limiter.tick(); // nothing used
  assert.equal(limiter.limitOf(IP), 100);
  spend(limiter, IP, 50);
  limiter.tick(); // exactly half: grows
  assert.equal(limiter.limitOf(IP), 110);
});

Deno.test("AimdLimiter shrinks every limit ×0.7 on overload, floored at minLimit", () => {
  const { state, limiter } = setup();
  limiter.tryAcquire(IP);
  limiter.tryAcquire("idle-client");
  state.overloaded = true;
  const expected = [70, 49, 34, 23, 16, 11, 10, 10];
  for (const limit of expected) {
    limiter.tick();
    assert.equal(limiter.limitOf(IP), limit);
    assert.equal(limiter.limitOf("idle-client"), limit);
  }
});

Deno.test("AimdLimiter caps growth at maxLimit", () => {
  const { clock, limiter } = setup({ initialLimit: 100, maxLimit: 125 });
  for (let i = 0; i < 5; i++) {
    spend(limiter, IP, 1000);
    limiter.tick();
    clock.advance(1000);
  }
  assert.equal(limiter.limitOf(IP), 125);
});

Deno.test("AimdLimiter shrinks the newcomer limit under load and restores it when healthy", () => {
  const { state, limiter } = setup();
  state.overloaded = true;
  limiter.tick();
  limiter.tick();
  assert.equal(limiter.newcomerLimit, 49);
  limiter.tryAcquire("new-under-load");
  assert.equal(limiter.limitOf("new-under-load"), 49);
  state.overloaded = false;
  for (let i = 0; i < 10; i++) limiter.tick();
  assert.equal(limiter.newcomerLimit, 100); // capped at initialLimit
  // The quiet client climbed back to the newcomer level, not beyond.
  assert.equal(limiter.limitOf("new-under-load"), 100);
});

Deno.test("AimdLimiter token bucket admits L packets per second and reports retryAfterMs", () => {
  const { clock, limiter } = setup();
  assert.equal(spend(limiter, IP, 100), 100);
  assert.deepEqual(limiter.tryAcquire(IP), { allowed: false, retryAfterMs: 10 });
  clock.advance(9);
  assert.deepEqual(limiter.tryAcquire(IP), { allowed: false, retryAfterMs: 1 });
  clock.advance(1);
  assert.deepEqual(limiter.tryAcquire(IP), { allowed: true });
  // One second refills the whole bucket, no more.
  clock.advance(5000);
  assert.equal(spend(limiter, IP, 1000), 100);
  // A steady 1 packet per 10 ms is sustained indefinitely.
  for (let i = 0; i < 300; i++) {
    clock.advance(10);
    assert.equal(limiter.tryAcquire(IP).allowed, true);
  }
});

Deno.test("AimdLimiter refills at the new rate after a decrease and clamps the bucket", () => {
  const { clock, state, limiter } = setup();
  limiter.tryAcquire(IP);
  state.overloaded = true;
  limiter.tick(); // L = 70; the bucket (99 tokens) is clamped to 70
  assert.equal(spend(limiter, IP, 1000), 70);
  const refusal = limiter.tryAcquire(IP);
  assert.deepEqual(refusal, { allowed: false, retryAfterMs: 15 }); // ⌈1000 / 70⌉
  clock.advance(15);
  assert.equal(limiter.tryAcquire(IP).allowed, true);
  clock.advance(1000);
  assert.equal(spend(limiter, IP, 1000), 70);
});

Deno.test("AimdLimiter admits urgent packets when ordinary tokens are exhausted", () => {
  const { limiter } = setup({ urgentLimit: 50 });
  assert.equal(spend(limiter, IP, 500), 100);
  assert.equal(limiter.tryAcquire(IP).allowed, false);
  assert.equal(spend(limiter, IP, 50, true), 50);
  const refused = limiter.tryAcquire(IP, true);
  assert.deepEqual(refused, { allowed: false, retryAfterMs: 20 }); // 50/s
});

Deno.test("AimdLimiter keeps ordinary tokens when urgent ones are exhausted", () => {
  const { limiter } = setup({ urgentLimit: 5 });
  assert.equal(spend(limiter, IP, 100, true), 5);
  assert.equal(spend(limiter, IP, 500), 100);
});

Deno.test("AimdLimiter urgent budget is neither decreased nor counted toward growth", () => {
  const { clock, state, limiter } = setup({ urgentLimit: 50 });
  assert.equal(spend(limiter, IP, 50, true), 50);
  limiter.tick(); // healthy, but only urgent packets were sent
  assert.equal(limiter.limitOf(IP), 100);
  state.overloaded = true;
  for (let i = 0; i < 10; i++) limiter.tick();
  assert.equal(limiter.limitOf(IP), 10);
  clock.advance(1000);
  assert.equal(spend(limiter, IP, 100, true), 50); // still 50/s
  assert.equal(spend(limiter, IP, 100), 10);
});

Deno.test("AimdLimiter never tracks more than maxTrackedClients under 200 000 distinct keys", () => {
  const { limiter } = setup();
  for (let i = 0; i < 200_000; i++) {
    limiter.tryAcquire(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (limiter.trackedClients > 100_000) assert.fail(`tracked ${limiter.trackedClients}`);
  }
  assert.equal(limiter.trackedClients, 100_000);
  const result = limiter.tick();
  assert.equal(result.trackedClients, 100_000);
});

Deno.test("AimdLimiter evicts the least recently seen client first", () => {
  const { limiter } = setup({ maxTrackedClients: 3 });
  spend(limiter, "a", 100);
  limiter.tryAcquire("b");
  limiter.tryAcquire("c");
  limiter.tryAcquire("a"); // a is now the most recent
  limiter.tryAcquire("d"); // evicts b
  assert.equal(limiter.trackedClients, 3);
  // a kept its empty bucket: it is still tracked.
  assert.equal(limiter.tryAcquire("a").allowed, false);
  limiter.tryAcquire("e"); // evicts c
  assert.equal(limiter.forget("b"), false);
  assert.equal(limiter.forget("c"), false);
  assert.equal(limiter.forget("d"), true);
});

Deno.test("AimdLimiter tick forgets clients idle for idleEvictMs", () => {
  const { clock, limiter } = setup({ idleEvictMs: 5000 });
  limiter.tryAcquire("old");
  clock.advance(3000);
  limiter.tryAcquire("recent");
  clock.advance(2000);
  const result = limiter.tick();
  assert.equal(result.evicted, 1);
  assert.equal(result.trackedClients, 1);
  assert.equal(limiter.forget("old"), false);
  clock.advance(3000);
  assert.equal(limiter.tick().evicted, 1);
  assert.equal(limiter.trackedClients, 0);
});

Deno.test("AimdLimiter forget makes a client a newcomer again", () => {
  const { limiter } = setup();
  spend(limiter, IP, 100);
  assert.equal(limiter.tryAcquire(IP).allowed, false);
  assert.equal(limiter.forget(IP), true);
  assert.equal(limiter.tryAcquire(IP).allowed, true);
});

Deno.test("AimdLimiter start runs tick every adjustIntervalMs on the clock; stop ends it", () => {
  const { clock, limiter } = setup({ adjustIntervalMs: 1000 });
  limiter.start();
  limiter.start(); // idempotent
  assert.equal(limiter.running, true);
  assert.equal(clock.pendingTimers, 1);
  for (let i = 0; i < 3; i++) {
    spend(limiter, IP, 10_000);
    clock.advance(1000);
  }
  assert.equal(limiter.limitOf(IP), 130);
  limiter.stop();
  assert.equal(limiter.running, false);
  assert.equal(clock.pendingTimers, 0);
  spend(limiter, IP, 10_000);
  clock.advance(5000);
  assert.equal(limiter.limitOf(IP), 130);
});

Deno.test("AimdLimiter holds limits when isOverloaded throws", () => {
  const clock = new ManualClock();
  const limiter = new AimdLimiter({
    clock,
    isOverloaded: () => {
      throw new Error("monitor broke");
    },
  });
  spend(limiter, IP, 100);
  const result = limiter.tick();
  assert.equal(result.overloaded, undefined);
  assert.equal(limiter.limitOf(IP), 100);
});

Deno.test("AimdLimiter rejects nonsense options with SECURITY_INVALID_INPUT", () => {
  const clock = new ManualClock();
  const bad: Partial<AimdLimiterOptions>[] = [
    { multiplicativeDecrease: 0 },
    { multiplicativeDecrease: 1 },
    { multiplicativeDecrease: 1.5 },
    { multiplicativeDecrease: NaN },
    { additiveIncrease: -1 },
    { additiveIncrease: Infinity },
    { minLimit: 0 },
    { minLimit: 200, maxLimit: 100, initialLimit: 150 },
    { initialLimit: 5 },
    { initialLimit: 20_000 },
    { maxLimit: Infinity },
    { urgentLimit: 0 },
    { growthUtilization: 1.1 },
    { adjustIntervalMs: 0 },
    { idleEvictMs: -1 },
    { maxTrackedClients: 0 },
    { maxTrackedClients: 1.5 },
  ];
  for (const options of bad) {
    assert.throws(
      () => new AimdLimiter({ clock, ...options }),
      (e) => e instanceof SecurityError && e.code === "SECURITY_INVALID_INPUT",
      JSON.stringify(options),
    );
  }
  // Edges that are valid.
  new AimdLimiter({ clock, minLimit: 100, initialLimit: 100, maxLimit: 100, additiveIncrease: 0 });
  new AimdLimiter({ clock, growthUtilization: 0 });
  new AimdLimiter({ clock, growthUtilization: 1 });
});

type Op =
  | { readonly op: "acquire"; readonly key: number; readonly n: number; readonly urgent: boolean }
  | { readonly op: "tick"; readonly overloaded: boolean }
  | { readonly op: "advance"; readonly ms: number }
  | { readonly op: "forget"; readonly key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("acquire" as const),
    key: fc.integer({ min: 0, max: 7 }),
    n: fc.integer({ min: 1, max: 300 }),
    urgent: fc.boolean(),
  }),
  fc.record({ op: fc.constant("tick" as const), overloaded: fc.boolean() }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ op: fc.constant("forget" as const), key: fc.integer({ min: 0, max: 7 }) }),
);

Deno.test("AimdLimiter keeps minLimit ≤ limit ≤ maxLimit and never admits more than a full bucket at once", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 0, max: 500 }),
      fc.integer({ min: 1, max: 99 }),
      fc.integer({ min: 0, max: 50 }),
      fc.array(opArb, { maxLength: 80 }),
      (minLimit, initialSpan, maxSpan, decreasePercent, additiveIncrease, ops) => {
        const initialLimit = minLimit + initialSpan;
        const maxLimit = initialLimit + maxSpan;
        const clock = new ManualClock();
        let overloaded = false;
        const limiter = new AimdLimiter({
          clock,
          isOverloaded: () => overloaded,
          minLimit,
          initialLimit,
          maxLimit,
          multiplicativeDecrease: decreasePercent / 100,
          additiveIncrease,
          maxTrackedClients: 5,
          idleEvictMs: 4000,
        });
        const check = () => {
          assert.ok(limiter.newcomerLimit >= minLimit && limiter.newcomerLimit <= initialLimit);
          for (let k = 0; k < 8; k++) {
            const l = limiter.limitOf(`k${k}`);
            assert.ok(
              l >= minLimit && l <= maxLimit,
              `limit ${l} outside [${minLimit}, ${maxLimit}]`,
            );
          }
          assert.ok(limiter.trackedClients <= 5);
        };
        for (const op of ops) {
          switch (op.op) {
            case "acquire": {
              // Within one instant a client never gets more than its bucket holds.
              const limit = limiter.limitOf(`k${op.key}`);
              const admitted = spend(limiter, `k${op.key}`, op.n, op.urgent);
              assert.ok(admitted <= (op.urgent ? 50 : limit));
              break;
            }
            case "tick":
              overloaded = op.overloaded;
              limiter.tick();
              break;
            case "advance":
              clock.advance(op.ms);
              break;
            case "forget":
              limiter.forget(`k${op.key}`);
              break;
          }
          check();
        }
      },
    ),
    { numRuns: 300 },
  );
});
