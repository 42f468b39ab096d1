/**
 * protocol-v1 §2 over real loopback TCP: the handshake, every reason a
 * ClientHello is refused (each a close without a single byte), the deadline,
 * the replay cache, and the key ring.
 */
import assert from "node:assert/strict";
import {
  encodeFrame,
  HandshakeState,
  NOISE_PROTOCOL_NAME,
  PacketType,
  prologue,
  startClientHandshake,
} from "../../src/protocol/mod.ts";
import { toHex } from "../../src/util/bytes.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { RawPeer } from "../_helpers/raw_peer.ts";
import {
  bytes,
  connectClient,
  pollUntil,
  randomPsk,
  startTestServer,
  type TestServer,
  text,
} from "../_helpers/test_server.ts";

/** Send `data` on a fresh connection and assert the server closes without a byte. */
async function expectSilentClose(ts: TestServer, data: Uint8Array, timeoutMs = 2_000) {
  const p = await RawPeer.connect(ts.port);
  try {
    await p.write(data);
    assert.equal(await p.closedWithoutAByte(timeoutMs), true, "server sent bytes before closing");
  } finally {
    await p.close();
  }
}

/** A fresh ClientHello for `ts`, optionally rewritten. */
async function helloFor(
  ts: TestServer,
  opts: { psk?: Uint8Array; pskId?: string; timestampMs?: number } = {},
): Promise<Uint8Array> {
  const hs = await startClientHandshake(ts.backend, {
    psk: opts.psk ?? ts.psk,
    pskId: opts.pskId,
    timestampMs: opts.timestampMs ?? Date.now(),
  });
  return hs.clientHello;
}

function handshakes(ts: TestServer): Readonly<Record<string, number>> {
  return ts.server.stats().handshakes;
}

Deno.test("handshake: a client connects, echoes, and the ServerHello carries the configured details", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: 1_234, idleTimeoutMs: 5_678 });
  try {
    const s = await connectClient(ts);
    const d = s.details!;
    assert.match(d.sessionId, /^[0-9a-f]{32}$/, "session id is 16 bytes, hex");
    assert.equal(d.heartbeatIntervalMs, 1_234);
    assert.equal(d.idleTimeoutMs, 5_678);
    assert.match(d.handshakeHash, /^[0-9a-f]{64}$/);
    assert.equal(text(await s.request(0x20, bytes("hello"))), "hello");
    // The server knows the same session id.
    assert.deepEqual(ts.server.sessions().map((c) => c.id), [d.sessionId]);
    assert.equal(ts.server.sessions()[0].pskId, "");
    await s.close();
    assert.equal(handshakes(ts).ok, 1);
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: raw ServerHello has version 1, a 73-byte body and distinct random session ids", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: 100, idleTimeoutMs: 300 });
  const ids = new Set<string>();
  try {
    for (let i = 0; i < 3; i++) {
      const p = await RawPeer.connect(ts.port);
      try {
        const hs = await startClientHandshake(ts.backend, { psk: ts.psk, timestampMs: Date.now() });
        await p.write(hs.clientHello);
        const f = await p.readFrame();
        assert.ok(f);
        assert.equal(f.type, PacketType.ServerHello);
        assert.equal(f.body[0], 0x01, "version");
        assert.equal(f.body.length, 1 + 32 + 24 + 16, "ServerHello body with no reserved bytes");
        const keys = await hs.finish(f);
        assert.equal(keys.sessionId.length, 16);
        assert.equal(keys.heartbeatIntervalMs, 100);
        assert.equal(keys.idleTimeoutMs, 300);
        ids.add(toHex(keys.sessionId));
      } finally {
        await p.close();
      }
    }
    assert.equal(ids.size, 3, "each session gets its own id");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a wrong PSK is closed without a byte (counted as decrypt)", async () => {
  const ts = startTestServer();
  try {
    await expectSilentClose(ts, await helloFor(ts, { psk: randomPsk() }));
    // The real client reports it as a failed connection.
    await assert.rejects(connectClient(ts, { psk: randomPsk() }));
    await pollUntil(() => handshakes(ts).decrypt === 2, "2 decrypt failures");
    assert.equal(ts.server.stats().sessionsActive, 0);
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: an unknown psk_id is closed without a byte", async () => {
  const ts = startTestServer();
  try {
    await expectSilentClose(ts, await helloFor(ts, { pskId: "nope" }));
    await pollUntil(() => handshakes(ts).unknown_psk_id === 1, "unknown_psk_id counted");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a psk_id that is not valid UTF-8 is closed without a byte", async () => {
  const ts = startTestServer({ psks: new Map([["", randomPsk()], ["ab", randomPsk()]]) });
  try {
    const hello = await helloFor(ts, { pskId: "ab", psk: ts.psks.get("ab") });
    // body = version || len || psk_id ...: psk_id sits at frame offsets 7..8.
    assert.equal(hello[6], 2);
    hello[7] = 0xff;
    hello[8] = 0xfe;
    await expectSilentClose(ts, hello);
    await pollUntil(() => handshakes(ts).unknown_psk_id === 1, "invalid UTF-8 id counted");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a version other than 1 is closed without a byte", async () => {
  const ts = startTestServer();
  try {
    for (const v of [0x00, 0x02, 0xff]) {
      const hello = await helloFor(ts);
      hello[5] = v;
      await expectSilentClose(ts, hello);
    }
    await pollUntil(() => handshakes(ts).version === 3, "3 version failures");
    assert.equal(handshakes(ts).ok, undefined);
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a timestamp outside the clock skew, either way, is closed without a byte", async () => {
  const ts = startTestServer({ clockSkewMs: 5_000 });
  try {
    await expectSilentClose(ts, await helloFor(ts, { timestampMs: Date.now() - 60_000 }));
    await expectSilentClose(ts, await helloFor(ts, { timestampMs: Date.now() + 60_000 }));
    await expectSilentClose(ts, await helloFor(ts, { timestampMs: Date.now() + 6_000 }));
    await pollUntil(() => handshakes(ts).clock_skew === 3, "3 clock_skew failures");
    // Just inside the window is accepted, both ways.
    for (const off of [-4_000, 4_000]) {
      const p = await RawPeer.open(ts.port, { psk: ts.psk, timestampMs: Date.now() + off });
      await p.close();
    }
    await pollUntil(() => handshakes(ts).ok === 2, "2 accepted");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a replayed ClientHello on a second connection is closed without a byte", async () => {
  const ts = startTestServer();
  try {
    const first = await RawPeer.open(ts.port, { psk: ts.psk });
    const hello = first.clientHello!;
    // The original session works.
    await first.send(0x20, 1, bytes("x"));
    const reply = await first.readReply();
    assert.equal(reply?.requestId, 1);
    await expectSilentClose(ts, hello);
    // Replay still refused after the original connection is gone.
    await first.close();
    await expectSilentClose(ts, hello);
    await pollUntil(() => handshakes(ts).replay === 2, "2 replays counted");
    assert.equal(handshakes(ts).ok, 1);
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: when the replay cache is full new handshakes are refused (fail closed)", async () => {
  const ts = startTestServer({ replayCacheSize: 2 });
  try {
    const a = await connectClient(ts);
    const b = await connectClient(ts);
    await expectSilentClose(ts, await helloFor(ts));
    await assert.rejects(connectClient(ts));
    // Closing sessions does not free entries: they are live until timestamp + skew.
    await a.close();
    await b.close();
    await expectSilentClose(ts, await helloFor(ts));
    await pollUntil(() => handshakes(ts).replay_cache_full === 3, "3 cache-full refusals");
    assert.equal(handshakes(ts).ok, 2);
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: replay-cache entries expire after timestamp + skew, then handshakes are accepted again", async () => {
  // Server time is a ManualClock starting at the real wall clock.
  const clock = new ManualClock(Date.now());
  const ts = startTestServer({ replayCacheSize: 1, clockSkewMs: 1_000, clock });
  try {
    const a = await RawPeer.open(ts.port, { psk: ts.psk, timestampMs: clock.now() });
    await expectSilentClose(ts, await helloFor(ts, { timestampMs: clock.now() }));
    assert.equal(handshakes(ts).replay_cache_full, 1);
    clock.advance(1_001);
    const b = await RawPeer.open(ts.port, { psk: ts.psk, timestampMs: clock.now() });
    assert.equal(handshakes(ts).ok, 2);
    await a.close();
    await b.close();
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: garbage, wrong magic, zero length, oversize body and early transport types close silently", async () => {
  const ts = startTestServer();
  try {
    const cases: [string, Uint8Array][] = [
      ["HTTP request", bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
      ["wrong second magic byte", Uint8Array.of(0xab, 0xce, 0x00, 0x50, 0xa0)],
      ["zero length", Uint8Array.of(0xab, 0xcd, 0x00, 0x00)],
      // length 1026: a ClientHello body of 1025 bytes, refused from the header alone.
      ["oversize ClientHello", Uint8Array.of(0xab, 0xcd, 0x04, 0x02, 0xa0)],
      ["undersize ClientHello", encodeFrame(PacketType.ClientHello, new Uint8Array(57))],
      ["Echo before the handshake", encodeFrame(0x20, new Uint8Array(64))],
      ["Ping before the handshake", encodeFrame(PacketType.Ping, new Uint8Array(64))],
      ["ServerHello from a client", encodeFrame(PacketType.ServerHello, new Uint8Array(73))],
    ];
    for (const [name, data] of cases) {
      const p = await RawPeer.connect(ts.port);
      try {
        await p.write(data);
        assert.equal(await p.closedWithoutAByte(2_000), true, name);
      } finally {
        await p.close();
      }
    }
    await pollUntil(
      () => handshakes(ts).framing === cases.length,
      `${cases.length} framing failures`,
    );
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: the longest psk_id (64 bytes) is accepted", async () => {
  const id = "k".repeat(64);
  const ts = startTestServer({ psks: new Map([["", randomPsk()], [id, randomPsk()]]) });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psks.get(id)!, pskId: id });
    assert.equal(p.clientHello!.length, 5 + 2 + 64 + 32 + 8 + 16);
    await p.send(0x20, 1, bytes("big id"));
    assert.equal(text((await p.readReply())!.payload), "big id");
    await p.close();
  } finally {
    await ts.close();
  }
});

/** A ClientHello whose encrypted payload is `payloadBytes` long (timestamp first, if it fits). */
async function customHello(
  ts: TestServer,
  payloadBytes: number,
  pskId = "",
  psk = ts.psk,
): Promise<Uint8Array> {
  const id = bytes(pskId);
  const hs = await HandshakeState.initialize(ts.backend, {
    protocolName: NOISE_PROTOCOL_NAME,
    initiator: true,
    prologue: prologue(id),
    psks: [psk],
  });
  const payload = new Uint8Array(payloadBytes);
  if (payloadBytes >= 8) new DataView(payload.buffer).setBigUint64(0, BigInt(Date.now()));
  payload.fill(0x5a, 8); // reserved bytes: ignored by the server
  const msg1 = await hs.writeMessage(payload);
  return encodeFrame(
    PacketType.ClientHello,
    Uint8Array.from([0x01, id.length, ...id, ...msg1]),
  );
}

Deno.test("handshake: a 1024-byte ClientHello body (reserved payload bytes) is accepted; 1025 is not", async () => {
  const ts = startTestServer();
  try {
    const hello = await customHello(ts, 1024 - 2 - 32 - 16);
    assert.equal(hello.length, 5 + 1024);
    const p = await RawPeer.connect(ts.port);
    try {
      await p.write(hello);
      const f = await p.readFrame();
      assert.equal(f?.type, PacketType.ServerHello);
    } finally {
      await p.close();
    }
    await expectSilentClose(ts, await customHello(ts, 1025 - 2 - 32 - 16));
    await pollUntil(() => handshakes(ts).ok === 1 && handshakes(ts).framing === 1, "ok + framing");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a ClientHello whose payload is shorter than the timestamp closes silently", async () => {
  // An 8-byte psk_id keeps the body at the 58-byte minimum with an empty payload.
  const ts = startTestServer({ psks: new Map([["", randomPsk()], ["12345678", randomPsk()]]) });
  try {
    const hello = await customHello(ts, 0, "12345678", ts.psks.get("12345678"));
    assert.equal(hello.length, 5 + 58);
    await expectSilentClose(ts, hello);
    await pollUntil(() => handshakes(ts).malformed === 1, "malformed counted");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: the deadline closes a silent connection after handshakeTimeoutMs", async () => {
  const ts = startTestServer({ handshakeTimeoutMs: 200 });
  try {
    const t0 = performance.now();
    const p = await RawPeer.connect(ts.port);
    try {
      assert.equal(await p.closedWithoutAByte(3_000), true);
    } finally {
      await p.close();
    }
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 180, `closed too early: ${elapsed} ms`);
    await pollUntil(() => handshakes(ts).timeout === 1, "timeout counted");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: the deadline closes a connection that sent half a ClientHello", async () => {
  const ts = startTestServer({ handshakeTimeoutMs: 200 });
  try {
    const hello = await helloFor(ts);
    const t0 = performance.now();
    const p = await RawPeer.connect(ts.port);
    try {
      await p.write(hello.subarray(0, 40));
      assert.equal(await p.closedWithoutAByte(3_000), true);
    } finally {
      await p.close();
    }
    assert.ok(performance.now() - t0 >= 180);
    await pollUntil(() => handshakes(ts).timeout === 1, "timeout counted");
    assert.equal(ts.server.stats().connectionsActive, 0);
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a key ring serves several psk ids; each key works only under its own id", async () => {
  const def = randomPsk();
  const alt = randomPsk();
  const ts = startTestServer({ psks: new Map([["", def], ["alt", alt]]) });
  try {
    const a = await connectClient(ts, { psk: def });
    const b = await connectClient(ts, { psk: alt, pskId: "alt" });
    assert.equal(text(await a.request(0x20, bytes("a"))), "a");
    assert.equal(text(await b.request(0x20, bytes("b"))), "b");
    const byId = new Map(ts.server.sessions().map((c) => [c.id, c.pskId]));
    assert.equal(byId.get(a.details!.sessionId), "");
    assert.equal(byId.get(b.details!.sessionId), "alt");
    await a.close();
    await b.close();
    await expectSilentClose(ts, await helloFor(ts, { psk: def, pskId: "alt" }));
    await expectSilentClose(ts, await helloFor(ts, { psk: alt, pskId: "" }));
    await pollUntil(() => handshakes(ts).decrypt === 2, "2 decrypt failures");
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: stats().handshakes counts every outcome by reason", async () => {
  const ts = startTestServer({ handshakeTimeoutMs: 300, clockSkewMs: 5_000 });
  try {
    const ok = await RawPeer.open(ts.port, { psk: ts.psk });
    const replay = ok.clientHello!;
    const badVersion = await helloFor(ts);
    badVersion[5] = 9;
    await expectSilentClose(ts, badVersion);
    await expectSilentClose(ts, await helloFor(ts, { pskId: "unknown" }));
    await expectSilentClose(ts, await helloFor(ts, { psk: randomPsk() }));
    await expectSilentClose(ts, await helloFor(ts, { timestampMs: Date.now() - 10_000 }));
    await expectSilentClose(ts, replay);
    await expectSilentClose(ts, Uint8Array.of(0, 1, 2, 3, 4, 5));
    await expectSilentClose(ts, new Uint8Array(0), 2_000); // nothing at all: the deadline
    await ok.close();
    await pollUntil(() => (handshakes(ts).timeout ?? 0) === 1, "timeout counted");
    assert.deepEqual({ ...handshakes(ts) }, {
      ok: 1,
      version: 1,
      unknown_psk_id: 1,
      decrypt: 1,
      clock_skew: 1,
      replay: 1,
      framing: 1,
      timeout: 1,
    });
  } finally {
    await ts.close();
  }
});

Deno.test("handshake: a psk_id length above 64 is closed without a byte (malformed)", async () => {
  const ts = startTestServer();
  try {
    const body = new Uint8Array(2 + 65 + 32 + 8 + 16);
    body[0] = 0x01;
    body[1] = 65;
    body.fill(0x61, 2, 2 + 65);
    await expectSilentClose(ts, encodeFrame(PacketType.ClientHello, body));
    await pollUntil(() => handshakes(ts).malformed === 1, "malformed counted");
  } finally {
    await ts.close();
  }
});
