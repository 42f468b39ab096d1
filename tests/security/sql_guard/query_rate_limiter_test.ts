/** QueryRateLimiter on a manual clock: limits, refill, retryAfterMs, flood events, LRU bound. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DbRateLimitedError,
  type DbSecurityEvent,
  QueryRateLimiter,
  type QueryRateLimiterOptions,
} from "../../../src/security/sql_guard/mod.ts";
import { DatabaseError } from "../../../src/errors.ts";
import { ManualClock } from "../../../src/util/clock.ts";

const A = "198.51.100.7";
const B = "198.51.100.8";

function limiter(over: Partial<QueryRateLimiterOptions> = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const events: DbSecurityEvent[] = [];
  const l = new QueryRateLimiter({
    maxRequestsPerMinute: 6,
    clock,
    onEvent: (e) => events.push(e),
    ...over,
  });
  return { l, clock, events };
}

function admitted(l: QueryRateLimiter, caller: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (l.tryAcquire(caller) === 0) ok++;
  return ok;
}

Deno.test("QueryRateLimiter admits maxRequestsPerMinute at once, then refuses", () => {
  const { l } = limiter();
  for (let i = 0; i < 6; i++) l.acquire(A);
  assert.throws(() => l.acquire(A), (e) => {
    assert.ok(e instanceof DbRateLimitedError);
    assert.ok(e instanceof DatabaseError);
    assert.equal(e.code, "DB_RATE_LIMITED");
    assert.equal(e.retryAfterMs, 10_000);
    assert.match(e.message, /more than 6 database requests per 60000 ms; retry after 10000 ms/);
    assert.ok(!e.message.includes(A), "the caller is not in the message");
    return true;
  });
  l.acquire(B); // callers are independent
});

Deno.test("QueryRateLimiter refills evenly: one request per windowMs / limit, all of it after windowMs", () => {
  const { l, clock } = limiter();
  assert.equal(admitted(l, A, 10), 6);
  clock.advance(9_999);
  assert.equal(l.tryAcquire(A), 1);
  clock.advance(1);
  assert.equal(l.tryAcquire(A), 0);
  assert.equal(l.tryAcquire(A), 10_000);
  clock.advance(30_000);
  assert.equal(admitted(l, A, 10), 3);
  clock.advance(60_000);
  assert.equal(admitted(l, A, 10), 6, "never more than a full allowance");
});

Deno.test("QueryRateLimiter's retryAfterMs is exact: waiting that long admits, one ms less does not", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1_000, max: 120_000 }),
      fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 40 }),
      (limit, windowMs, gaps) => {
        const clock = new ManualClock();
        const l = new QueryRateLimiter({ maxRequestsPerMinute: limit, windowMs, clock });
        for (const gap of gaps) {
          clock.advance(gap);
          const wait = l.tryAcquire("c");
          if (wait === 0) continue;
          assert.ok(wait >= 1 && wait <= Math.ceil(windowMs / limit));
          if (wait > 1) {
            clock.advance(wait - 1);
            assert.ok(l.tryAcquire("c") > 0, "admitted before retryAfterMs");
            clock.advance(1);
          } else clock.advance(wait);
          assert.equal(l.tryAcquire("c"), 0, "still refused after waiting retryAfterMs");
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("QueryRateLimiter never admits more than limit + elapsed/interval requests (sliding bound)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 200 }),
      (limit, gaps) => {
        const clock = new ManualClock();
        const windowMs = 60_000;
        const l = new QueryRateLimiter({ maxRequestsPerMinute: limit, clock });
        const times: number[] = [];
        for (const gap of gaps) {
          clock.advance(gap);
          if (l.tryAcquire("c") === 0) times.push(clock.monotonic());
        }
        // Any span of d ms holds at most limit + floor(d / interval) admissions.
        for (let i = 0; i < times.length; i++) {
          for (let j = i; j < times.length; j++) {
            const d = times[j] - times[i];
            assert.ok(j - i + 1 <= limit + Math.floor((d * limit) / windowMs) + 1e-9);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("QueryRateLimiter refusals cost nothing", () => {
  const { l, clock } = limiter();
  admitted(l, A, 6);
  for (let i = 0; i < 1000; i++) l.tryAcquire(A);
  clock.advance(10_000);
  assert.equal(l.tryAcquire(A), 0, "the hammering did not push the refill back");
});

Deno.test("QueryRateLimiter emits one ORMQueryFlood per caller per window while limited", () => {
  const { l, clock, events } = limiter();
  admitted(l, A, 6);
  assert.equal(events.length, 0);
  admitted(l, A, 50);
  assert.deepEqual(events, [{
    kind: "ORMQueryFlood",
    caller: A,
    detail: "more than 6 database requests per 60000 ms",
    atMs: 1_700_000_000_000,
  }]);
  admitted(l, B, 20);
  assert.deepEqual(events.map((e) => e.caller), [A, B]);
  clock.advance(59_999);
  admitted(l, A, 50);
  assert.equal(events.length, 2, "still the same window");
  clock.advance(1);
  admitted(l, A, 50);
  assert.equal(events.length, 3);
  assert.equal(events[2].atMs, 1_700_000_060_000);
});

Deno.test("QueryRateLimiter survives a throwing sink and works without one", () => {
  const clock = new ManualClock();
  const l = new QueryRateLimiter({
    maxRequestsPerMinute: 1,
    clock,
    onEvent: () => {
      throw new Error("sink down");
    },
  });
  l.acquire(A);
  assert.throws(() => l.acquire(A), DbRateLimitedError);
  const quiet = new QueryRateLimiter({ maxRequestsPerMinute: 1, clock });
  quiet.acquire(A);
  assert.throws(() => quiet.acquire(A), DbRateLimitedError);
});

Deno.test("QueryRateLimiter tracks at most maxTrackedCallers, forgetting the least recently seen", () => {
  const { l } = limiter({ maxRequestsPerMinute: 1, maxTrackedCallers: 3 });
  l.acquire("a");
  l.acquire("b");
  l.acquire("c");
  assert.equal(l.tryAcquire("a") > 0, true); // touches a: order is b, c, a
  l.acquire("d"); // evicts b
  assert.equal(l.trackedCallers, 3);
  assert.equal(l.tryAcquire("c") > 0, true, "c is still tracked and limited");
  assert.equal(l.tryAcquire("a") > 0, true, "a is still tracked and limited");
  assert.equal(l.tryAcquire("b"), 0, "b was forgotten, so it starts afresh");
});

Deno.test("QueryRateLimiter memory stays bounded under a many-caller flood", () => {
  const { l, events } = limiter({ maxRequestsPerMinute: 1, maxTrackedCallers: 100 });
  for (let i = 0; i < 50_000; i++) {
    l.tryAcquire(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    assert.ok(l.trackedCallers <= 100);
  }
  assert.equal(l.trackedCallers, 100);
  assert.equal(events.length, 0, "each caller made one request");
});

Deno.test("QueryRateLimiter validates its options", () => {
  const clock = new ManualClock();
  for (
    const bad of [
      { maxRequestsPerMinute: 0 },
      { maxRequestsPerMinute: 1.5 },
      { maxRequestsPerMinute: 1, windowMs: 0 },
      { maxRequestsPerMinute: 1, maxTrackedCallers: 0 },
    ]
  ) {
    assert.throws(() => new QueryRateLimiter({ ...bad, clock }), RangeError, JSON.stringify(bad));
  }
});

Deno.test("QueryRateLimiter handles limits that do not divide the window", () => {
  const clock = new ManualClock();
  const l = new QueryRateLimiter({ maxRequestsPerMinute: 7, clock });
  assert.equal(admitted(l, A, 20), 7);
  assert.equal(l.tryAcquire(A), Math.ceil(60_000 / 7));
  clock.advance(60_000);
  assert.equal(admitted(l, A, 20), 7);
  // 6000 per minute (the default): 100 per second sustained after the burst.
  const d = new QueryRateLimiter({ maxRequestsPerMinute: 6000, clock });
  assert.equal(admitted(d, A, 7000), 6000);
  clock.advance(1_000);
  assert.equal(admitted(d, A, 1000), 100);
});
