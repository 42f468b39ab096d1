/**
 * The database layer's pure parts on a ManualClock: the result cache (LRU,
 * TTL, invalidation by table), the connection gate (bounded waits, FIFO
 * hand-over), the prepared-statement bound, backoff with jitter, and the
 * query metrics.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { backoffDelayMs } from "../../src/db/backoff.ts";
import { ConnectionGate } from "../../src/db/connection_gate.ts";
import { QueryMetrics } from "../../src/db/query_metrics.ts";
import { ResultCache } from "../../src/db/result_cache.ts";
import { StatementCache } from "../../src/db/statement_cache.ts";
import { DatabaseError } from "../../src/errors.ts";
import { ManualClock } from "../../src/util/clock.ts";

Deno.test("ResultCache: hits within the TTL, misses after it", () => {
  const clock = new ManualClock(0);
  const c = new ResultCache({ maxEntries: 10, ttlMs: 1_000, clock });
  const k = ResultCache.key("SELECT $1", [1n]);
  c.set(k, [{ a: 1 }], ["t"]);
  assert.deepEqual(c.get(k), [{ a: 1 }]);
  clock.advance(999);
  assert.ok(c.get(k));
  clock.advance(1);
  assert.equal(c.get(k), undefined);
  assert.deepEqual(c.stats(), { hits: 2, misses: 1, entries: 0, invalidations: 0 });
});

Deno.test("ResultCache: evicts the least recently used entry", () => {
  const c = new ResultCache({ maxEntries: 2, ttlMs: 60_000, clock: new ManualClock(0) });
  c.set("a", [1], ["t"]);
  c.set("b", [2], ["t"]);
  c.get("a"); // a is now the most recent
  c.set("c", [3], ["t"]);
  assert.ok(c.get("a"));
  assert.equal(c.get("b"), undefined);
  assert.ok(c.get("c"));
});

Deno.test("ResultCache: a write invalidates exactly the entries that read its tables", () => {
  const c = new ResultCache({ maxEntries: 10, ttlMs: 60_000, clock: new ManualClock(0) });
  c.set("users", [1], ["users"]);
  c.set("join", [2], ["users", "posts"]);
  c.set("posts", [3], ["posts"]);
  c.invalidate(["users"]);
  assert.equal(c.get("users"), undefined);
  assert.equal(c.get("join"), undefined);
  assert.ok(c.get("posts"));
  assert.equal(c.stats().invalidations, 2);
});

Deno.test("ResultCache: keys tell apart parameters of different types and returned rows are copies", () => {
  const k = (p: unknown[]) => ResultCache.key("q", p);
  assert.notEqual(k([1]), k(["1"]));
  assert.notEqual(k([1n]), k(["1"]));
  assert.notEqual(k([new Uint8Array([1])]), k([[1]]));
  const c = new ResultCache({ maxEntries: 10, ttlMs: 60_000, clock: new ManualClock(0) });
  c.set("x", [1, 2], []);
  c.get<number>("x")!.push(3);
  assert.deepEqual(c.get("x"), [1, 2]);
});

Deno.test("ConnectionGate: waiters get slots in order; a wait longer than acquireTimeoutMs fails with DB_ACQUIRE_TIMEOUT", async () => {
  const clock = new ManualClock(0);
  const gate = new ConnectionGate(2, 100, clock);
  assert.equal(gate.acquire(), undefined);
  assert.equal(gate.acquire(), undefined);
  const order: string[] = [];
  const w1 = gate.acquire()!.then(() => order.push("w1"));
  const w2 = gate.acquire()!.then(() => order.push("w2"));
  assert.equal(gate.waiting, 2);
  gate.release();
  await w1;
  assert.deepEqual(order, ["w1"]);
  assert.equal(gate.inUse, 2, "the slot passed to the waiter");
  clock.advance(100);
  await assert.rejects(
    w2,
    (e: unknown) => e instanceof DatabaseError && e.code === "DB_ACQUIRE_TIMEOUT",
  );
  assert.equal(gate.waiting, 0);
  gate.release();
  gate.release();
  assert.equal(gate.inUse, 0);
  const w3 = gate.acquire();
  assert.equal(w3, undefined);
  gate.close();
  assert.throws(
    () => gate.acquire(),
    (e: unknown) => e instanceof DatabaseError && e.code === "DB_CLOSED",
  );
});

Deno.test("ConnectionGate: close() fails every waiter", async () => {
  const gate = new ConnectionGate(1, 10_000, new ManualClock(0));
  gate.acquire();
  const w = gate.acquire()!;
  gate.close();
  await assert.rejects(w, (e: unknown) => e instanceof DatabaseError && e.code === "DB_CLOSED");
});

Deno.test("StatementCache: at most `size` distinct texts are prepared; the rest run unnamed", () => {
  const s = new StatementCache(2);
  assert.equal(s.admit("a"), true);
  assert.equal(s.admit("b"), true);
  assert.equal(s.admit("c"), false);
  assert.equal(s.admit("a"), true, "an admitted text stays prepared");
  assert.equal(s.prepared, 2);
  assert.equal(s.unprepared, 1);
});

Deno.test("backoffDelayMs: full jitter under an exponential ceiling capped at maxMs", () => {
  fc.assert(fc.property(fc.nat(40), fc.double({ min: 0, max: 0.999999, noNaN: true }), (n, r) => {
    const d = backoffDelayMs(n, { baseMs: 100, maxMs: 3_000, random: () => r });
    assert.ok(d >= 0 && d <= Math.min(3_000, 100 * 2 ** n));
  }));
  assert.equal(backoffDelayMs(3, { baseMs: 100, random: () => 0.5 }), 400);
});

Deno.test("QueryMetrics: histograms per operation and table, errors by code, quantiles from buckets", () => {
  const m = new QueryMetrics(100);
  m.record("select", "users", 0.4, 1);
  m.record("select", "users", 3, 2);
  m.record("select", "posts", 200, 5);
  m.record("insert", "users", 1, 1, "DB_QUERY_FAILED");
  const s = m.snapshot();
  const users = s.queries.find((q) => q.operation === "select" && q.table === "users")!;
  assert.equal(users.duration.count, 2);
  assert.equal(users.rows, 3);
  assert.equal(users.duration.counts[0], 1, "0.4 ms in the ≤ 0.5 bucket");
  assert.equal(s.slowQueries, 1);
  assert.deepEqual(s.errorsByCode, { DB_QUERY_FAILED: 1 });
  assert.equal(m.quantileMs("select", 0.5), 5);
  assert.equal(m.quantileMs("select", 1), 250);
  assert.equal(m.quantileMs("delete", 0.5), undefined);
});
