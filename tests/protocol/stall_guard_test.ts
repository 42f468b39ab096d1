/** guardWrites (protocol-v1 §6): a peer that stops reading is detected by one stalled write. */
import assert from "node:assert/strict";
import { guardWrites } from "../../src/protocol/stall_guard.ts";
import { ManualClock } from "../../src/util/clock.ts";

/** An inner sink whose writes complete only when told to. */
function slowSink() {
  const written: Uint8Array[] = [];
  const pending: (() => void)[] = [];
  let closed = false;
  let aborted: unknown = undefined;
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise<void>((resolve) =>
        pending.push(() => {
          written.push(chunk);
          resolve();
        })
      );
    },
    close() {
      closed = true;
    },
    abort(reason) {
      aborted = reason;
    },
  });
  return {
    stream,
    written,
    completeOne: () => pending.shift()?.(),
    get pendingWrites() {
      return pending.length;
    },
    get closed() {
      return closed;
    },
    get aborted() {
      return aborted;
    },
  };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("guardWrites passes chunks through in order and clears its timer after each write", async () => {
  const clock = new ManualClock();
  const sink = slowSink();
  let stalls = 0;
  const w = guardWrites(sink.stream, { clock, stallMs: 1000, onStall: () => stalls++ }).getWriter();
  for (const n of [1, 2, 3]) {
    const p = w.write(new Uint8Array([n]));
    await tick();
    assert.equal(clock.pendingTimers, 1, "one timer while the write waits");
    clock.advance(500);
    sink.completeOne();
    await p;
    assert.equal(clock.pendingTimers, 0);
  }
  clock.advance(10_000);
  assert.equal(stalls, 0);
  assert.deepEqual(sink.written, [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);
});

Deno.test("guardWrites calls onStall once a single write has waited stallMs, and only once", async () => {
  const clock = new ManualClock();
  const sink = slowSink();
  let stalls = 0;
  const w = guardWrites(sink.stream, { clock, stallMs: 1000, onStall: () => stalls++ }).getWriter();
  const p1 = w.write(new Uint8Array([1]));
  await tick();
  clock.advance(999);
  assert.equal(stalls, 0);
  clock.advance(1);
  assert.equal(stalls, 1);
  sink.completeOne();
  await p1;
  const p2 = w.write(new Uint8Array([2]));
  await tick();
  clock.advance(5000);
  assert.equal(stalls, 1, "onStall is called once per stream");
  sink.completeOne();
  await p2;
});

Deno.test("guardWrites does not add up time across writes that each finish in time", async () => {
  const clock = new ManualClock();
  const sink = slowSink();
  let stalls = 0;
  const w = guardWrites(sink.stream, { clock, stallMs: 1000, onStall: () => stalls++ }).getWriter();
  for (let i = 0; i < 5; i++) {
    const p = w.write(new Uint8Array([i]));
    await tick();
    clock.advance(900);
    sink.completeOne();
    await p;
  }
  assert.equal(stalls, 0);
});

Deno.test("guardWrites forwards close and abort to the inner stream", async () => {
  const clock = new ManualClock();
  const a = slowSink();
  await guardWrites(a.stream, { clock, stallMs: 1000, onStall: () => {} }).close();
  assert.equal(a.closed, true);
  const b = slowSink();
  const reason = new Error("gone");
  await guardWrites(b.stream, { clock, stallMs: 1000, onStall: () => {} }).abort(reason);
  assert.equal(b.aborted, reason);
});

Deno.test("guardWrites clears the timer of a write that fails", async () => {
  const clock = new ManualClock();
  const failing = new WritableStream<Uint8Array>({
    write: () => Promise.reject(new Error("broken pipe")),
  });
  let stalls = 0;
  const w = guardWrites(failing, { clock, stallMs: 1000, onStall: () => stalls++ }).getWriter();
  await assert.rejects(w.write(new Uint8Array([1])), /broken pipe/);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(5000);
  assert.equal(stalls, 0);
});
