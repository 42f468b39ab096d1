/** Byte helpers: hex, concat, constant-time comparison, wiping, strict UTF-8. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  concat,
  decodeUtf8Strict,
  fromHex,
  timingSafeEqual,
  toHex,
  utf8,
  wipe,
} from "../../src/util/bytes.ts";

Deno.test("toHex writes two lowercase digits per byte", () => {
  assert.equal(toHex(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff])), "00010f10abff");
  assert.equal(toHex(new Uint8Array(0)), "");
  const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
  assert.equal(toHex(view), "0807");
});

Deno.test("fromHex reads either case and rejects odd lengths and non-hex characters", () => {
  assert.deepEqual(fromHex("00ABcd"), new Uint8Array([0, 0xab, 0xcd]));
  assert.deepEqual(fromHex(""), new Uint8Array(0));
  for (const bad of ["0", "abc", "zz", "0x12", "12 34", "1g", "-1", "+1", "٠٠"]) {
    assert.throws(() => fromHex(bad), TypeError, JSON.stringify(bad));
  }
});

Deno.test("property: hex round-trips any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const h = toHex(b);
      assert.equal(h.length, 2 * b.length);
      assert.match(h, /^[0-9a-f]*$/);
      assert.deepEqual(fromHex(h), b);
      assert.deepEqual(fromHex(h.toUpperCase()), b);
    }),
  );
});

Deno.test("concat joins views in order into a new array", () => {
  const a = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
  const out = concat(a, new Uint8Array(0), new Uint8Array([9]));
  assert.deepEqual(out, new Uint8Array([2, 3, 9]));
  assert.notEqual(out.buffer, a.buffer);
  assert.deepEqual(concat(), new Uint8Array(0));
});

Deno.test("timingSafeEqual is true only for equal length and content", () => {
  assert.ok(timingSafeEqual(new Uint8Array(0), new Uint8Array(0)));
  assert.ok(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])));
  assert.ok(!timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2])));
  assert.ok(!timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])));
  const base = new Uint8Array(32).fill(0x5a);
  for (let i = 0; i < 32; i++) {
    for (const bit of [0x01, 0x80]) {
      const other = base.slice();
      other[i] ^= bit;
      assert.ok(!timingSafeEqual(base, other), `byte ${i} bit ${bit}`);
    }
  }
});

Deno.test("property: timingSafeEqual agrees with element-wise equality", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
      const eq = a.length === b.length && a.every((x, i) => x === b[i]);
      assert.equal(timingSafeEqual(a, b), eq);
      assert.ok(timingSafeEqual(a, a.slice()));
    }),
  );
});

Deno.test("wipe zeroes a buffer in place and accepts undefined", () => {
  const secret = new Uint8Array([1, 2, 3, 4]);
  const view = secret.subarray(1, 3);
  wipe(view);
  assert.deepEqual(secret, new Uint8Array([1, 0, 0, 4]));
  wipe(secret);
  assert.deepEqual(secret, new Uint8Array(4));
  wipe(undefined);
});

Deno.test("decodeUtf8Strict decodes valid UTF-8 and returns undefined for invalid sequences", () => {
  assert.equal(decodeUtf8Strict(utf8("héllo €😀")), "héllo €😀");
  assert.equal(decodeUtf8Strict(new Uint8Array(0)), "");
  for (
    const bad of [
      [0xff],
      [0x80], // lone continuation byte
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // truncated
      [0x61, 0xf0, 0x9f, 0x98], // truncated 4-byte after valid ASCII
    ]
  ) {
    assert.equal(
      decodeUtf8Strict(new Uint8Array(bad)),
      undefined,
      bad.map((b) => b.toString(16)).join(" "),
    );
  }
});

/** Strings of Unicode scalar values (no lone surrogates), any plane. */
function anyScalarString(maxLength: number): fc.Arbitrary<string> {
  const cp = fc.oneof(
    fc.integer({ min: 0, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0x10ffff }),
  );
  return fc.array(cp, { maxLength }).map((cps) => String.fromCodePoint(...cps));
}

Deno.test("property: decodeUtf8Strict inverts utf8 for well-formed strings without a leading BOM", () => {
  fc.assert(
    fc.property(
      anyScalarString(50).filter((s) => !s.startsWith("\uFEFF")),
      (s) => {
        assert.equal(decodeUtf8Strict(utf8(s)), s);
      },
    ),
  );
});

// Regression (fixed): src/util/bytes.ts:52 creates the strict decoder with `{ fatal: true }`
// only, so TextDecoder strips a leading BOM (ignoreBOM defaults to false): the
// bytes EF BB BF 61 decode to "a". Distinct byte strings then decode equal:
// a ClientHello psk_id of EF BB BF (3 bytes) names the default key "" (the
// prologue still binds the raw bytes, so the psk is still needed), and a
// control message that starts with U+FEFF loses it. Fix: add `ignoreBOM: true`.
Deno.test({
  name: "decodeUtf8Strict keeps a leading byte order mark",
  fn: () => {
    assert.equal(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), "\uFEFFa");
    assert.equal(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf])), "\uFEFF");
  },
});
