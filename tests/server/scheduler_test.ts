/** PriorityScheduler: concurrency bound, priority queues, shedding (protocol-v1 §4, §6). */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Priority } from "../../src/protocol/packet.ts";
import { PriorityScheduler } from "../../src/server/scheduler.ts";

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let promise callbacks (the scheduler's `finally`) run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

const noShed = () => assert.fail("unexpected shed");

/** A scheduler whose single slot is held until `release()`. */
function blocked(maxQueued: number) {
  const s = new PriorityScheduler({ maxConcurrent: 1, maxQueued });
  const d = deferred();
  s.submit(Priority.Normal, () => d.promise, noShed);
  return { s, release: async () => (d.resolve(), await settle()) };
}

Deno.test("PriorityScheduler refuses maxConcurrent below 1 and a negative maxQueued", () => {
  assert.throws(() => new PriorityScheduler({ maxConcurrent: 0, maxQueued: 1 }), RangeError);
  assert.throws(() => new PriorityScheduler({ maxConcurrent: NaN, maxQueued: 1 }), RangeError);
  assert.throws(() => new PriorityScheduler({ maxConcurrent: 1, maxQueued: -1 }), RangeError);
  new PriorityScheduler({ maxConcurrent: 1, maxQueued: 0 });
});

Deno.test("PriorityScheduler runs at most maxConcurrent tasks at once and queues the rest", async () => {
  const s = new PriorityScheduler({ maxConcurrent: 2, maxQueued: 10 });
  const gates = Array.from({ length: 5 }, deferred);
  let now = 0;
  let peak = 0;
  const started: number[] = [];
  gates.forEach((g, i) =>
    s.submit(Priority.Normal, async () => {
      started.push(i);
      peak = Math.max(peak, ++now);
      await g.promise;
      now--;
    }, noShed)
  );
  assert.equal(s.running, 2);
  assert.equal(s.queued, 3);
  assert.deepEqual(started, [0, 1]);
  for (const g of gates) {
    g.resolve();
    await settle();
    assert.ok(s.running <= 2);
  }
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(s.running, 0);
  assert.equal(s.queued, 0);
});

Deno.test("PriorityScheduler runs a synchronous task at once and frees its slot", () => {
  const s = new PriorityScheduler({ maxConcurrent: 1, maxQueued: 0 });
  let ran = 0;
  for (let i = 0; i < 5; i++) s.submit(Priority.Low, () => void ran++, noShed);
  assert.equal(ran, 5);
  assert.equal(s.running, 0);
});

Deno.test("PriorityScheduler keeps FIFO order within a priority", async () => {
  const { s, release } = blocked(10);
  const order: string[] = [];
  for (const name of ["a", "b", "c", "d"]) {
    s.submit(Priority.Normal, () => void order.push(name), noShed);
  }
  assert.equal(s.queued, 4);
  await release();
  assert.deepEqual(order, ["a", "b", "c", "d"]);
});

Deno.test("PriorityScheduler runs higher priorities first", async () => {
  const { s, release } = blocked(10);
  const order: string[] = [];
  const add = (p: Priority, name: string) => s.submit(p, () => void order.push(name), noShed);
  add(Priority.Low, "L1");
  add(Priority.Normal, "N1");
  add(Priority.High, "H1");
  add(Priority.Low, "L2");
  add(Priority.High, "H2");
  add(Priority.Normal, "N2");
  await release();
  assert.deepEqual(order, ["H1", "H2", "N1", "N2", "L1", "L2"]);
});

Deno.test("PriorityScheduler, when full, evicts the newest queued task of the lowest priority below the new one", async () => {
  const { s, release } = blocked(3);
  const order: string[] = [];
  const shed: [string, number][] = [];
  const add = (p: Priority, name: string) =>
    s.submit(p, () => void order.push(name), (ms) => shed.push([name, ms]));
  add(Priority.Normal, "N1");
  add(Priority.Low, "L1");
  add(Priority.Low, "L2");
  add(Priority.High, "H1"); // evicts L2 (newest Low)
  assert.deepEqual(shed.map(([n]) => n), ["L2"]);
  add(Priority.Normal, "N2"); // evicts L1
  assert.deepEqual(shed.map(([n]) => n), ["L2", "L1"]);
  add(Priority.High, "H2"); // evicts N2 (newest of the lowest present)
  assert.deepEqual(shed.map(([n]) => n), ["L2", "L1", "N2"]);
  assert.equal(s.queued, 3);
  assert.equal(s.shedCount, 3);
  for (const [, ms] of shed) assert.ok(ms >= 50 && ms <= 5000);
  await release();
  assert.deepEqual(order, ["H1", "H2", "N1"]);
});

Deno.test("PriorityScheduler sheds a new task when nothing queued is of lower priority", () => {
  const { s } = blocked(2);
  const shed: string[] = [];
  const add = (p: Priority, name: string) =>
    s.submit(p, () => assert.fail(`${name} ran`), () => shed.push(name));
  add(Priority.High, "H1");
  add(Priority.High, "H2");
  add(Priority.High, "H3"); // equal priority: not evicted
  add(Priority.Normal, "N1");
  add(Priority.Low, "L1");
  assert.deepEqual(shed, ["H3", "N1", "L1"]);
  assert.equal(s.queued, 2);
  assert.equal(s.shedCount, 3);
});

Deno.test("PriorityScheduler with maxQueued 0 sheds whatever cannot run at once", () => {
  const { s } = blocked(0);
  let shed = 0;
  s.submit(Priority.High, () => assert.fail("ran"), () => shed++);
  assert.equal(shed, 1);
  assert.equal(s.queued, 0);
});

Deno.test("PriorityScheduler runs Urgent tasks at once, beyond the limit and ahead of the queue", async () => {
  const { s, release } = blocked(1);
  s.submit(Priority.High, () => {}, noShed);
  let urgent = 0;
  const d = deferred();
  s.submit(Priority.Urgent, () => (urgent++, d.promise), noShed);
  s.submit(Priority.Urgent, () => void urgent++, noShed);
  assert.equal(urgent, 2);
  assert.equal(s.running, 2);
  assert.equal(s.queued, 1);
  d.resolve();
  await settle();
  assert.equal(s.running, 1, "the queued task waits for the regular slot");
  assert.equal(s.queued, 1);
  await release();
  assert.equal(s.queued, 0);
});

Deno.test("PriorityScheduler.shedAll sheds every queued task with the given delay and leaves running ones alone", async () => {
  const { s, release } = blocked(10);
  const shed: number[] = [];
  for (const p of [Priority.High, Priority.Normal, Priority.Low, Priority.Low]) {
    s.submit(p, () => assert.fail("shed task ran"), (ms) => shed.push(ms));
  }
  s.shedAll(1234);
  assert.deepEqual(shed, [1234, 1234, 1234, 1234]);
  assert.equal(s.queued, 0);
  assert.equal(s.running, 1);
  assert.equal(s.shedCount, 4);
  await release();
  assert.equal(s.running, 0);
  // Still usable.
  let ran = false;
  s.submit(Priority.Low, () => void (ran = true), noShed);
  assert.ok(ran);
});

Deno.test("PriorityScheduler.retryAfterMs stays within [50, 5000]", () => {
  const fresh = new PriorityScheduler({ maxConcurrent: 4, maxQueued: 10 });
  assert.equal(fresh.retryAfterMs(), 50);
  const { s } = blocked(20_000);
  for (let i = 0; i < 20_000; i++) s.submit(Priority.Low, () => {}, noShed);
  assert.equal(s.retryAfterMs(), 5000);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 3000 }), (max, n) => {
      const x = new PriorityScheduler({ maxConcurrent: max, maxQueued: n });
      for (let i = 0; i < max + n; i++) {
        x.submit(Priority.Normal, () => new Promise(() => {}), noShed);
      }
      const r = x.retryAfterMs();
      assert.ok(Number.isInteger(r) && r >= 50 && r <= 5000, `${r}`);
    }),
    { numRuns: 50 },
  );
});

Deno.test("PriorityScheduler survives tasks that throw or reject", async () => {
  const { s, release } = blocked(10);
  const order: string[] = [];
  s.submit(Priority.Normal, () => {
    order.push("throws");
    throw new Error("boom");
  }, noShed);
  s.submit(Priority.Normal, () => {
    order.push("rejects");
    return Promise.reject(new Error("boom"));
  }, noShed);
  s.submit(Priority.Normal, () => void order.push("after"), noShed);
  await release();
  await settle();
  assert.deepEqual(order, ["throws", "rejects", "after"]);
  assert.equal(s.running, 0);
  assert.equal(s.queued, 0);
  // A throw on the direct path too.
  s.submit(Priority.High, () => {
    throw new TypeError("direct");
  }, noShed);
  assert.equal(s.running, 0);
});

Deno.test("PriorityScheduler's cancel function removes a queued task: it neither runs nor is shed, and frees its place", async () => {
  const { s, release } = blocked(2);
  const order: string[] = [];
  const shed: string[] = [];
  const add = (p: Priority, name: string) =>
    s.submit(p, () => void order.push(name), () => shed.push(name));
  const cancelA = add(Priority.Normal, "A");
  add(Priority.Normal, "B");
  assert.equal(s.queued, 2);
  cancelA();
  cancelA(); // idempotent
  assert.equal(s.queued, 1);
  add(Priority.Low, "C"); // fits in A's place instead of being shed
  assert.equal(s.queued, 2);
  assert.deepEqual(shed, []);
  await release();
  assert.deepEqual(order, ["B", "C"]);
  assert.equal(s.queued, 0);
});

Deno.test("PriorityScheduler never evicts or sheds a cancelled task", () => {
  const { s } = blocked(2);
  const shed: string[] = [];
  const add = (p: Priority, name: string) => s.submit(p, () => {}, () => shed.push(name));
  add(Priority.Low, "L1");
  const cancelL2 = add(Priority.Low, "L2");
  cancelL2();
  add(Priority.Low, "L3");
  add(Priority.High, "H"); // evicts the newest live Low: L3, not the cancelled L2
  assert.deepEqual(shed, ["L3"]);
  s.shedAll(100);
  assert.deepEqual(shed, ["L3", "H", "L1"]);
  assert.equal(s.queued, 0);
});

Deno.test("PriorityScheduler returns a harmless cancel function for tasks it runs or sheds at once", () => {
  const { s } = blocked(0);
  const cancelShed = s.submit(Priority.Low, () => {}, () => {});
  const cancelUrgent = s.submit(Priority.Urgent, () => {}, noShed);
  cancelShed();
  cancelUrgent();
  assert.equal(s.queued, 0);
  assert.equal(s.running, 1);
});

// Regression (fixed): src/server/scheduler.ts:102-106 — the cancel function returned for a
// queued task only checks its own `cancelled` flag, which nothing else sets:
// once the task has been started by #done (shiftLive), evicted (popLive) or
// shed by shedAll, calling cancel still decrements #queued. The count drifts
// below the real queue length (even negative), so maxQueued is exceeded and
// retryAfterMs under-estimates. connection.ts happens to clear its reference
// when the task starts, but not when it is shed. Fix: mark entries as
// removed (e.g. set `cancelled = true`) when they leave the queue any way.
Deno.test({
  name: "PriorityScheduler ignores a cancel after its task has started or been shed",
  fn: async () => {
    const { s, release } = blocked(1);
    const cancelStarted = s.submit(Priority.Normal, () => {}, noShed);
    await release(); // the queued task runs
    cancelStarted();
    assert.equal(s.queued, 0);

    const b = blocked(1);
    const cancelEvicted = b.s.submit(Priority.Low, () => {}, () => {});
    b.s.submit(Priority.High, () => {}, noShed); // evicts the Low task
    cancelEvicted();
    assert.equal(b.s.queued, 1);
    const c = blocked(2);
    const cancelShedAll = c.s.submit(Priority.Normal, () => {}, () => {});
    c.s.shedAll(10);
    cancelShedAll();
    assert.equal(c.s.queued, 0);
  },
});

// Regression (fixed): src/server/scheduler.ts:121-152 — #start runs a synchronous task and
// calls #done, which starts the next queued task, which calls #done … so
// draining N queued synchronous tasks recurses N deep. With ~7 000 queued (the
// config allows maxQueuedRequests up to 10^8; the default is 4 096, and real
// handler frames are deeper) the stack overflows inside the promise `finally`
// of the task that freed the slot: an unhandled rejection that ends the
// process. Fix: make the drain iterative (e.g. a #draining flag so a nested
// #done only decrements `running` and lets the outer loop start the next).
Deno.test({
  name: "PriorityScheduler drains a long queue of synchronous tasks without deep recursion",
  fn: async () => {
    const { s, release } = blocked(50_000);
    let ran = 0;
    for (let i = 0; i < 50_000; i++) s.submit(Priority.Normal, () => void ran++, noShed);
    await release();
    assert.equal(ran, 50_000);
    assert.equal(s.running, 0);
    assert.equal(s.queued, 0);
  },
});
