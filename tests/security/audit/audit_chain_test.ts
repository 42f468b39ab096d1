/**
 * The audit chain's pure parts: canonical JSON (key order independence,
 * non-JSON values, bounds), the record encoding's exact bytes, and the MAC
 * checked against WebCrypto's HMAC.
 */
import assert from "node:assert/strict";
import {
  canonicalJson,
  computeAnchorMac,
  computeAuditMac,
  encodeAuditRecord,
  genesisMac,
  importAuditKey,
  macsEqual,
} from "../../../src/security/audit/mod.ts";
import { concat, toHex } from "../../../src/util/mod.ts";

const RAW_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

Deno.test("canonicalJson sorts keys at every depth, so key order does not change the text", () => {
  const a = { b: 1, a: { d: [2, { z: 1, y: 2 }], c: "x" }, "é": true, A: null };
  const b = { A: null, "é": true, a: { c: "x", d: [2, { y: 2, z: 1 }] }, b: 1 };
  assert.equal(canonicalJson(a), canonicalJson(b));
  assert.equal(canonicalJson(a), '{"A":null,"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1,"é":true}');
});

Deno.test("canonicalJson sorts keys by UTF-16 code units and keeps numbers in shortest form", () => {
  assert.equal(
    canonicalJson({ "\u{1F600}": 1, "\uFFFF": 2, "10": 3, "9": 4 }),
    '{"10":3,"9":4,"\u{1F600}":1,"\uFFFF":2}',
  );
  assert.equal(
    canonicalJson([1.5, 1e21, 1e-7, -0, 0.1 + 0.2]),
    "[1.5,1e+21,1e-7,0,0.30000000000000004]",
  );
});

Deno.test("canonicalJson encodes values JSON cannot hold instead of failing", () => {
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  const throwing = {
    get bad(): never {
      throw new Error("no");
    },
    ok: 1,
  };
  const text = canonicalJson({
    big: 12345678901234567890n,
    nan: NaN,
    inf: -Infinity,
    undef: undefined,
    fn: () => 1,
    sym: Symbol("s"),
    list: [undefined, () => 1, 1n],
    date: new Date(0),
    badDate: new Date(NaN),
    bytes: new Uint8Array([0, 255]),
    ints: new Int16Array([-1, 2]),
    map: new Map<unknown, unknown>([[2, "b"], ["1", "a"]]),
    set: new Set(["x"]),
    err: new TypeError("boom"),
    cyclic,
    throwing,
    nul: "a\u0000b",
    lone: "x\uD800y",
  });
  assert.equal(
    text,
    '{"badDate":"Invalid Date","big":"12345678901234567890","bytes":"00ff",' +
      '"cyclic":{"name":"c","self":"[circular]"},"date":"1970-01-01T00:00:00.000Z",' +
      '"err":{"message":"boom","name":"TypeError"},"inf":"-Infinity","ints":[-1,2],' +
      '"list":[null,null,"1"],"lone":"x\uFFFDy","map":{"1":"a","2":"b"},"nan":"NaN",' +
      '"nul":"a\uFFFDb","set":["x"],"throwing":{"bad":"[unreadable]","ok":1}}',
  );
  // Always valid JSON.
  JSON.parse(text);
});

Deno.test("canonicalJson replaces oversized output and deep nesting, and never throws", () => {
  assert.equal(
    canonicalJson({ s: "x".repeat(100) }, { maxChars: 50 }),
    '{"$truncated":true,"limit":50}',
  );
  assert.equal(canonicalJson("x".repeat(10_000_000)), '{"$truncated":true,"limit":8192}');
  assert.equal(canonicalJson(new Float64Array(1_000_000)), '{"$truncated":true,"limit":8192}');
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.match(canonicalJson(deep), /^\[{15}\[?"\[depth\]"\]+$/);
  const hostile = new Proxy({}, {
    ownKeys() {
      throw new Error("hostile");
    },
  });
  assert.equal(canonicalJson(hostile), '{"$unencodable":true}');
});

Deno.test("encodeAuditRecord writes the documented layout, byte for byte", () => {
  const bytes = encodeAuditRecord({
    seq: 258,
    occurredAtMs: 1_700_000_000_123,
    kind: "ban",
    ip: "1.2.3.4",
    actor: null,
    details: '{"a":1}',
  });
  assert.equal(
    toHex(bytes),
    "01" + // version
      "0000000000000102" + // seq 258
      "0000018bcfe5687b" + // 1_700_000_000_123 ms
      "00000003" + "62616e" + // "ban"
      "01" + "00000007" + "312e322e332e34" + // ip "1.2.3.4"
      "00" + // actor NULL
      "00000007" + "7b2261223a317d", // details
  );
  // NULL and "" differ.
  const base = { seq: 1, occurredAtMs: 0, kind: "ban", ip: null, actor: null, details: "{}" };
  assert.notEqual(toHex(encodeAuditRecord(base)), toHex(encodeAuditRecord({ ...base, ip: "" })));
  assert.throws(() => encodeAuditRecord({ ...base, seq: 0 }), RangeError);
});

Deno.test("computeAuditMac is HMAC-SHA256(key, prev_mac || encoding), checked against WebCrypto", async () => {
  const key = importAuditKey(RAW_KEY);
  const fields = {
    seq: 1,
    occurredAtMs: 1_700_000_000_000,
    kind: "admin_action",
    ip: null,
    actor: "cli",
    details: '{"action":"unban"}',
  };
  const mac = computeAuditMac(key, genesisMac(), fields);
  const webKey = await crypto.subtle.importKey(
    "raw",
    RAW_KEY,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const expected = new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      webKey,
      concat(genesisMac(), encodeAuditRecord(fields)) as Uint8Array<ArrayBuffer>,
    ),
  );
  assert.equal(toHex(mac), toHex(expected));
  assert.equal(mac.length, 32);
  // Chained: a different prev_mac gives a different MAC.
  assert.notEqual(toHex(computeAuditMac(key, mac, fields)), toHex(mac));
  assert.ok(macsEqual(mac, expected));
  assert.ok(!macsEqual(mac, computeAnchorMac(key, 1, genesisMac())));
  assert.ok(!macsEqual(mac, mac.subarray(0, 31)));
});

Deno.test("importAuditKey takes exactly 32 bytes and never puts the key in its error", () => {
  const short = new Uint8Array(31).fill(0xab);
  assert.throws(() => importAuditKey(short), (e: Error) => {
    assert.ok(e instanceof RangeError);
    assert.ok(!e.message.includes("ab") && !e.message.includes("171"));
    return true;
  });
  assert.equal(genesisMac().length, 32);
  assert.ok(genesisMac().every((b) => b === 0));
});
