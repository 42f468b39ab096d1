/**
 * The v1 handshake (protocol-v1 §2): acceptClientHello's rejections in the
 * contract's order, the replay cache, and working keys after success.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat, utf8 } from "../../src/util/bytes.ts";
import { NOISE_PROTOCOL_NAME } from "../../src/protocol/constants.ts";
import { encodeFrame, type Frame, FrameDecoder } from "../../src/protocol/frame.ts";
import {
  acceptClientHello,
  HandshakeError,
  type HandshakeRejectReason,
  prologue,
  type ServerHandshakeOptions,
  startClientHandshake,
} from "../../src/protocol/handshake.ts";
import { PacketType } from "../../src/protocol/packet.ts";
import { ReplayCache } from "../../src/protocol/replay_cache.ts";
import { type CryptoBackend, webCryptoBackend } from "../../src/protocol/noise/crypto.ts";
import { HandshakeState } from "../../src/protocol/noise/handshake_state.ts";
import { backendsUnderTest } from "../_helpers/backends.ts";

const backend = webCryptoBackend;
const T = 1_700_000_000_000;
const SKEW = 30_000;
const PSK = crypto.getRandomValues(new Uint8Array(32));
const PSK_ID = "main";

function frameOf(type: number, body: Uint8Array): Frame {
  const bytes = encodeFrame(type, body);
  return { type, header: bytes.subarray(0, 5), body: bytes.subarray(5), bytes };
}

function decodeHello(bytes: Uint8Array): Frame {
  const [f] = new FrameDecoder({ expect: "server" }).push(bytes);
  return f;
}

function serverOptions(over: Partial<ServerHandshakeOptions> = {}): ServerHandshakeOptions {
  return {
    lookupPsk: (id) => (id === PSK_ID ? PSK.slice() : undefined),
    nowMs: T,
    clockSkewMs: SKEW,
    replayCache: new ReplayCache(64),
    sessionId: new Uint8Array(16).fill(7),
    heartbeatIntervalMs: 15_000,
    idleTimeoutMs: 45_000,
    ...over,
  };
}

async function clientHello(
  over: { psk?: Uint8Array; pskId?: string; timestampMs?: number; b?: CryptoBackend } = {},
) {
  return await startClientHandshake(over.b ?? backend, {
    psk: over.psk ?? PSK,
    pskId: over.pskId ?? PSK_ID,
    timestampMs: over.timestampMs ?? T,
  });
}

/** A ClientHello built by hand: any psk_id bytes, any payload. */
async function craftHello(
  pskIdBytes: Uint8Array,
  payload: Uint8Array,
  psk: Uint8Array = PSK,
): Promise<Frame> {
  const hs = await HandshakeState.initialize(backend, {
    protocolName: NOISE_PROTOCOL_NAME,
    initiator: true,
    prologue: prologue(pskIdBytes),
    psks: [psk],
  });
  const msg1 = await hs.writeMessage(payload);
  return frameOf(
    PacketType.ClientHello,
    concat(new Uint8Array([1, pskIdBytes.length]), pskIdBytes, msg1),
  );
}

function timestamp(ms: number): Uint8Array {
  const p = new Uint8Array(8);
  new DataView(p.buffer).setBigUint64(0, BigInt(ms));
  return p;
}

async function rejects(
  frame: Frame,
  options: ServerHandshakeOptions,
  reason: HandshakeRejectReason,
): Promise<void> {
  await assert.rejects(acceptClientHello(backend, frame, options), (e: unknown) => {
    assert.ok(e instanceof HandshakeError, `expected HandshakeError, got ${e}`);
    assert.equal(e.code, "HANDSHAKE_FAILED");
    assert.equal(e.reason, reason);
    return true;
  });
}

Deno.test("acceptClientHello accepts a fresh ClientHello and records its ephemeral key", async () => {
  const c = await clientHello();
  const cache = new ReplayCache(4);
  const accepted = await acceptClientHello(
    backend,
    decodeHello(c.clientHello),
    serverOptions({ replayCache: cache }),
  );
  assert.equal(cache.size, 1);
  // The ephemeral `e` is the 32 bytes after version, id length and id.
  const e = c.clientHello.subarray(5 + 2 + PSK_ID.length, 5 + 2 + PSK_ID.length + 32);
  assert.ok(cache.has([...e].map((b) => b.toString(16).padStart(2, "0")).join(""), T));
  assert.equal(accepted.serverHello[4], PacketType.ServerHello);
  assert.equal(accepted.serverHello[5], 0x01);
  assert.equal(accepted.serverHello.length, 5 + 73);
  assert.equal(accepted.keys.pskId, PSK_ID);
});

Deno.test("acceptClientHello rejects a version other than 1 before looking at the psk id", async () => {
  const c = await clientHello();
  for (const v of [0x00, 0x02, 0xff]) {
    const body = decodeHello(c.clientHello).body.slice();
    body[0] = v;
    let looked = false;
    await rejects(
      frameOf(0xa0, body),
      serverOptions({ lookupPsk: () => ((looked = true), undefined) }),
      "version",
    );
    assert.equal(looked, false);
  }
});

Deno.test("acceptClientHello rejects an unknown psk id, and one that is not valid UTF-8 without looking it up", async () => {
  const c = await clientHello({ pskId: "other" });
  await rejects(decodeHello(c.clientHello), serverOptions(), "unknown_psk_id");

  for (const bad of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x61, 0xe2, 0x82]]) {
    const f = await craftHello(new Uint8Array(bad), timestamp(T));
    const asked: string[] = [];
    await rejects(
      f,
      serverOptions({ lookupPsk: (id) => (asked.push(id), PSK.slice()) }),
      "unknown_psk_id",
    );
    assert.deepEqual(asked, [], "an invalid id must not reach lookupPsk");
  }
});

Deno.test("acceptClientHello reports an unknown psk id before a message that would not decrypt", async () => {
  const c = await clientHello({ pskId: "other" });
  const body = decodeHello(c.clientHello).body.slice();
  body[body.length - 1] ^= 1;
  await rejects(frameOf(0xa0, body), serverOptions(), "unknown_psk_id");
});

Deno.test("acceptClientHello rejects a hello sealed under a different psk as decrypt", async () => {
  const c = await clientHello({ psk: new Uint8Array(32).fill(1) });
  const cache = new ReplayCache(4);
  await rejects(decodeHello(c.clientHello), serverOptions({ replayCache: cache }), "decrypt");
  assert.equal(cache.size, 0);
});

Deno.test("acceptClientHello checks decryption before the clock", async () => {
  const c = await clientHello({ psk: new Uint8Array(32).fill(1), timestampMs: T - 10 * SKEW });
  await rejects(decodeHello(c.clientHello), serverOptions(), "decrypt");
});

Deno.test("acceptClientHello allows exactly the clock skew either way and rejects one millisecond more", async () => {
  for (
    const [offset, ok] of [[SKEW, true], [SKEW + 1, false], [-SKEW, true], [
      -SKEW - 1,
      false,
    ]] as const
  ) {
    const c = await clientHello({ timestampMs: T + offset });
    const cache = new ReplayCache(4);
    const opts = serverOptions({ replayCache: cache });
    if (ok) {
      await acceptClientHello(backend, decodeHello(c.clientHello), opts);
      assert.equal(cache.size, 1, `offset ${offset}`);
    } else {
      await rejects(decodeHello(c.clientHello), opts, "clock_skew");
      assert.equal(cache.size, 0, `offset ${offset}`);
    }
  }
});

Deno.test("acceptClientHello rejects a timestamp of 0 and of 2^64 − 1 as clock skew", async () => {
  for (const ts of [0n, 0xffff_ffff_ffff_ffffn]) {
    const p = new Uint8Array(8);
    new DataView(p.buffer).setBigUint64(0, ts);
    await rejects(await craftHello(utf8(PSK_ID), p), serverOptions(), "clock_skew");
  }
});

Deno.test("acceptClientHello rejects a replayed hello, and checks the clock before the replay cache", async () => {
  const c = await clientHello();
  const cache = new ReplayCache(4);
  await acceptClientHello(
    backend,
    decodeHello(c.clientHello),
    serverOptions({ replayCache: cache }),
  );
  await rejects(
    decodeHello(c.clientHello),
    serverOptions({ replayCache: cache, nowMs: T + 1000 }),
    "replay",
  );
  assert.equal(cache.size, 1);
  await rejects(
    decodeHello(c.clientHello),
    serverOptions({ replayCache: cache, nowMs: T + SKEW + 1 }),
    "clock_skew",
  );
});

// Regression (fixed): src/protocol/replay_cache.ts:57 prunes entries with expiry <= now, and
// handshake.ts:214 admits with expiry = ts + skew, while the skew check accepts
// |ts − now| == skew. So at now == ts + skew the entry is gone but the
// timestamp still passes: the same ClientHello is accepted twice.
Deno.test({
  name: "acceptClientHello rejects a replay at exactly timestamp + skew",
  fn: async () => {
    const c = await clientHello();
    const cache = new ReplayCache(4);
    await acceptClientHello(
      backend,
      decodeHello(c.clientHello),
      serverOptions({ replayCache: cache }),
    );
    await rejects(
      decodeHello(c.clientHello),
      serverOptions({ replayCache: cache, nowMs: T + SKEW }),
      "replay",
    );
  },
});

Deno.test("acceptClientHello refuses new handshakes when the replay cache is full, and admits them once entries expire", async () => {
  const cache = new ReplayCache(1);
  const a = await clientHello();
  await acceptClientHello(
    backend,
    decodeHello(a.clientHello),
    serverOptions({ replayCache: cache }),
  );
  const b = await clientHello();
  await rejects(
    decodeHello(b.clientHello),
    serverOptions({ replayCache: cache }),
    "replay_cache_full",
  );
  await rejects(
    decodeHello(b.clientHello),
    serverOptions({ replayCache: cache, nowMs: T + SKEW - 1 }),
    "replay_cache_full",
  );
  assert.equal(cache.size, 1);
  // After a's timestamp + skew has passed, a fresh hello gets a's place.
  const later = T + SKEW + 1;
  const c = await clientHello({ timestampMs: later });
  await acceptClientHello(
    backend,
    decodeHello(c.clientHello),
    serverOptions({ replayCache: cache, nowMs: later }),
  );
  assert.equal(cache.size, 1);
});

Deno.test("acceptClientHello rejects malformed and truncated hellos", async () => {
  const c = await clientHello();
  const good = decodeHello(c.clientHello).body;
  const cases: [string, Frame][] = [
    ["wrong frame type", frameOf(PacketType.ServerHello, good)],
    ["empty body", frameOf(0xa0, new Uint8Array(0))],
    ["one byte", frameOf(0xa0, new Uint8Array([1]))],
    [
      "psk id longer than 64 bytes",
      frameOf(0xa0, concat(new Uint8Array([1, 65]), new Uint8Array(65 + 56))),
    ],
    [
      "psk id length past the end",
      frameOf(0xa0, concat(new Uint8Array([1, 60]), good.subarray(2))),
    ],
    ["one byte short", frameOf(0xa0, good.subarray(0, good.length - 1))],
    ["no ciphertext", frameOf(0xa0, good.subarray(0, 2 + PSK_ID.length + 32))],
  ];
  for (const [label, f] of cases) {
    const cache = new ReplayCache(4);
    await assert.rejects(
      acceptClientHello(backend, f, serverOptions({ replayCache: cache })),
      (e: unknown) => {
        assert.ok(e instanceof HandshakeError, label);
        assert.equal(e.reason, "malformed", label);
        return true;
      },
    );
    assert.equal(cache.size, 0, label);
  }
});

Deno.test("acceptClientHello rejects a payload shorter than the 8-byte timestamp", async () => {
  await rejects(await craftHello(utf8(PSK_ID), new Uint8Array(4)), serverOptions(), "malformed");
  await rejects(await craftHello(utf8(PSK_ID), new Uint8Array(0)), serverOptions(), "malformed");
});

Deno.test("acceptClientHello ignores reserved payload bytes after the timestamp", async () => {
  const payload = concat(timestamp(T), new Uint8Array(40).fill(0x5a));
  const accepted = await acceptClientHello(
    backend,
    await craftHello(utf8(PSK_ID), payload),
    serverOptions(),
  );
  assert.equal(accepted.keys.pskId, PSK_ID);
});

Deno.test("acceptClientHello rejects trailing bytes after the ClientHello's tag as decrypt", async () => {
  const c = await clientHello();
  const body = concat(decodeHello(c.clientHello).body, new Uint8Array([0]));
  await rejects(frameOf(0xa0, body), serverOptions(), "decrypt");
});

Deno.test("acceptClientHello serves the empty psk id and a 64-byte one", async () => {
  const id64 = "k".repeat(64);
  const keys = new Map([["", new Uint8Array(32).fill(3)], [id64, new Uint8Array(32).fill(4)]]);
  for (const [id, psk] of keys) {
    const c = await clientHello({ pskId: id, psk });
    const accepted = await acceptClientHello(
      backend,
      decodeHello(c.clientHello),
      serverOptions({ lookupPsk: (x) => keys.get(x)?.slice() }),
    );
    assert.equal(accepted.keys.pskId, id);
    const [sh] = new FrameDecoder({ expect: "client" }).push(accepted.serverHello);
    assert.equal((await c.finish(sh)).pskId, id);
  }
  await assert.rejects(clientHello({ pskId: "k".repeat(65) }), RangeError);
});

Deno.test("acceptClientHello does not wipe the key that lookupPsk returns", async () => {
  const stored = PSK.slice();
  const c = await clientHello();
  await acceptClientHello(
    backend,
    decodeHello(c.clientHello),
    serverOptions({ lookupPsk: () => stored }),
  );
  assert.deepEqual(stored, PSK);
});

Deno.test("acceptClientHello throws RangeError for a session id that is not 16 bytes", async () => {
  const c = await clientHello();
  await assert.rejects(
    acceptClientHello(
      backend,
      decodeHello(c.clientHello),
      serverOptions({ sessionId: new Uint8Array(8) }),
    ),
    RangeError,
  );
});

// Regression (fixed): src/protocol/handshake.ts:226 — a psk holder can send a small-order `e`
// (all zeros). It decrypts and is admitted to the replay cache (line 212), then
// writeMessage's `ee` DH fails inside HandshakeState and the raw ProtocolError
// ("Invalid public key") escapes instead of a HandshakeError with a reason.
Deno.test({
  name: "acceptClientHello refuses a small-order ephemeral key with HandshakeError",
  fn: async () => {
    const real = await backend.generateX25519();
    const c = await startClientHandshake(backend, {
      psk: PSK,
      pskId: PSK_ID,
      timestampMs: T,
      fixedEphemeralForTestingOnly: { publicKey: new Uint8Array(32), privateKey: real.privateKey },
    });
    const cache = new ReplayCache(4);
    await assert.rejects(
      acceptClientHello(backend, decodeHello(c.clientHello), serverOptions({ replayCache: cache })),
      HandshakeError,
    );
  },
});

for (const b of await backendsUnderTest()) {
  Deno.test(`a finished handshake (${b.name}) yields working sender/receiver pairs both ways`, async () => {
    const c = await clientHello({ b });
    const sessionId = crypto.getRandomValues(new Uint8Array(16));
    const accepted = await acceptClientHello(
      b,
      decodeHello(c.clientHello),
      serverOptions({ sessionId, heartbeatIntervalMs: 1234, idleTimeoutMs: 5678 }),
    );
    const [sh] = new FrameDecoder({ expect: "client" }).push(accepted.serverHello);
    const ck = await c.finish(sh);
    const sk = accepted.keys;
    assert.deepEqual(ck.sessionId, sessionId);
    assert.deepEqual(sk.sessionId, sessionId);
    assert.equal(ck.heartbeatIntervalMs, 1234);
    assert.equal(ck.idleTimeoutMs, 5678);
    assert.deepEqual(ck.handshakeHash, sk.handshakeHash);
    assert.equal(ck.handshakeHash.length, 32);

    const toServer = new FrameDecoder({ expect: "transport" });
    const toClient = new FrameDecoder({ expect: "transport" });
    for (let i = 0; i < 3; i++) {
      const up = await ck.sender.seal(0x20, 2 * i + 1, utf8(`up ${i}`));
      const [uf] = toServer.push(up);
      const um = await sk.receiver.open(uf);
      assert.deepEqual([um.type, um.requestId, new TextDecoder().decode(um.payload)], [
        0x20,
        2 * i + 1,
        `up ${i}`,
      ]);
      const down = await sk.sender.seal(0x20, 2 * i + 1, utf8(`down ${i}`));
      const [df] = toClient.push(down);
      const dm = await ck.receiver.open(df);
      assert.deepEqual([dm.type, dm.requestId, new TextDecoder().decode(dm.payload)], [
        0x20,
        2 * i + 1,
        `down ${i}`,
      ]);
    }
    // Directions use different keys: a client frame does not open as a server frame.
    const own = await ck.sender.seal(0x01, 9, new Uint8Array(0));
    const [of] = new FrameDecoder({ expect: "transport" }).push(own);
    await assert.rejects(async () => await ck.receiver.open(of), { code: "TRANSPORT_AUTH_FAILED" });
  });
}

Deno.test("ClientHandshake.finish rejects a tampered ServerHello and a wrong frame type", async () => {
  const c = await clientHello();
  const accepted = await acceptClientHello(backend, decodeHello(c.clientHello), serverOptions());
  const body = accepted.serverHello.slice(5);
  body[body.length - 1] ^= 0x80;
  await assert.rejects(c.finish(frameOf(0xa1, body)), (e: unknown) => {
    assert.ok(e instanceof HandshakeError);
    assert.equal(e.reason, "decrypt");
    return true;
  });
  const c2 = await clientHello();
  const acc2 = await acceptClientHello(backend, decodeHello(c2.clientHello), serverOptions());
  await assert.rejects(c2.finish(frameOf(0xa0, acc2.serverHello.slice(5))), HandshakeError);
});

// ---- Property tests ----

const valid = await clientHello();
const validBody = decodeHello(valid.clientHello).body.slice();

async function assertRejectedWithoutCaching(body: Uint8Array): Promise<void> {
  const cache = new ReplayCache(8);
  let accepted = false;
  try {
    await acceptClientHello(backend, frameOf(0xa0, body), serverOptions({ replayCache: cache }));
    accepted = true;
  } catch (e) {
    if (!(e instanceof HandshakeError)) throw e;
  }
  assert.equal(accepted, false, "a mutated hello was accepted");
  assert.equal(cache.size, 0, "a rejected hello grew the replay cache");
}

Deno.test("property: random ClientHello bodies are rejected with HandshakeError and never cached", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 1024 }),
        // Mostly well-formed prefix: version 1 and the real psk id.
        fc.uint8Array({ minLength: 40, maxLength: 200 }).map((r) =>
          concat(new Uint8Array([1, PSK_ID.length]), utf8(PSK_ID), r)
        ),
      ),
      assertRejectedWithoutCaching,
    ),
  );
});

Deno.test("property: every truncation of a valid ClientHello body is rejected and never cached", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: validBody.length - 1 }),
      (n) => assertRejectedWithoutCaching(validBody.slice(0, n)),
    ),
  );
});

Deno.test("property: every single bit flip of a valid ClientHello body is rejected and never cached", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: validBody.length - 1 }),
      fc.integer({ min: 0, max: 7 }),
      (pos, bit) => {
        const body = validBody.slice();
        body[pos] ^= 1 << bit;
        return assertRejectedWithoutCaching(body);
      },
    ),
  );
  // The unmodified hello is still accepted: the checks above reject for the flip.
  await acceptClientHello(backend, frameOf(0xa0, validBody), serverOptions());
});
