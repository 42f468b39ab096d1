/**
 * protocol-v1 §3 rekeying over real loopback TCP: a client KeyUpdate at any
 * time, automatic rekeying by the server and by the client, and proof that
 * the server really switches keys (old keys after a KeyUpdate, or new keys
 * without one, close the connection).
 */
import assert from "node:assert/strict";
import { PacketType, type RawSessionKeys, TransportSender } from "../../src/protocol/mod.ts";
import { RawPeer } from "../_helpers/raw_peer.ts";
import { bytes, connectClient, startTestServer, text } from "../_helpers/test_server.ts";

Deno.test("keyupdate: a client KeyUpdate mid-session, then more requests work (several times)", async () => {
  const ts = startTestServer();
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    let id = 1;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) {
        await p.send(0x20, id, bytes(`r${round}-${i}`));
        const m = await p.readReply();
        assert.equal(m?.requestId, id);
        assert.equal(text(m!.payload), `r${round}-${i}`);
        id += 2;
      }
      // Sealing a KeyUpdate rekeys our sending direction right after it.
      await p.send(PacketType.KeyUpdate, 0);
    }
    // Two KeyUpdates back to back, then a request.
    await p.send(PacketType.KeyUpdate, 0);
    await p.send(PacketType.KeyUpdate, 0);
    await p.send(0x20, id, bytes("after double rekey"));
    const m = await p.readReply();
    assert.equal(text(m!.payload), "after double rekey");
    // KeyUpdate is never answered: nothing but the Echo came back.
    assert.equal(ts.server.stats().protocolViolations, 0);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("keyupdate: a KeyUpdate as the very first transport frame is accepted", async () => {
  const ts = startTestServer();
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    await p.send(PacketType.KeyUpdate, 0);
    await p.send(0x20, 1, bytes("first"));
    assert.equal(text((await p.readReply())!.payload), "first");
    await p.close();
  } finally {
    await ts.close();
  }
});

/** A second sender for the client→server direction, holding the original keys. */
async function shadowSender(p: RawPeer, raw: RawSessionKeys): Promise<TransportSender> {
  const b = p.backend;
  return new TransportSender(
    b,
    await b.importAeadKey(raw.c2sKey),
    await b.importMacKey(raw.macC2s),
  );
}

Deno.test("keyupdate: after a KeyUpdate the server refuses a frame under the old keys", async () => {
  const ts = startTestServer();
  try {
    let raw: RawSessionKeys | undefined;
    const p = await RawPeer.open(ts.port, { psk: ts.psk, onRawKeys: (k) => (raw = k) });
    const old = await shadowSender(p, raw!);
    await p.send(0x20, 1, bytes("a")); // n = 0
    await old.seal(0x20, 1, bytes("a")); // keep the shadow's counter in step
    assert.equal(text((await p.readReply())!.payload), "a");
    await p.send(PacketType.KeyUpdate, 0); // n = 1, rekeys after it
    await old.seal(PacketType.Heartbeat, 0, new Uint8Array(0)); // n = 1 on the shadow, old keys kept
    await p.write(await old.seal(0x20, 3, bytes("old keys"))); // n = 2 under the old keys
    const frames = await p.waitClosed();
    assert.equal(frames.length, 0, "no reply to a frame under stale keys");
    await p.close();
    assert.equal(ts.server.stats().transportFailures, 1);
  } finally {
    await ts.close();
  }
});

Deno.test("keyupdate: without a KeyUpdate the server refuses a frame under rekeyed keys", async () => {
  const ts = startTestServer();
  try {
    let raw: RawSessionKeys | undefined;
    const p = await RawPeer.open(ts.port, { psk: ts.psk, onRawKeys: (k) => (raw = k) });
    const shadow = await shadowSender(p, raw!);
    // The shadow rekeys (its KeyUpdate is never sent); the real counter stays at 0.
    await shadow.seal(PacketType.KeyUpdate, 0, new Uint8Array(0));
    const forged = await shadow.seal(0x20, 1, bytes("new keys")); // n = 1
    await p.send(PacketType.Heartbeat, 0); // n = 0 under the original keys: accepted
    await p.write(forged);
    assert.equal((await p.waitClosed()).length, 0);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("keyupdate: the server rekeys by itself (rekeyAfterFrames 5) and a raw peer follows", async () => {
  const ts = startTestServer({ rekeyAfterFrames: 5 });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    let keyUpdates = 0;
    for (let i = 0; i < 20; i++) {
      const id = 2 * i + 1;
      await p.send(0x20, id, bytes(`echo ${i}`));
      for (;;) {
        const m = await p.readReply(2_000, { keepKeyUpdates: true });
        assert.ok(m, "connection closed");
        if (m.type === PacketType.KeyUpdate) {
          assert.equal(m.requestId, 0);
          assert.equal(m.payload.length, 0);
          keyUpdates++;
          continue;
        }
        assert.equal(m.requestId, id);
        assert.equal(text(m.payload), `echo ${i}`);
        break;
      }
    }
    // ServerHello is not a transport frame; 20 replies need a KeyUpdate every 5.
    assert.equal(keyUpdates, 3, "KeyUpdates seen from the server");
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("keyupdate: 20 echoes through a client while the server rekeys every 5 frames", async () => {
  const ts = startTestServer({ rekeyAfterFrames: 5 });
  try {
    const s = await connectClient(ts);
    for (let i = 0; i < 20; i++) {
      assert.equal(text(await s.request(0x20, bytes(`m${i}`))), `m${i}`);
    }
    // Pipelined too: many replies, several rekeys inside one batch.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.request(0x20, bytes(`p${i}`))),
    );
    replies.forEach((r, i) => assert.equal(text(r), `p${i}`));
    // 70 replies: the server sent KeyUpdates on top.
    assert.ok(ts.server.stats().framesOut >= 70 + 13, `framesOut ${ts.server.stats().framesOut}`);
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("keyupdate: 20 echoes while the client rekeys every 5 frames (client rekeyAfterFrames)", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts, { rekeyAfterFrames: 5 });
    for (let i = 0; i < 20; i++) {
      assert.equal(text(await s.request(0x20, bytes(`c${i}`))), `c${i}`);
    }
    // 20 requests + a KeyUpdate before the 6th, 11th and 16th.
    assert.equal(ts.server.stats().framesIn, 23);
    assert.equal(ts.server.stats().requests, 20);
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("keyupdate: both sides rekeying every 3 frames under pipelined load", async () => {
  const ts = startTestServer({ rekeyAfterFrames: 3 });
  try {
    const s = await connectClient(ts, { rekeyAfterFrames: 3 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => s.request(0x20, bytes(`x${i}`.repeat(i)))),
    );
    results.forEach((r, i) => assert.equal(text(r), `x${i}`.repeat(i)));
    assert.equal(ts.server.stats().transportFailures, 0);
    await s.close();
  } finally {
    await ts.close();
  }
});
