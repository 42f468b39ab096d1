/**
 * Transport frames (protocol-v1 §3): sealing and opening, the order of the
 * receiver's checks (mac, nonce, decrypt), tampering, KeyUpdate and limits.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.ts";
import { MAX_PAYLOAD_BYTES } from "../../src/protocol/constants.ts";
import { encodeFrame, type Frame, FrameDecoder } from "../../src/protocol/frame.ts";
import { PacketType } from "../../src/protocol/packet.ts";
import { rekeyMacRaw, TransportReceiver, TransportSender } from "../../src/protocol/transport.ts";
import { webCryptoBackend } from "../../src/protocol/noise/crypto.ts";
import { concat, toHex } from "../../src/util/bytes.ts";
import { backendsUnderTest } from "../_helpers/backends.ts";
import { type SessionPair, sessionPair } from "../_helpers/session_pair.ts";

type Pair = SessionPair;
const pair = sessionPair;

/** A Frame over `bytes` without the decoder's checks (for tampered headers). */
function asFrame(bytes: Uint8Array): Frame {
  return { type: bytes[4], header: bytes.subarray(0, 5), body: bytes.subarray(5), bytes };
}

function decode(bytes: Uint8Array): Frame {
  const [f] = new FrameDecoder({ expect: "transport" }).push(bytes);
  return f;
}

async function openCode(rx: TransportReceiver, f: Frame): Promise<string | undefined> {
  try {
    await rx.open(f);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${e}`);
    return e.code;
  }
}

const backends = await backendsUnderTest();

for (const b of backends) {
  Deno.test(`TransportSender/Receiver (${b.name}) round-trip type, request id and payload`, async () => {
    const { client, server } = await pair(b);
    const payloads = [
      new Uint8Array(0),
      new Uint8Array([1]),
      crypto.getRandomValues(new Uint8Array(5000)),
    ];
    const ids = [0, 1, 0xffff_ffff];
    for (const [i, p] of payloads.entries()) {
      const bytes = await client.sender.seal(0x20 + i, ids[i], p);
      assert.equal(bytes.length, 5 + 12 + 4 + p.length + 16 + 32);
      const m = await server.receiver.open(decode(bytes));
      assert.equal(m.type, 0x20 + i);
      assert.equal(m.requestId, ids[i]);
      assert.deepEqual(m.payload, p);
    }
    assert.equal(client.sender.framesSent, 3);
    assert.equal(server.receiver.framesReceived, 3);
  });

  Deno.test(`TransportSender (${b.name}) writes nonce 0^4 || u64(n), counting from 0`, async () => {
    const { client } = await pair(b);
    for (let n = 0; n < 3; n++) {
      const bytes = await client.sender.seal(0x01, 1, new Uint8Array(0));
      assert.equal(toHex(bytes.subarray(5, 17)), n.toString(16).padStart(24, "0"));
    }
  });

  Deno.test(`TransportReceiver (${b.name}) checks the MAC before the nonce`, async () => {
    const { client, server } = await pair(b);
    await client.sender.seal(0x20, 1, new Uint8Array(8)); // frame 0, never delivered
    const f1 = await client.sender.seal(0x20, 3, new Uint8Array(8)); // frame 1
    // Wrong nonce, valid MAC: a nonce error.
    assert.equal(await openCode(server.receiver, decode(f1.slice())), "TRANSPORT_BAD_NONCE");
    // Wrong nonce and a bad MAC: the MAC is checked first.
    const bad = f1.slice();
    bad[bad.length - 1] ^= 1;
    assert.equal(await openCode(server.receiver, decode(bad)), "TRANSPORT_AUTH_FAILED");
  });

  Deno.test(`TransportReceiver (${b.name}) rejects out-of-order delivery and replays, and the failures leave it in sync`, async () => {
    const { client, server } = await pair(b);
    const f0 = await client.sender.seal(0x20, 1, new Uint8Array([0]));
    const f1 = await client.sender.seal(0x20, 3, new Uint8Array([1]));
    assert.equal(await openCode(server.receiver, decode(f1)), "TRANSPORT_BAD_NONCE");
    assert.equal(server.receiver.framesReceived, 0);
    assert.deepEqual((await server.receiver.open(decode(f0))).payload, new Uint8Array([0]));
    assert.equal(await openCode(server.receiver, decode(f0)), "TRANSPORT_BAD_NONCE"); // replay
    assert.deepEqual((await server.receiver.open(decode(f1))).payload, new Uint8Array([1]));
    assert.equal(await openCode(server.receiver, decode(f1)), "TRANSPORT_BAD_NONCE"); // replay
    assert.equal(server.receiver.framesReceived, 2);
  });

  Deno.test(`TransportReceiver (${b.name}) rejects a frame from the other direction`, async () => {
    const { client, server } = await pair(b);
    const own = await server.sender.seal(0x02, 1, new Uint8Array(0));
    assert.equal(await openCode(server.receiver, decode(own)), "TRANSPORT_AUTH_FAILED");
    assert.deepEqual((await client.receiver.open(decode(own))).requestId, 1);
  });

  Deno.test(`KeyUpdate (${b.name}) keeps both directions in sync and changes the keys`, async () => {
    const { client, server } = await pair(b);
    for (let round = 0; round < 3; round++) {
      for (
        const [tx, rx] of [[client.sender, server.receiver], [
          server.sender,
          client.receiver,
        ]] as const
      ) {
        const before = await tx.seal(0x01, 2, new Uint8Array([round]));
        assert.deepEqual((await rx.open(decode(before))).payload, new Uint8Array([round]));
        const ku = tx.seal(PacketType.KeyUpdate, 0, new Uint8Array(0));
        assert.ok(ku instanceof Promise, "sealing a KeyUpdate always returns a promise");
        const km = await rx.open(decode(await ku));
        assert.deepEqual([km.type, km.requestId, km.payload.length], [PacketType.KeyUpdate, 0, 0]);
        for (let i = 0; i < 2; i++) {
          const after = await tx.seal(0x20, 2 * i + 1, new Uint8Array([round, i]));
          assert.deepEqual((await rx.open(decode(after))).payload, new Uint8Array([round, i]));
        }
      }
    }
    // The first frame after a KeyUpdate carries mac' = HMAC(HMAC(mac, label), 0x01), not mac.
    const fresh = await pair(b);
    await fresh.client.sender.seal(PacketType.KeyUpdate, 0, new Uint8Array(0));
    const f = await fresh.client.sender.seal(0x20, 1, new Uint8Array([7]));
    const macAt = f.length - 32;
    const oldMac = await b.importMacKey(fresh.raw.macC2s);
    const newRaw = await rekeyMacRaw(b, await b.importMacKey(fresh.raw.macC2s));
    assert.notEqual(toHex(await b.mac(oldMac, f.subarray(0, macAt))), toHex(f.subarray(macAt)));
    assert.equal(toHex(await b.hmacSha256(newRaw, f.subarray(0, macAt))), toHex(f.subarray(macAt)));
    // A receiver that missed the KeyUpdate cannot open it even at the right counter.
    const stale = new TransportReceiver(b, await b.importAeadKey(fresh.raw.c2sKey), oldMac);
    const ghost = await new TransportSender(
      b,
      await b.importAeadKey(fresh.raw.c2sKey),
      await b.importMacKey(fresh.raw.macC2s),
    )
      .seal(0x01, 1, new Uint8Array(0));
    await stale.open(decode(ghost)); // counter 0 consumed with the old keys
    assert.equal(await openCode(stale, decode(f)), "TRANSPORT_AUTH_FAILED");
  });
}

Deno.test("property: tampering any single byte of a sealed frame is rejected, and the genuine frame still opens", async () => {
  const { client, server } = await pair(webCryptoBackend);
  const payload = new Uint8Array(40).fill(0x33);
  let genuine = await client.sender.seal(0x20, 5, payload);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: genuine.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      async (pos, xor) => {
        const bytes = genuine.slice();
        bytes[pos] ^= xor;
        const code = await openCode(server.receiver, asFrame(bytes));
        assert.ok(code === "TRANSPORT_AUTH_FAILED", `byte ${pos} ^ ${xor}: ${code}`);
        assert.equal(server.receiver.framesReceived, 0);
      },
    ),
  );
  // The receiver was not advanced or broken by the forgeries.
  assert.deepEqual((await server.receiver.open(decode(genuine))).payload, payload);
  genuine = await client.sender.seal(0x20, 7, payload);
  assert.equal((await server.receiver.open(decode(genuine))).requestId, 7);
});

Deno.test("TransportReceiver rejects a frame whose ciphertext was cut or extended", async () => {
  const { client, server } = await pair(webCryptoBackend);
  const f = await client.sender.seal(0x20, 1, new Uint8Array(100));
  const shorter = encodeFrame(
    0x20,
    concat(f.subarray(5, f.length - 33), f.subarray(f.length - 32)),
  );
  const longer = encodeFrame(
    0x20,
    concat(f.subarray(5, f.length - 32), new Uint8Array(1), f.subarray(f.length - 32)),
  );
  assert.equal(await openCode(server.receiver, decode(shorter)), "TRANSPORT_AUTH_FAILED");
  assert.equal(await openCode(server.receiver, decode(longer)), "TRANSPORT_AUTH_FAILED");
  assert.equal((await server.receiver.open(decode(f))).requestId, 1);
});

Deno.test("TransportSender.needsRekey turns true after rekeyAfterFrames frames and false after a KeyUpdate", async () => {
  const { client, server } = await pair(webCryptoBackend, 3);
  for (let i = 0; i < 3; i++) {
    assert.equal(client.sender.needsRekey, false, `after ${i} frames`);
    await server.receiver.open(decode(await client.sender.seal(0x10, 0, new Uint8Array(0))));
  }
  assert.equal(client.sender.needsRekey, true);
  await server.receiver.open(decode(await client.sender.seal(0x10, 0, new Uint8Array(0))));
  assert.equal(client.sender.needsRekey, true, "stays due until the KeyUpdate is sent");
  await server.receiver.open(
    decode(await client.sender.seal(PacketType.KeyUpdate, 0, new Uint8Array(0))),
  );
  assert.equal(client.sender.needsRekey, false);
  assert.equal(client.sender.framesSent, 5, "the counter continues across a KeyUpdate");
  const m = await server.receiver.open(
    decode(await client.sender.seal(0x20, 1, new Uint8Array([9]))),
  );
  assert.deepEqual(m.payload, new Uint8Array([9]));
  assert.equal(server.sender.needsRekey, false, "each direction counts its own frames");
});

Deno.test("TransportSender seals a 65 470-byte payload as a maximal frame and throws RangeError above it", async () => {
  const { client, server } = await pair(webCryptoBackend);
  assert.equal(MAX_PAYLOAD_BYTES, 65_470);
  const max = crypto.getRandomValues(new Uint8Array(65_470));
  const bytes = await client.sender.seal(0x20, 1, max);
  assert.equal(bytes.length, 65_539);
  assert.deepEqual(bytes.subarray(2, 4), new Uint8Array([0xff, 0xff]));
  assert.deepEqual((await server.receiver.open(decode(bytes))).payload, max);
  assert.throws(() => client.sender.seal(0x20, 3, new Uint8Array(65_471)), RangeError);
  // The refused seal consumed no nonce.
  const next = await client.sender.seal(0x20, 3, new Uint8Array(1));
  assert.equal((await server.receiver.open(decode(next))).requestId, 3);
});

Deno.test("destroyed TransportSender and TransportReceiver throw TRANSPORT_STATE", async () => {
  const { client, server } = await pair(webCryptoBackend);
  const f = await client.sender.seal(0x20, 1, new Uint8Array(1));
  client.sender.destroy();
  client.sender.destroy(); // idempotent
  assert.throws(() => client.sender.seal(0x20, 3, new Uint8Array(1)), { code: "TRANSPORT_STATE" });
  server.receiver.destroy();
  assert.throws(() => server.receiver.open(decode(f)), { code: "TRANSPORT_STATE" });
});
