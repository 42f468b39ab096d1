/** Control message payloads (protocol-v1 §4): Error, GoAway, Heartbeat. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeErrorPayload,
  decodeGoAwayPayload,
  encodeErrorPayload,
  encodeGoAwayPayload,
  encodeHeartbeatPayload,
} from "../../src/protocol/messages.ts";
import { toHex, utf8 } from "../../src/util/bytes.ts";

Deno.test("encodeErrorPayload writes code (u16), retry_after_ms (u32) and the UTF-8 message", () => {
  const p = encodeErrorPayload(5, 1500, "overloaded");
  assert.equal(toHex(p.subarray(0, 6)), "0005000005dc");
  assert.equal(new TextDecoder().decode(p.subarray(6)), "overloaded");
  assert.deepEqual(decodeErrorPayload(p), { code: 5, retryAfterMs: 1500, message: "overloaded" });
});

Deno.test("encodeErrorPayload clamps retry_after_ms into 0 … 2^32 − 1 and rounds it", () => {
  assert.equal(decodeErrorPayload(encodeErrorPayload(3, -5, ""))!.retryAfterMs, 0);
  assert.equal(decodeErrorPayload(encodeErrorPayload(3, 2 ** 40, ""))!.retryAfterMs, 0xffff_ffff);
  assert.equal(decodeErrorPayload(encodeErrorPayload(3, 12.6, ""))!.retryAfterMs, 13);
});

Deno.test("encodeGoAwayPayload writes reason (u16) and the UTF-8 message", () => {
  const p = encodeGoAwayPayload(0x0102, "bye");
  assert.equal(toHex(p), "0102" + toHex(utf8("bye")));
  assert.deepEqual(decodeGoAwayPayload(p), { reason: 0x0102, message: "bye" });
  assert.deepEqual(decodeGoAwayPayload(encodeGoAwayPayload(1, "")), { reason: 1, message: "" });
});

Deno.test("encodeHeartbeatPayload writes timestamp_ms as a big-endian u64", () => {
  assert.equal(toHex(encodeHeartbeatPayload(0x0102_0304_0506)), "0000010203040506");
  assert.equal(toHex(encodeHeartbeatPayload(-1)), "0000000000000000");
  assert.equal(toHex(encodeHeartbeatPayload(1.9)), "0000000000000001");
});

Deno.test("control messages longer than 1 024 bytes are clipped on a UTF-8 character boundary", () => {
  const ascii = encodeGoAwayPayload(0, "a".repeat(5000));
  assert.equal(ascii.length, 2 + 1024);
  // 'a' then 2-byte characters: byte 1024 is the middle of one, so it is dropped whole.
  const two = "a" + "é".repeat(600);
  const g = decodeGoAwayPayload(encodeGoAwayPayload(0, two))!;
  assert.equal(utf8(g.message).length, 1023);
  assert.equal(g.message, "a" + "é".repeat(511));
  // 4-byte characters, offset by one and two bytes.
  for (const prefix of ["", "x", "xy", "xyz"]) {
    const s = prefix + "😀".repeat(300);
    const e = decodeErrorPayload(encodeErrorPayload(4, 0, s))!;
    assert.ok(e !== undefined, `prefix ${prefix.length}`);
    assert.ok(s.startsWith(e.message));
    assert.ok(utf8(e.message).length <= 1024 && utf8(e.message).length > 1020);
  }
  // Exactly 1 024 bytes is kept whole.
  assert.equal(
    decodeGoAwayPayload(encodeGoAwayPayload(0, "€".repeat(341) + "a"))!.message.length,
    342,
  );
});

Deno.test("decodeErrorPayload and decodeGoAwayPayload return undefined for short or non-UTF-8 payloads", () => {
  for (let n = 0; n < 6; n++) {
    assert.equal(decodeErrorPayload(new Uint8Array(n)), undefined, `error ${n}`);
  }
  assert.deepEqual(decodeErrorPayload(new Uint8Array(6)), {
    code: 0,
    retryAfterMs: 0,
    message: "",
  });
  for (let n = 0; n < 2; n++) {
    assert.equal(decodeGoAwayPayload(new Uint8Array(n)), undefined, `goaway ${n}`);
  }
  for (const bad of [[0xff], [0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
    assert.equal(decodeErrorPayload(new Uint8Array([0, 1, 0, 0, 0, 0, ...bad])), undefined);
    assert.equal(decodeGoAwayPayload(new Uint8Array([0, 1, ...bad])), undefined);
  }
});

Deno.test("decodeErrorPayload reads a payload that is a view into a larger buffer", () => {
  const frame = new Uint8Array(20).fill(0xee);
  frame.set(encodeErrorPayload(7, 99, "big"), 9);
  const e = decodeErrorPayload(frame.subarray(9, 9 + 6 + 3));
  assert.deepEqual(e, { code: 7, retryAfterMs: 99, message: "big" });
});

// Strings that survive UTF-8 encoding unchanged (no lone surrogates); a
// leading U+FEFF is excluded here: see tests/util/bytes_test.ts.
const arbMessage = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })),
  { maxLength: 700 },
).map((cps) => String.fromCodePoint(...cps)).filter((s) => !s.startsWith("\uFEFF"));

Deno.test("property: Error and GoAway payloads round-trip, clipped to a prefix of at most 1 024 bytes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      arbMessage,
      (code, retry, message) => {
        const e = decodeErrorPayload(encodeErrorPayload(code, retry, message));
        assert.ok(e);
        assert.equal(e.code, code);
        assert.equal(e.retryAfterMs, retry);
        assert.ok(message.startsWith(e.message));
        const bytes = utf8(e.message).length;
        assert.ok(bytes <= 1024);
        if (utf8(message).length <= 1024) assert.equal(e.message, message);
        else assert.ok(bytes > 1020, "clipping drops at most one character");
        const g = decodeGoAwayPayload(encodeGoAwayPayload(code, message));
        assert.deepEqual(g, { reason: code, message: e.message });
      },
    ),
  );
});
