/**
 * protocol-v1 §3–§4 over real loopback TCP: Echo, payload limits, the MAC,
 * nonce and framing checks (silent close), request-id rules and protocol
 * violations (GoAway 5), per-request Errors that leave the session open,
 * and Ping in both directions.
 */
import assert from "node:assert/strict";
import { LimitError, SessionError } from "../../src/errors.ts";
import { RemoteError } from "../../src/client/mod.ts";
import {
  encodeErrorPayload,
  encodeFrame,
  MAX_PAYLOAD_BYTES,
  type Message,
  PacketType,
  type RawSessionKeys,
  startClientHandshake,
  WireErrorCode,
} from "../../src/protocol/mod.ts";
import { HandlerError } from "../../src/server/mod.ts";
import { errorOf, goAwayOf, RawPeer } from "../_helpers/raw_peer.ts";
import {
  bytes,
  connectClient,
  Gate,
  gated,
  pollUntil,
  startTestServer,
  type TestServer,
  text,
} from "../_helpers/test_server.ts";

function pattern(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Open a raw session on `ts`, check it works with one Echo, and return it. */
async function rawSession(ts: TestServer): Promise<RawPeer> {
  const p = await RawPeer.open(ts.port, { psk: ts.psk });
  await p.send(0x20, 1, bytes("warm-up"));
  const m = await p.readReply();
  assert.equal(m?.type, 0x20);
  assert.equal(text(m!.payload), "warm-up");
  return p;
}

/** Assert the peer is closed by the server with no further frame at all. */
async function assertClosedWithNoReply(p: RawPeer, what: string): Promise<void> {
  const before = p.bytesReceived;
  const frames = await p.waitClosed(2_000);
  assert.equal(frames.length, 0, `${what}: server replied before closing`);
  assert.equal(p.bytesReceived, before, `${what}: server sent bytes before closing`);
}

Deno.test("transport: Echo round trips 0, 1 and 65 470-byte payloads", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts);
    for (const n of [0, 1, 2, 1000, MAX_PAYLOAD_BYTES]) {
      const payload = pattern(n, n);
      assert.deepEqual(await s.request(0x20, payload), payload, `echo of ${n} bytes`);
    }
    await s.close();
    // The same through the raw peer: the reply carries the same type and request id.
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    const big = pattern(MAX_PAYLOAD_BYTES, 3);
    const sent = await p.send(0x20, 77, big);
    assert.equal(sent.length, 65_539, "the largest frame");
    const m = await p.readReply();
    assert.equal(m?.type, 0x20);
    assert.equal(m?.requestId, 77);
    assert.deepEqual(m?.payload, big);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: a 65 471-byte payload is refused client-side and the session goes on", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts);
    await assert.rejects(
      s.request(0x20, new Uint8Array(MAX_PAYLOAD_BYTES + 1)),
      (e: unknown) => e instanceof LimitError && e.code === "PAYLOAD_TOO_LARGE",
    );
    assert.throws(() => s.send(0x20, new Uint8Array(MAX_PAYLOAD_BYTES + 1)), LimitError);
    assert.equal(text(await s.request(0x20, bytes("still here"))), "still here");
    await s.close();
    // The pure sender refuses too.
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    await assert.rejects(p.seal(0x20, 1, new Uint8Array(MAX_PAYLOAD_BYTES + 1)), RangeError);
    await p.close();
    assert.equal(ts.server.stats().requests, 1);
  } finally {
    await ts.close();
  }
});

for (
  const [where, index] of [
    ["ciphertext", (_f: Uint8Array) => 5 + 12 + 2],
    ["tag", (f: Uint8Array) => f.length - 32 - 1],
    ["mac", (f: Uint8Array) => f.length - 1],
    ["nonce", (_f: Uint8Array) => 5 + 11],
    ["nonce zero prefix", (_f: Uint8Array) => 5],
    ["header type", (_f: Uint8Array) => 4],
  ] as const
) {
  Deno.test(`transport: a flipped bit in the ${where} closes the connection with no reply; other sessions go on`, async () => {
    const ts = startTestServer();
    try {
      const other = await connectClient(ts);
      const p = await rawSession(ts);
      const f = await p.seal(0x20, 3, bytes("tampered"));
      f[index(f)] ^= 0x01;
      await p.write(f);
      await assertClosedWithNoReply(p, where);
      await p.close();
      assert.equal(text(await other.request(0x20, bytes("fine"))), "fine");
      await pollUntil(() => ts.server.stats().transportFailures === 1, "transport failure counted");
      assert.equal(ts.server.stats().sessionsActive, 1);
      await other.close();
    } finally {
      await ts.close();
    }
  });
}

Deno.test("transport: a replayed transport frame closes the connection", async () => {
  const ts = startTestServer();
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    const f = await p.send(0x20, 1, bytes("once"));
    assert.equal(text((await p.readReply())!.payload), "once");
    await p.write(f);
    await assertClosedWithNoReply(p, "replay");
    await p.close();
    await pollUntil(() => ts.server.stats().transportFailures === 1, "failure counted");
  } finally {
    await ts.close();
  }
});

Deno.test("transport: frames out of nonce order close the connection", async () => {
  const ts = startTestServer();
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    const f0 = await p.seal(0x20, 1, bytes("first"));
    const f1 = await p.seal(0x20, 3, bytes("second"));
    assert.ok(f0.length > 0);
    await p.write(f1);
    await assertClosedWithNoReply(p, "reorder");
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: a frame whose nonce skips ahead closes the connection", async () => {
  const ts = startTestServer();
  try {
    const p = await rawSession(ts); // n = 0 used
    await p.seal(0x20, 3, bytes("lost")); // n = 1 never sent
    await p.send(0x20, 5, bytes("n=2"));
    await assertClosedWithNoReply(p, "skip");
    await p.close();
  } finally {
    await ts.close();
  }
});

for (
  const [what, frame] of [
    ["unknown type 0x06", () => encodeFrame(0x06, new Uint8Array(64))],
    ["unknown type 0x80", () => encodeFrame(0x80, new Uint8Array(64))],
    ["unknown type 0x11", () => encodeFrame(0x11, new Uint8Array(64))],
    [
      "a ClientHello after the handshake",
      () => encodeFrame(PacketType.ClientHello, new Uint8Array(64)),
    ],
    [
      "a ServerHello after the handshake",
      () => encodeFrame(PacketType.ServerHello, new Uint8Array(73)),
    ],
    ["a transport body of 63 bytes", () => encodeFrame(0x20, new Uint8Array(63))],
    ["a zero length", () => Uint8Array.of(0xab, 0xcd, 0, 0)],
    ["a wrong magic", () => Uint8Array.of(0xab, 0xce, 0, 65, 0x20)],
  ] as const
) {
  Deno.test(`transport: ${what} closes an established connection`, async () => {
    const ts = startTestServer();
    try {
      const p = await rawSession(ts);
      await p.write(frame());
      await assertClosedWithNoReply(p, what);
      await p.close();
      await pollUntil(() => ts.server.stats().sessionsActive === 0, "session gone");
    } finally {
      await ts.close();
    }
  });
}

/** Expect GoAway reason 5 (and nothing else), then the close. */
async function expectGoAway5(p: RawPeer, what: string): Promise<void> {
  const rest = await p.readUntilClosed(2_000);
  const nonHeartbeat = rest.filter((m) => m.type !== PacketType.Heartbeat);
  assert.equal(
    nonHeartbeat.length,
    1,
    `${what}: expected exactly a GoAway, got ${nonHeartbeat.length} frames`,
  );
  const g = goAwayOf(nonHeartbeat[0]);
  assert.equal(nonHeartbeat[0].requestId, 0);
  assert.equal(g.reason, 5, `${what}: GoAway reason`);
}

for (
  const [what, type, id, payload] of [
    [
      "an Error frame sent by a client",
      PacketType.Error,
      1,
      encodeErrorPayload(4, 0, "client error"),
    ],
    [
      "a connection Error (id 0) sent by a client",
      PacketType.Error,
      0,
      encodeErrorPayload(1, 0, "x"),
    ],
    ["an application request with an even id", 0x20, 2, bytes("even")],
    ["an application request with id 0", 0x20, 0, bytes("zero")],
    ["a Ping with an even id", PacketType.Ping, 4, bytes("p")],
    ["a Ping with id 0", PacketType.Ping, 0, bytes("p")],
    ["a Pong nobody asked for, with an odd id", PacketType.Pong, 1, bytes("p")],
    ["a Heartbeat with a 3-byte payload", PacketType.Heartbeat, 0, bytes("abc")],
    ["a Heartbeat with a request id", PacketType.Heartbeat, 1, new Uint8Array(0)],
    ["a KeyUpdate with a request id", PacketType.KeyUpdate, 1, new Uint8Array(0)],
    ["a KeyUpdate with a payload", PacketType.KeyUpdate, 0, bytes("x")],
    ["a GoAway with a 1-byte payload", PacketType.GoAway, 0, Uint8Array.of(0)],
    ["a GoAway with a request id", PacketType.GoAway, 1, Uint8Array.of(0, 0)],
  ] as const
) {
  Deno.test(`transport: ${what} gets GoAway 5, then the close`, async () => {
    const ts = startTestServer();
    try {
      const p = await rawSession(ts);
      await p.send(type, id, payload);
      await expectGoAway5(p, what);
      await p.close();
      await pollUntil(() => ts.server.stats().protocolViolations === 1, "violation counted");
    } finally {
      await ts.close();
    }
  });
}

Deno.test("transport: a duplicate request id in flight gets GoAway 5; the first request is still answered", async () => {
  const ts = startTestServer();
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const p = await rawSession(ts);
    await p.send(0x40, 9, bytes("slow"));
    await gate.waitStarted("slow");
    await p.send(0x40, 9, bytes("again"));
    const g = await p.readReply();
    assert.equal(goAwayOf(g).reason, 5);
    // The sender of GoAway finishes what is in flight, then closes.
    gate.release("slow");
    const rest = await p.readUntilClosed();
    const replies = rest.filter((m) => m.type === 0x40);
    assert.equal(replies.length, 1);
    assert.equal(replies[0].requestId, 9);
    assert.equal(text(replies[0].payload), "slow");
    assert.deepEqual(gate.started, ["slow"], "the duplicate never ran");
    await p.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("transport: an unknown application type gets Error 1 and the session goes on", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts, { retries: 0 });
    for (const type of [0x7e, 0x21, 0x7f]) {
      await assert.rejects(
        s.request(type, bytes("?")),
        (e: unknown) => e instanceof RemoteError && e.wireCode === WireErrorCode.UnknownType,
      );
    }
    assert.equal(text(await s.request(0x20, bytes("ok"))), "ok");
    await s.close();
    // Raw: the Error carries the request id, retry_after_ms 0.
    const p = await rawSession(ts);
    await p.send(0x7e, 41, bytes("?"));
    const m = await p.readReply();
    assert.equal(m?.requestId, 41);
    const e = errorOf(m);
    assert.equal(e.code, 1);
    assert.equal(e.retryAfterMs, 0);
    await p.send(0x20, 43, bytes("after"));
    assert.equal(text((await p.readReply())!.payload), "after");
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: handler failures — throw, reject, timeout, HandlerError, oversize — answer Errors; session goes on", async () => {
  const ts = startTestServer();
  const d = ts.server.dispatcher;
  d.register(0x41, () => {
    throw new Error("sync boom");
  });
  d.register(0x42, () => Promise.reject(new Error("async boom")));
  d.register(0x43, (ctx) => {
    return new Promise<Uint8Array>((_resolve, reject) => {
      // Never answers by itself; ends when the server aborts it.
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
    });
  }, { timeoutMs: 100 });
  d.register(0x44, () => {
    throw new HandlerError(WireErrorCode.MalformedRequest, "cannot parse that");
  });
  d.register(0x45, (ctx) => ctx.payload, { maxPayloadBytes: 16 });
  d.register(0x46, () => "not bytes" as unknown as Uint8Array);
  try {
    const s = await connectClient(ts, { retries: 0 });
    const code = async (type: number, payload = bytes("x")) => {
      try {
        await s.request(type, payload);
      } catch (e) {
        if (e instanceof RemoteError) return e.wireCode;
        throw e;
      }
      return "ok";
    };
    assert.equal(await code(0x41), 4);
    assert.equal(await code(0x42), 4);
    const t0 = performance.now();
    assert.equal(await code(0x43), 4);
    assert.ok(performance.now() - t0 >= 90, "timeout not before timeoutMs");
    assert.equal(await code(0x44), 2);
    assert.equal(await code(0x45, new Uint8Array(16)), "ok");
    assert.equal(await code(0x45, new Uint8Array(17)), 7);
    assert.equal(await code(0x46), 4);
    assert.equal(text(await s.request(0x20, bytes("alive"))), "alive");
    const errs = ts.server.stats().errorsSent;
    assert.equal(errs["4"], 4);
    assert.equal(errs["2"], 1);
    assert.equal(errs["7"], 1);
    assert.equal(ts.server.sessions().length, 1);
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: HandlerError message and retry_after_ms reach the client", async () => {
  const ts = startTestServer();
  ts.server.dispatcher.register(0x47, () => {
    throw new HandlerError(WireErrorCode.RateLimited, "slow down", 1234);
  });
  try {
    const p = await rawSession(ts);
    await p.send(0x47, 3, bytes("x"));
    const m = await p.readReply();
    assert.equal(m?.requestId, 3);
    assert.deepEqual(errorOf(m), { code: 3, retryAfterMs: 1234, message: "slow down" });
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: a client Ping gets a Pong with the same id and payload", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts);
    const rtt = await s.ping(bytes("ping-payload"));
    assert.ok(rtt >= 0);
    await s.close();
    const p = await rawSession(ts);
    for (const payload of [new Uint8Array(0), bytes("abc"), pattern(MAX_PAYLOAD_BYTES)]) {
      await p.send(PacketType.Ping, 7, payload);
      const m = await p.readReply();
      assert.equal(m?.type, PacketType.Pong);
      assert.equal(m?.requestId, 7);
      assert.deepEqual(m?.payload, payload);
    }
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: a server-initiated Ping (even id) is answered by the client", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts);
    const [conn] = ts.server.sessions();
    const rtt = await conn.ping(bytes("from server"));
    assert.ok(rtt >= 0);
    assert.equal(text(await s.request(0x20, bytes("after ping"))), "after ping");
    await s.close();
    // Raw: the Ping has an even non-zero id; our Pong resolves the server's promise.
    const p = await rawSession(ts);
    const conn2 = ts.server.sessions().find((c) => c.id !== conn.id)!;
    const pinged = conn2.ping(bytes("xyz"));
    const m = await p.readReply();
    assert.equal(m?.type, PacketType.Ping);
    assert.ok(m!.requestId !== 0 && m!.requestId % 2 === 0, `server ping id ${m!.requestId}`);
    assert.equal(text(m!.payload), "xyz");
    await p.send(PacketType.Pong, m!.requestId, m!.payload);
    assert.ok((await pinged) >= 0);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: frames split into 1-byte writes, and many frames in one write, are both handled", async () => {
  const ts = startTestServer();
  try {
    const p = await RawPeer.connect(ts.port);
    const hs = await startClientHandshake(p.backend, { psk: ts.psk, timestampMs: Date.now() });
    for (const b of hs.clientHello) await p.write(Uint8Array.of(b));
    const sh = await p.readFrame();
    p.keys = await hs.finish(sh!);
    const f = await p.seal(0x20, 1, bytes("dribbled"));
    for (let i = 0; i < f.length; i += 7) await p.write(f.subarray(i, i + 7));
    assert.equal(text((await p.readReply())!.payload), "dribbled");
    // 50 frames in a single write.
    const frames = [];
    for (let i = 0; i < 50; i++) frames.push(await p.seal(0x20, 3 + 2 * i, bytes(`batch ${i}`)));
    const all = new Uint8Array(frames.reduce((n, x) => n + x.length, 0));
    let o = 0;
    for (const x of frames) {
      all.set(x, o);
      o += x.length;
    }
    await p.write(all);
    for (let i = 0; i < 50; i++) {
      const m = await p.readReply();
      assert.equal(m?.requestId, 3 + 2 * i);
      assert.equal(text(m!.payload), `batch ${i}`);
    }
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: after the client half-closes, in-flight requests are still answered, then the server closes", async () => {
  const ts = startTestServer();
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const p = await rawSession(ts);
    await p.send(0x40, 3, bytes("late answer"));
    await gate.waitStarted("late answer");
    await p.closeWrite();
    gate.release("late answer");
    const rest = (await p.readUntilClosed()).filter((m) => m.type !== PacketType.Heartbeat);
    assert.deepEqual(rest.map((m) => [m.type, m.requestId, text(m.payload)]), [[
      0x40,
      3,
      "late answer",
    ]]);
    await p.close();
    await pollUntil(() => ts.server.stats().connectionsActive === 0, "server side closed");
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("transport: a server Ping that is never answered rejects when the connection closes", async () => {
  const ts = startTestServer();
  try {
    const p = await rawSession(ts);
    const [conn] = ts.server.sessions();
    const pinged = conn.ping();
    const m = await p.readReply();
    assert.equal(m?.type, PacketType.Ping);
    await p.close();
    await assert.rejects(pinged);
    await assert.rejects(conn.ping(), "no Ping on a closed session");
  } finally {
    await ts.close();
  }
});

Deno.test("transport: a frame with a valid MAC but a forged AEAD ciphertext closes the connection", async () => {
  const ts = startTestServer();
  try {
    let raw: RawSessionKeys | undefined;
    const p = await RawPeer.open(ts.port, { psk: ts.psk, onRawKeys: (k) => (raw = k) });
    const macKey = await p.backend.importMacKey(raw!.macC2s);
    const f = await p.seal(0x20, 1, bytes("aead"));
    f[5 + 12] ^= 0x80; // first ciphertext byte
    const macAt = f.length - 32;
    f.set(await p.backend.mac(macKey, f.subarray(0, macAt)), macAt); // re-MAC: only GCM can tell
    await p.write(f);
    await assertClosedWithNoReply(p, "forged ciphertext with valid mac");
    await p.close();
    await pollUntil(() => ts.server.stats().transportFailures === 1, "failure counted");
  } finally {
    await ts.close();
  }
});

Deno.test("transport: request ids up to 2^32 − 1 round-trip, and an id may be reused once answered", async () => {
  const ts = startTestServer();
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    for (const id of [0xffff_ffff, 0x8000_0001, 5, 5, 5]) {
      await p.send(0x20, id, bytes(`id ${id}`));
      const m = await p.readReply();
      assert.equal(m?.requestId, id);
      assert.equal(text(m!.payload), `id ${id}`);
    }
    assert.equal(ts.server.stats().protocolViolations, 0);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("transport: a client request timeout leaves the session usable; the late reply goes to onMessage", async () => {
  const ts = startTestServer();
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const late: Message[] = [];
    const s = await connectClient(ts, { onMessage: (m) => late.push(m) });
    await assert.rejects(
      s.request(0x40, bytes("slow"), { timeoutMs: 50 }),
      (e: unknown) => e instanceof SessionError && e.code === "REQUEST_TIMEOUT",
    );
    gate.release("slow");
    await pollUntil(() => late.length === 1, "late reply delivered to onMessage");
    assert.equal(text(late[0].payload), "slow");
    assert.equal(text(await s.request(0x20, bytes("next"))), "next");
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});
