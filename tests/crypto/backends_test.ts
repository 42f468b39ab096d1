/**
 * Every CryptoBackend must be byte-identical: known-answer vectors, AEAD
 * round trips and forgeries, and a property test across all backends.
 */

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import fc from "fast-check";
import { type CryptoBackend, webCryptoBackend } from "../../src/protocol/mod.ts";
import {
  loadLibcryptoBackend,
  nodeCryptoBackend,
  selectCryptoBackend,
} from "../../src/crypto/mod.ts";

const libcrypto = loadLibcryptoBackend();
if (libcrypto === undefined) {
  if (Deno.env.get("REQUIRE_LIBCRYPTO") === "1") {
    throw new Error("REQUIRE_LIBCRYPTO=1 but the libcrypto backend did not load");
  }
  console.log("note: libcrypto backend did not load (no FFI or no OpenSSL 3); skipping it");
}

const backends: CryptoBackend[] = [webCryptoBackend, nodeCryptoBackend];
if (libcrypto !== undefined) backends.push(libcrypto);
/** Backends of src/crypto/, held to the stricter contract (sync, RangeError). */
const fastBackends = backends.filter((b) => b !== webCryptoBackend);

const utf8 = new TextEncoder();

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Compare as hex so a failure shows readable bytes, and Buffer vs Uint8Array cannot matter. */
function assertBytes(actual: Uint8Array | null, expected: Uint8Array, msg?: string): void {
  assert.ok(actual instanceof Uint8Array, `${msg ?? "value"}: expected bytes, got ${actual}`);
  assert.equal(toHex(actual), toHex(expected), msg);
}

/** Independent AES-256-GCM reference straight from node:crypto. */
function referenceSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array) {
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(aad);
  const body = c.update(pt);
  c.final();
  const out = new Uint8Array(pt.length + 16);
  out.set(body);
  out.set(c.getAuthTag(), pt.length);
  return out;
}

// --- Vectors ----------------------------------------------------------------

const SHA256_ABC = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
const SHA256_EMPTY = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

// RFC 4231 test case 2.
const HMAC_TC2_KEY = utf8.encode("Jefe");
const HMAC_TC2_DATA = utf8.encode("what do ya want for nothing?");
const HMAC_TC2 = hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
// RFC 4231 test case 6: a 131-byte key, longer than the block size.
const HMAC_TC6_KEY = new Uint8Array(131).fill(0xaa);
const HMAC_TC6_DATA = utf8.encode("Test Using Larger Than Block-Size Key - Hash Key First");
const HMAC_TC6 = hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
// HMAC-SHA256 with empty key and empty message.
const HMAC_EMPTY = hex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

// RFC 7748 section 6.1.
const ALICE_PRIVATE = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const ALICE_PUBLIC = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const BOB_PRIVATE = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const BOB_PUBLIC = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
const X25519_SHARED = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16
// (AES-256, IV 96 bits, 60-byte plaintext, 20-byte AAD).
const GCM16 = {
  key: hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
  iv: hex("cafebabefacedbaddecaf888"),
  aad: hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
  pt: hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
           1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`),
  ct: hex(`522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
           8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662`),
  tag: hex("76fc6ece0f4e1768cddf8853bb2d551b"),
};
// McGrew & Viega test case 13: AES-256, all-zero key and IV, empty plaintext.
const GCM13_TAG = hex("530f8afbc74536b9a963b4f1c4cb738b");

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// --- Per-backend tests ------------------------------------------------------

for (const b of backends) {
  Deno.test(`${b.name}: SHA-256 known answers`, async () => {
    assertBytes(await b.sha256(utf8.encode("abc")), SHA256_ABC);
    assertBytes(await b.sha256(new Uint8Array(0)), SHA256_EMPTY);
  });

  Deno.test(`${b.name}: HMAC-SHA256 RFC 4231 (raw and imported key)`, async () => {
    assertBytes(await b.hmacSha256(HMAC_TC2_KEY, HMAC_TC2_DATA), HMAC_TC2, "tc2 raw");
    assertBytes(await b.hmacSha256(HMAC_TC6_KEY, HMAC_TC6_DATA), HMAC_TC6, "tc6 raw");
    const k2 = await b.importMacKey(HMAC_TC2_KEY);
    const k6 = await b.importMacKey(HMAC_TC6_KEY);
    // Twice each and interleaved: contexts that are reset per call must not
    // carry state from the previous message or the other key.
    for (let i = 0; i < 2; i++) {
      assertBytes(await b.mac(k2, HMAC_TC2_DATA), HMAC_TC2, "tc2 imported");
      assertBytes(await b.mac(k6, HMAC_TC6_DATA), HMAC_TC6, "tc6 imported");
    }
    b.destroyKey?.(k2);
    b.destroyKey?.(k6);
  });

  Deno.test(`${b.name}: X25519 RFC 7748 section 6.1`, async () => {
    const alice = await b.importX25519(ALICE_PRIVATE);
    const bob = await b.importX25519(BOB_PRIVATE);
    assertBytes(alice.publicKey, ALICE_PUBLIC, "alice public");
    assertBytes(bob.publicKey, BOB_PUBLIC, "bob public");
    assertBytes(await b.x25519(alice.privateKey, BOB_PUBLIC), X25519_SHARED, "alice side");
    assertBytes(await b.x25519(bob.privateKey, ALICE_PUBLIC), X25519_SHARED, "bob side");
  });

  Deno.test(`${b.name}: X25519 generated pairs agree`, async () => {
    const a = await b.generateX25519();
    const c = await b.generateX25519();
    assert.equal(a.publicKey.length, 32);
    assert.notEqual(toHex(a.publicKey), toHex(c.publicKey));
    assertBytes(
      await b.x25519(a.privateKey, c.publicKey),
      await b.x25519(c.privateKey, a.publicKey),
    );
  });

  Deno.test(`${b.name}: X25519 with a small-order point throws`, async () => {
    const kp = await b.generateX25519();
    const one = new Uint8Array(32);
    one[0] = 1;
    for (const point of [new Uint8Array(32), one]) {
      const strict = b !== webCryptoBackend;
      await assert.rejects(
        async () => await b.x25519(kp.privateKey, point),
        // The WebCrypto backend surfaces Deno's OperationError instead.
        strict ? RangeError : Error,
        `small-order point ${toHex(point)}`,
      );
    }
  });

  Deno.test(`${b.name}: AES-256-GCM known answers`, async () => {
    const key = await b.importAeadKey(GCM16.key);
    const expected = concat(GCM16.ct, GCM16.tag);
    assertBytes(await b.seal(key, GCM16.iv, GCM16.aad, GCM16.pt), expected, "tc16 seal");
    assertBytes(await b.open(key, GCM16.iv, GCM16.aad, expected), GCM16.pt, "tc16 open");
    const zero = await b.importAeadKey(new Uint8Array(32));
    const empty = new Uint8Array(0);
    assertBytes(await b.seal(zero, new Uint8Array(12), empty, empty), GCM13_TAG, "tc13 seal");
    assertBytes(await b.open(zero, new Uint8Array(12), empty, GCM13_TAG), empty, "tc13 open");
  });

  Deno.test(`${b.name}: AES-256-GCM round trips (empty and 65 470 bytes)`, async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const key = await b.importAeadKey(raw);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const big = new Uint8Array(65_470);
    // getRandomValues is capped at 65 536 bytes per call.
    crypto.getRandomValues(big);
    for (const aad of [new Uint8Array(0), utf8.encode("header")]) {
      for (const pt of [new Uint8Array(0), big]) {
        const sealed = await b.seal(key, nonce, aad, pt);
        assert.equal(sealed.length, pt.length + 16);
        assertBytes(sealed, referenceSeal(raw, nonce, aad, pt), "matches reference");
        assertBytes(await b.open(key, nonce, aad, sealed), pt, "opens");
      }
    }
  });

  Deno.test(`${b.name}: AES-256-GCM rejects forgeries with null`, async () => {
    const key = await b.importAeadKey(GCM16.key);
    const sealed = concat(GCM16.ct, GCM16.tag);
    const flip = (bytes: Uint8Array, i: number) => {
      const copy = bytes.slice();
      copy[i] ^= 0x01;
      return copy;
    };
    const cases: [string, Uint8Array, Uint8Array, Uint8Array][] = [
      ["ciphertext bit", GCM16.iv, GCM16.aad, flip(sealed, 5)],
      ["last ciphertext byte", GCM16.iv, GCM16.aad, flip(sealed, GCM16.ct.length - 1)],
      ["tag first byte", GCM16.iv, GCM16.aad, flip(sealed, GCM16.ct.length)],
      ["tag last byte", GCM16.iv, GCM16.aad, flip(sealed, sealed.length - 1)],
      ["aad", GCM16.iv, flip(GCM16.aad, 0), sealed],
      ["aad dropped", GCM16.iv, new Uint8Array(0), sealed],
      ["nonce", flip(GCM16.iv, 11), GCM16.aad, sealed],
      ["truncated", GCM16.iv, GCM16.aad, sealed.subarray(0, sealed.length - 1)],
      ["shorter than a tag", GCM16.iv, GCM16.aad, sealed.subarray(0, 15)],
      ["empty", GCM16.iv, GCM16.aad, new Uint8Array(0)],
      ["tag only, wrong", GCM16.iv, GCM16.aad, GCM16.tag],
    ];
    for (const [what, nonce, aad, ct] of cases) {
      assert.equal(await b.open(key, nonce, aad, ct), null, what);
    }
    // A failed open must not poison the reused context.
    assertBytes(await b.open(key, GCM16.iv, GCM16.aad, sealed), GCM16.pt, "after forgeries");
  });

  Deno.test(`${b.name}: one key, many messages matches a fresh reference each time`, async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const key = await b.importAeadKey(raw);
    for (let i = 0; i < 64; i++) {
      const nonce = new Uint8Array(12);
      new DataView(nonce.buffer).setBigUint64(4, BigInt(i), true);
      const aad = crypto.getRandomValues(new Uint8Array(i % 5 === 0 ? 0 : i));
      const pt = crypto.getRandomValues(new Uint8Array((i * 37) % 300));
      const sealed = await b.seal(key, nonce, aad, pt);
      assertBytes(sealed, referenceSeal(raw, nonce, aad, pt), `message ${i}`);
      assertBytes(await b.open(key, nonce, aad, sealed), pt, `open ${i}`);
    }
  });
}

// --- Stricter contract of the src/crypto backends ----------------------------

for (const b of fastBackends) {
  Deno.test(`${b.name}: results are synchronous plain Uint8Arrays`, () => {
    const key = b.importAeadKey(GCM16.key);
    assert.ok(!(key instanceof Promise));
    const values = [
      b.sha256(utf8.encode("abc")),
      b.hmacSha256(HMAC_TC2_KEY, HMAC_TC2_DATA),
      b.seal(key as never, GCM16.iv, GCM16.aad, GCM16.pt),
    ];
    for (const v of values) {
      assert.ok(!(v instanceof Promise), "synchronous");
      // Not a Buffer: deepStrictEqual and structuredClone treat them differently.
      assert.equal(Object.getPrototypeOf(v), Uint8Array.prototype);
    }
  });

  Deno.test(`${b.name}: HMAC with an empty key and empty data`, () => {
    // Empty key equals the one-zero-byte key under HMAC's zero padding.
    assertBytes(b.hmacSha256(new Uint8Array(0), new Uint8Array(0)) as Uint8Array, HMAC_EMPTY);
    const k = b.importMacKey(new Uint8Array(0)) as never;
    assertBytes(b.mac(k, new Uint8Array(0)) as Uint8Array, HMAC_EMPTY);
    // The libcrypto scratch context must not keep the previous key.
    assertBytes(b.hmacSha256(HMAC_TC2_KEY, HMAC_TC2_DATA) as Uint8Array, HMAC_TC2);
    assertBytes(b.hmacSha256(new Uint8Array(0), new Uint8Array(0)) as Uint8Array, HMAC_EMPTY);
  });

  Deno.test(`${b.name}: bad lengths and foreign keys are programming errors`, async () => {
    const key = b.importAeadKey(GCM16.key) as never;
    assert.throws(() => b.importAeadKey(new Uint8Array(16)), RangeError);
    assert.throws(() => b.importX25519(new Uint8Array(31)), RangeError);
    assert.throws(() => b.seal(key, new Uint8Array(8), GCM16.aad, GCM16.pt), RangeError);
    const pair = b.importX25519(ALICE_PRIVATE) as never as { privateKey: never };
    assert.throws(() => b.x25519(pair.privateKey, new Uint8Array(31)), RangeError);
    const foreign = await webCryptoBackend.importAeadKey(GCM16.key);
    assert.throws(() => b.seal(foreign, GCM16.iv, GCM16.aad, GCM16.pt), TypeError);
    const mac = b.importMacKey(HMAC_TC2_KEY) as never;
    assert.throws(() => b.seal(mac, GCM16.iv, GCM16.aad, GCM16.pt), TypeError);
  });

  Deno.test(`${b.name}: destroyed keys refuse use instead of crashing`, () => {
    const aead = b.importAeadKey(GCM16.key) as never;
    const mac = b.importMacKey(HMAC_TC2_KEY) as never;
    const pair = b.importX25519(ALICE_PRIVATE) as never as { privateKey: never };
    for (const k of [aead, mac, pair.privateKey]) {
      b.destroyKey!(k);
      b.destroyKey!(k); // idempotent
    }
    assert.throws(() => b.seal(aead, GCM16.iv, GCM16.aad, GCM16.pt), /destroyed/);
    assert.throws(() => b.open(aead, GCM16.iv, GCM16.aad, GCM16.tag), /destroyed/);
    assert.throws(() => b.mac(mac, HMAC_TC2_DATA), /destroyed/);
    assert.throws(() => b.x25519(pair.privateKey, BOB_PUBLIC), /destroyed/);
  });
}

// --- Cross-backend -----------------------------------------------------------

Deno.test("all backends: seal identical, each opens every other's output", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 2048 }),
      async (raw, nonce, aad, pt) => {
        const keys = await Promise.all(backends.map((b) => b.importAeadKey(raw)));
        const sealed = await Promise.all(backends.map((b, i) => b.seal(keys[i], nonce, aad, pt)));
        const reference = toHex(referenceSeal(raw, nonce, aad, pt));
        for (const [i, s] of sealed.entries()) {
          assert.equal(toHex(s), reference, `${backends[i].name} seal`);
        }
        for (const [i, b] of backends.entries()) {
          for (const [j, s] of sealed.entries()) {
            const opened = await b.open(keys[i], nonce, aad, s);
            assertBytes(opened, pt, `${b.name} opens ${backends[j].name}`);
          }
        }
        for (const [i, b] of backends.entries()) b.destroyKey?.(keys[i]);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("all backends: hashes and MACs identical on random input", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 100 }),
      fc.uint8Array({ maxLength: 1500 }),
      async (key, data) => {
        const expected = await backends[0].hmacSha256(key, data);
        const digest = await backends[0].sha256(data);
        for (const b of backends) {
          assertBytes(await b.sha256(data), digest, `${b.name} sha256`);
          assertBytes(await b.hmacSha256(key, data), expected, `${b.name} hmacSha256`);
          const k = await b.importMacKey(key);
          assertBytes(await b.mac(k, data), expected, `${b.name} mac`);
          b.destroyKey?.(k);
        }
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("all backends: X25519 agreement across backends", async () => {
  const pairs = await Promise.all(backends.map((b) => b.generateX25519()));
  for (const [i, a] of backends.entries()) {
    for (const [j, c] of backends.entries()) {
      assertBytes(
        await a.x25519(pairs[i].privateKey, pairs[j].publicKey),
        await c.x25519(pairs[j].privateKey, pairs[i].publicKey),
        `${a.name} x ${c.name}`,
      );
    }
  }
  // The same imported private key yields the same public key everywhere.
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const publics = await Promise.all(
    backends.map(async (b) => (await b.importX25519(seed)).publicKey),
  );
  for (const p of publics) assertBytes(p, publics[0]);
});

// --- Selection and loading ---------------------------------------------------

Deno.test("selectCryptoBackend honours explicit preferences", () => {
  assert.equal(selectCryptoBackend("webcrypto"), webCryptoBackend);
  assert.equal(selectCryptoBackend("node"), nodeCryptoBackend);
  assert.equal(selectCryptoBackend("auto"), libcrypto ?? nodeCryptoBackend);
  assert.equal(selectCryptoBackend(), selectCryptoBackend("auto"));
  if (libcrypto !== undefined) assert.equal(selectCryptoBackend("libcrypto"), libcrypto);
  assert.throws(() => selectCryptoBackend("bogus" as never), TypeError);
});

Deno.test("loadLibcryptoBackend returns undefined for a missing library", () => {
  assert.equal(loadLibcryptoBackend("/nonexistent/libcrypto.so.3"), undefined);
});

/** Run a script in a child Deno with the given flags; returns its exit code and output. */
async function runChild(flags: string[], source: string) {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, source);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-config", ...flags, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

const modUrl = new URL("../../src/crypto/mod.ts", import.meta.url).href;

Deno.test("without --allow-ffi: auto falls back to node, explicit libcrypto throws", async () => {
  const r = await runChild(
    ["--allow-read"],
    `import { selectCryptoBackend, loadLibcryptoBackend } from ${JSON.stringify(modUrl)};
     console.log(String(loadLibcryptoBackend()));
     console.log(selectCryptoBackend().name);
     try { selectCryptoBackend("libcrypto"); console.log("no error"); }
     catch (e) { console.log(e instanceof Error && /cannot be loaded/.test(e.message)); }`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["undefined", "node", "true"]);
});

Deno.test({
  name: "libcrypto: destroyed and forgotten keys survive garbage collection",
  ignore: libcrypto === undefined,
  async fn() {
    // A child with --expose-gc, so finalisers really run: a double free
    // (destroyKey not unregistering) or a bad pointer aborts the process.
    const r = await runChild(
      ["--allow-ffi", "--allow-read", "--v8-flags=--expose-gc"],
      `import { loadLibcryptoBackend } from ${JSON.stringify(modUrl)};
       const b = loadLibcryptoBackend()!;
       const gc = (globalThis as unknown as { gc: () => void }).gc;
       let collected = 0;
       const watch = new FinalizationRegistry<number>(() => collected++);
       const raw = new Uint8Array(32).fill(3);
       (function churn() {
         for (let i = 0; i < 2000; i++) {
           const a = b.importAeadKey(raw);
           const m = b.importMacKey(raw);
           const x = b.importX25519(raw).privateKey;
           b.seal(a, new Uint8Array(12), new Uint8Array(0), raw);
           if (i % 2 === 0) { b.destroyKey!(a); b.destroyKey!(m); b.destroyKey!(x); }
           watch.register(a, i);
         }
       })();
       for (let i = 0; i < 5; i++) {
         gc();
         await new Promise((r) => setTimeout(r, 20));
       }
       const k = b.importAeadKey(raw);
       const s = b.seal(k, new Uint8Array(12), new Uint8Array(0), raw) as Uint8Array;
       console.log(collected > 0, (b.open(k, new Uint8Array(12), new Uint8Array(0), s) as Uint8Array).length);`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "true 32");
  },
});

Deno.test({
  name: "libcrypto sealInto/macInto write exactly the bytes of seal/mac, at any offset",
  ignore: libcrypto === undefined,
  fn: async () => {
    const b = libcrypto!;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.nat(40),
        async (raw, nonce, aad, prefix, pt, offset) => {
          const key = await b.importAeadKey(raw);
          const mac = await b.importMacKey(raw);
          const whole = new Uint8Array(prefix.length + pt.length);
          whole.set(prefix);
          whole.set(pt, prefix.length);
          const expected = await b.seal(key, nonce, aad, whole);
          const out = new Uint8Array(offset + expected.length + 32).fill(0xee);
          b.sealInto!(key, nonce, aad, prefix, pt, out, offset);
          assert.deepEqual(out.subarray(offset, offset + expected.length), expected);
          assert.ok(out.subarray(0, offset).every((x) => x === 0xee), "nothing before offset");
          b.macInto!(mac, whole, out, offset + expected.length);
          assert.deepEqual(out.subarray(offset + expected.length), await b.mac(mac, whole));
          b.destroyKey!(key);
          b.destroyKey!(mac);
        },
      ),
      { numRuns: 100 },
    );
    assert.throws(() =>
      b.sealInto!(
        undefined as never,
        new Uint8Array(12),
        new Uint8Array(0),
        new Uint8Array(0),
        new Uint8Array(0),
        new Uint8Array(0),
        0,
      )
    );
  },
});
