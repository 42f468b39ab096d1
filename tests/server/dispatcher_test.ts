/** Dispatcher: handler registration by application type (protocol-v1 §4). */
import assert from "node:assert/strict";
import { SomnyError } from "../../src/errors.ts";
import { Priority, WireErrorCode } from "../../src/protocol/packet.ts";
import { Dispatcher, type Handler, HandlerError } from "../../src/server/dispatcher.ts";

const echo: Handler = (ctx) => ctx.payload;

Deno.test("Dispatcher accepts application types 0x20–0x7F and nothing else", () => {
  const d = new Dispatcher();
  d.register(0x20, echo).register(0x7f, echo).register(0x50, echo);
  assert.deepEqual(d.types().sort((a, b) => a - b), [0x20, 0x50, 0x7f]);
  for (
    const bad of [
      0x1f,
      0x80,
      0x00,
      0x01,
      0x05,
      0x10,
      0xa0,
      0xa1,
      0xff,
      -1,
      256,
      32.5,
      NaN,
      Infinity,
    ]
  ) {
    assert.throws(() => new Dispatcher().register(bad, echo), RangeError, `type ${bad}`);
  }
});

Deno.test("Dispatcher refuses a second handler for the same type and keeps the first", () => {
  const d = new Dispatcher();
  const first: Handler = () => new Uint8Array([1]);
  d.register(0x21, first);
  assert.throws(() => d.register(0x21, echo), RangeError);
  assert.equal(d.get(0x21)!.handler, first);
  assert.deepEqual(d.types(), [0x21]);
});

Deno.test("Dispatcher fills in defaults: Normal priority, the server's timeout, the 65 470-byte frame maximum", () => {
  const d = new Dispatcher().register(0x20, echo);
  assert.deepEqual(d.get(0x20), {
    type: 0x20,
    handler: echo,
    priority: Priority.Normal,
    timeoutMs: undefined,
    maxPayloadBytes: 65_470,
  });
  assert.equal(d.get(0x21), undefined);
});

Deno.test("Dispatcher keeps the options it is given", () => {
  const d = new Dispatcher().register(0x30, echo, {
    priority: Priority.High,
    timeoutMs: 250,
    maxPayloadBytes: 0,
  });
  assert.deepEqual(
    { p: d.get(0x30)!.priority, t: d.get(0x30)!.timeoutMs, m: d.get(0x30)!.maxPayloadBytes },
    { p: Priority.High, t: 250, m: 0 },
  );
  d.register(0x31, echo, { maxPayloadBytes: 65_470, priority: Priority.Low });
  assert.equal(d.get(0x31)!.maxPayloadBytes, 65_470);
  assert.equal(d.get(0x31)!.priority, Priority.Low);
});

Deno.test("Dispatcher validates maxPayloadBytes and timeoutMs", () => {
  for (const m of [-1, 65_471, 1.5, NaN, Infinity]) {
    assert.throws(
      () => new Dispatcher().register(0x20, echo, { maxPayloadBytes: m }),
      RangeError,
      `max ${m}`,
    );
  }
  for (const t of [0, -1, NaN]) {
    assert.throws(
      () => new Dispatcher().register(0x20, echo, { timeoutMs: t }),
      RangeError,
      `timeout ${t}`,
    );
  }
  // A refused registration leaves the type free.
  const d = new Dispatcher();
  assert.throws(() => d.register(0x20, echo, { timeoutMs: 0 }), RangeError);
  assert.equal(d.get(0x20), undefined);
  d.register(0x20, echo, { timeoutMs: 1 });
  assert.equal(d.get(0x20)!.timeoutMs, 1);
});

Deno.test("HandlerError carries a wire error code and retry delay", () => {
  const e = new HandlerError(WireErrorCode.MalformedRequest, "bad payload");
  assert.ok(e instanceof SomnyError);
  assert.equal(e.code, "REMOTE_ERROR");
  assert.equal(e.wireCode, 2);
  assert.equal(e.retryAfterMs, 0);
  assert.equal(e.message, "bad payload");
  assert.equal(e.name, "HandlerError");
  assert.equal(new HandlerError(WireErrorCode.RateLimited, "slow down", 750).retryAfterMs, 750);
});
