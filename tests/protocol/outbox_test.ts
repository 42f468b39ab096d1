/** Outbox (protocol-v1 §6 bounded send queue): batching per turn and overflow. */
import assert from "node:assert/strict";
import { outboundBatchBytes, Outbox } from "../../src/protocol/outbox.ts";
import type { Outbound } from "../../src/protocol/pipeline.ts";

function stage(highWaterMark: number) {
  let controller!: TransformStreamDefaultController<Outbound[]>;
  const ts = new TransformStream<Outbound[], Outbound[]>(
    { start: (c) => void (controller = c) },
    undefined,
    Outbox.strategy(highWaterMark),
  );
  return { controller, readable: ts.readable, writable: ts.writable };
}

const item = (n: number, type = 0x20): Outbound => ({
  type,
  requestId: n,
  payload: new Uint8Array(n),
});
const turn = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("outboundBatchBytes counts payload or raw bytes plus 64 per item", () => {
  assert.equal(outboundBatchBytes([]), 0);
  assert.equal(outboundBatchBytes([item(10), { raw: new Uint8Array(78) }]), 10 + 64 + 78 + 64);
  const s = Outbox.strategy(1234);
  assert.equal(s.highWaterMark, 1234);
  assert.equal(s.size!([item(1)]), 65);
  assert.equal(Outbox.strategy().highWaterMark, 64 * 1024);
});

Deno.test("Outbox sends everything queued in one turn as one batch, in order", async () => {
  const { controller, readable } = stage(1 << 20);
  const box = new Outbox({ maxQueuedBytes: 1 << 20, onOverflow: () => assert.fail("overflow") });
  box.attach(controller);
  box.send(item(1));
  box.send({ raw: new Uint8Array([1, 2, 3]) });
  box.send(item(3));
  const reader = readable.getReader();
  const first = await reader.read();
  assert.deepEqual(first.value!.map((o) => ("raw" in o ? "raw" : o.requestId)), [1, "raw", 3]);
  // The next turn's sends form the next batch.
  await turn();
  box.send(item(4));
  box.send(item(5));
  const second = await reader.read();
  assert.deepEqual(second.value!.map((o) => ("raw" in o ? "raw" : o.requestId)), [4, 5]);
  reader.releaseLock();
});

Deno.test("Outbox.flush hands the pending batch downstream at once, and a flush with nothing pending enqueues nothing", async () => {
  const { controller, readable } = stage(1 << 20);
  const box = new Outbox({ maxQueuedBytes: 1 << 20, onOverflow: () => {} });
  box.attach(controller);
  box.flush();
  assert.equal(controller.desiredSize, 1 << 20);
  box.send(item(7));
  box.flush();
  assert.equal(controller.desiredSize, (1 << 20) - 71);
  await turn(); // the scheduled microtask flush finds nothing left
  assert.equal(controller.desiredSize, (1 << 20) - 71);
  const reader = readable.getReader();
  assert.equal((await reader.read()).value!.length, 1);
  reader.releaseLock();
});

Deno.test("Outbox holds sends made before attach and delivers them once attached", async () => {
  const { controller, readable } = stage(1 << 20);
  const box = new Outbox({ maxQueuedBytes: 1 << 20, onOverflow: () => {} });
  box.send(item(1));
  await turn();
  box.attach(controller);
  box.send(item(2));
  const reader = readable.getReader();
  assert.deepEqual((await reader.read()).value!.map((o) => "requestId" in o && o.requestId), [
    1,
    2,
  ]);
  reader.releaseLock();
});

Deno.test("Outbox calls onOverflow once when the queue exceeds maxQueuedBytes beyond the high-water mark, then drops sends", async () => {
  const hwm = 1000;
  const max = 500;
  const { controller } = stage(hwm);
  let overflows = 0;
  const box = new Outbox({ maxQueuedBytes: max, onOverflow: () => overflows++ });
  box.attach(controller);
  // Nobody reads. Each batch of one item(436) is 500 bytes.
  box.send(item(436));
  await turn();
  box.send(item(436));
  await turn();
  box.send(item(436));
  await turn();
  assert.equal(controller.desiredSize, hwm - 1500); // -500: not beyond the limit
  assert.equal(overflows, 0);
  assert.equal(box.closed, false);
  box.send(item(0)); // 64 more bytes: desiredSize −564 < −500
  await turn();
  assert.equal(overflows, 1);
  assert.equal(box.closed, true);
  box.send(item(100));
  await turn();
  assert.equal(overflows, 1);
  assert.equal(controller.desiredSize, hwm - 1564, "sends after overflow are dropped");
});

Deno.test("Outbox.close flushes what is pending, then ends the stream", async () => {
  const { controller, readable } = stage(1 << 20);
  const box = new Outbox({ maxQueuedBytes: 1 << 20, onOverflow: () => {} });
  box.attach(controller);
  box.send(item(1));
  box.send(item(2));
  box.close();
  assert.equal(box.closed, true);
  box.send(item(3)); // dropped
  const chunks: Outbound[][] = [];
  for await (const c of readable) chunks.push(c);
  assert.deepEqual(chunks.map((c) => c.map((o) => "requestId" in o && o.requestId)), [[1, 2]]);
  box.close(); // a second close is harmless
});

Deno.test("Outbox marks itself closed when the stream can no longer take batches", async () => {
  const { controller, readable } = stage(1 << 20);
  const box = new Outbox({ maxQueuedBytes: 1 << 20, onOverflow: () => assert.fail("overflow") });
  box.attach(controller);
  await readable.cancel();
  box.send(item(1));
  await turn();
  assert.equal(box.closed, true);
});
