/**
 * The key-value payload codec: request validation (Error 2 / Error 7), exact
 * value spans, prefix bounds and responses that always fit one frame.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_PAYLOAD_BYTES, WireErrorCode } from "../../../src/protocol/mod.ts";
import { HandlerError } from "../../../src/server/mod.ts";
import {
  getResponse,
  listResponse,
  memberSpan,
  parseKeyRequest,
  parseListRequest,
  parsePutRequest,
  prefixUpperBound,
} from "../../../src/server/kv/codec.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);

function wireCode(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof HandlerError) return e.wireCode;
    throw e;
  }
  throw new Error("did not throw");
}

Deno.test("kv codec: a Put keeps the value's bytes exactly as sent", () => {
  const raw = '{ "value" :  {"b": 1,  "a": [1.0, 1e2, "\\u00e9"]} , "key":"k"}';
  const p = parsePutRequest(b(raw));
  assert.equal(p.key, "k");
  assert.equal(dec.decode(p.value), '{"b": 1,  "a": [1.0, 1e2, "\\u00e9"]}');
  const later = parsePutRequest(b('{"key":"k","value":1,"value":"last"}'));
  assert.equal(dec.decode(later.value), '"last"', "the last duplicate wins, as in JSON.parse");
});

Deno.test("kv codec: memberSpan agrees with JSON.parse on any object, however it is formatted", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.jsonValue(),
      fc.constantFrom(undefined, 0, 1, 2, "\t"),
      (rest, value, indent) => {
        const obj = { ...rest, value };
        const text = JSON.stringify(obj, null, indent);
        const span = memberSpan(text, "value")!;
        assert.deepEqual(
          JSON.parse(text.slice(span[0], span[1])),
          JSON.parse(JSON.stringify(value)),
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("kv codec: malformed requests are Error 2", () => {
  const bad = [
    new Uint8Array([0xff, 0xfe]), // not UTF-8
    b("not json"),
    b("[1,2]"),
    b("null"),
    b('{"key": 1}'),
    b('{"key": ""}'),
    b(`{"key": "${"x".repeat(257)}"}`),
    b('{"key": "\\ud800"}'), // lone surrogate: no UTF-8 form
    b('{"nokey": "a"}'),
  ];
  for (const p of bad) {
    assert.equal(wireCode(() => parseKeyRequest(p)), WireErrorCode.MalformedRequest);
  }
  assert.equal(wireCode(() => parsePutRequest(b('{"key":"a"}'))), WireErrorCode.MalformedRequest);
  for (const l of ["0", "1001", "1.5", '"10"']) {
    assert.equal(
      wireCode(() => parseListRequest(b(`{"prefix":"","limit":${l}}`))),
      WireErrorCode.MalformedRequest,
    );
  }
  assert.equal(wireCode(() => parseListRequest(b('{"limit":5}'))), WireErrorCode.MalformedRequest);
  assert.equal(parseKeyRequest(b(`{"key": "${"é".repeat(128)}"}`)).keyBytes.length, 256);
});

Deno.test("kv codec: a value whose Get could not fit one frame is Error 7; the largest that fits is accepted and its Get fits", () => {
  const key = "k";
  const overhead = b(`{"key":"k","value":"","version":9223372036854775807}`).length;
  const fits = "x".repeat(MAX_PAYLOAD_BYTES - overhead);
  const p = parsePutRequest(b(JSON.stringify({ key, value: fits })));
  assert.ok(
    getResponse(key, { value: p.value, version: 9223372036854775807n }).length <= MAX_PAYLOAD_BYTES,
  );
  assert.equal(
    wireCode(() => parsePutRequest(b(JSON.stringify({ key, value: fits + "x" })))),
    WireErrorCode.RequestTooLarge,
  );
});

Deno.test("kv codec: prefixUpperBound bounds exactly the strings with that prefix", () => {
  assert.deepEqual(prefixUpperBound(b("ab")), b("ac"));
  assert.deepEqual(prefixUpperBound(new Uint8Array([0x61, 0xff])), new Uint8Array([0x62]));
  assert.equal(prefixUpperBound(new Uint8Array([0xff, 0xff])), undefined);
  assert.equal(prefixUpperBound(new Uint8Array(0)), undefined);
  const cmp = (x: Uint8Array, y: Uint8Array) => {
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ maxLength: 6 }), (p, s) => {
      const upper = prefixUpperBound(p);
      const hasPrefix = s.length >= p.length && p.every((x, i) => s[i] === x);
      const inRange = cmp(s, p) >= 0 && (upper === undefined || cmp(s, upper) < 0);
      assert.equal(inRange, hasPrefix);
    }),
  );
});

Deno.test("kv codec: a List page never exceeds one frame and its next resumes after the last key returned", () => {
  const key = (i: number) => b(`${"\u0001".repeat(200)}${String(i).padStart(4, "0")}`); // escapes to 6 bytes per char
  const rows = Array.from({ length: 1001 }, (_, i) => ({ key: key(i), version: 1n }));
  const out = listResponse(rows, 1000);
  assert.ok(out.length <= MAX_PAYLOAD_BYTES);
  const page = JSON.parse(dec.decode(out));
  assert.ok(page.items.length < 1000, "cut short to fit");
  assert.equal(page.next, page.items[page.items.length - 1].key);
  const small = JSON.parse(dec.decode(listResponse(rows.slice(0, 3), 2)));
  assert.equal(small.items.length, 2);
  assert.equal(small.next, small.items[1].key);
  const last = JSON.parse(dec.decode(listResponse(rows.slice(0, 2), 2)));
  assert.equal(last.next, null);
});
