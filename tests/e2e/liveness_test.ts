/**
 * protocol-v1 §5 over real loopback TCP, with short real intervals
 * (heartbeat 100 ms, idle 300 ms): heartbeats both ways, the server's idle
 * timeout (GoAway 1), and a client that stays up on heartbeats alone.
 */
import assert from "node:assert/strict";
import {
  acceptClientHello,
  decodeGoAwayPayload,
  FrameDecoder,
  PacketType,
  ReplayCache,
} from "../../src/protocol/mod.ts";
import { ClientConnection, connect } from "../../src/client/mod.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { goAwayOf, RawPeer, ReadTimeout } from "../_helpers/raw_peer.ts";
import {
  bytes,
  connectClient,
  defaultBackend,
  pollUntil,
  randomPsk,
  startTestServer,
  text,
} from "../_helpers/test_server.ts";

const HB = 100;
const IDLE = 300;

Deno.test("liveness: the client adopts the server's heartbeat interval and the server receives its heartbeats", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: HB, idleTimeoutMs: IDLE });
  try {
    const s = await connectClient(ts);
    assert.equal(s.details!.heartbeatIntervalMs, HB);
    assert.equal(s.details!.idleTimeoutMs, IDLE);
    const before = ts.server.stats().framesIn;
    // Silent client: every frame the server receives now is a Heartbeat.
    await pollUntil(() => ts.server.stats().framesIn - before >= 3, "3 client heartbeats", {
      timeoutMs: 2_000,
    });
    assert.equal(ts.server.stats().requests, 0);
    assert.equal(ts.server.stats().heartbeatTimeouts, 0);
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("liveness: a silent raw peer receives Heartbeats, then GoAway 1 and the close after idleTimeoutMs", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: HB, idleTimeoutMs: IDLE });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    const t0 = performance.now();
    const msgs = await p.readUntilClosed(3_000);
    const elapsed = performance.now() - t0;
    const beats = msgs.filter((m) => m.type === PacketType.Heartbeat);
    assert.ok(beats.length >= 1, `heartbeats before the idle close: ${beats.length}`);
    for (const b of beats) {
      assert.equal(b.requestId, 0);
      assert.ok(b.payload.length === 0 || b.payload.length === 8);
      if (b.payload.length === 8) {
        const ts = Number(new DataView(b.payload.buffer, b.payload.byteOffset).getBigUint64(0));
        assert.ok(
          Math.abs(ts - Date.now()) < 5_000,
          "heartbeat timestamp is the server's Unix time",
        );
      }
    }
    const rest = msgs.filter((m) => m.type !== PacketType.Heartbeat);
    assert.equal(rest.length, 1, "only the GoAway besides heartbeats");
    assert.equal(goAwayOf(rest[0]).reason, 1);
    assert.equal(msgs[msgs.length - 1].type, PacketType.GoAway, "GoAway is the last frame");
    assert.ok(elapsed >= IDLE - 20, `closed after ${elapsed} ms`);
    await p.close();
    assert.equal(ts.server.stats().heartbeatTimeouts, 1);
  } finally {
    await ts.close();
  }
});

Deno.test("liveness: a raw peer that stops sending after some traffic is timed out the same way", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: HB, idleTimeoutMs: IDLE });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    for (let i = 0; i < 3; i++) {
      await p.send(0x20, 2 * i + 1, bytes(`m${i}`));
      assert.equal(text((await p.readReply())!.payload), `m${i}`);
    }
    const msgs = await p.readUntilClosed(3_000);
    assert.equal(goAwayOf(msgs.filter((m) => m.type !== PacketType.Heartbeat)[0]).reason, 1);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("liveness: a raw peer that sends Heartbeats (empty or with a timestamp) stays connected; they are never answered", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: HB, idleTimeoutMs: IDLE });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    const ts8 = new Uint8Array(8);
    const deadline = performance.now() + IDLE * 3;
    let n = 0;
    while (performance.now() < deadline) {
      new DataView(ts8.buffer).setBigUint64(0, BigInt(Date.now()));
      await p.send(PacketType.Heartbeat, 0, n++ % 2 ? ts8 : new Uint8Array(0));
      // Read whatever came meanwhile (only server heartbeats are allowed).
      try {
        const m = await p.readMessage(IDLE / 4);
        assert.equal(m?.type, PacketType.Heartbeat, "only heartbeats from the server");
      } catch (e) {
        if (!(e instanceof ReadTimeout)) throw e;
      }
    }
    assert.equal(ts.server.stats().heartbeatTimeouts, 0);
    await p.send(0x20, 1, bytes("alive"));
    assert.equal(text((await p.readReply())!.payload), "alive");
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("liveness: a normal client stays connected past several idle timeouts on heartbeats alone", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: HB, idleTimeoutMs: IDLE });
  try {
    const s = await connectClient(ts);
    let goAway: number | undefined;
    const c = await connectClient(ts, { onGoAway: (r) => (goAway = r) });
    const t0 = performance.now();
    // Heartbeats from both clients: 4 idle timeouts' worth (~12 per client).
    await pollUntil(
      () => performance.now() - t0 > IDLE * 4 && ts.server.stats().framesIn >= 16,
      "time to pass",
      {
        timeoutMs: 5_000,
        intervalMs: 20,
      },
    );
    assert.equal(ts.server.stats().heartbeatTimeouts, 0);
    assert.equal(ts.server.stats().sessionsActive, 2);
    assert.equal(goAway, undefined);
    assert.equal(text(await s.request(0x20, bytes("still up"))), "still up");
    assert.equal(text(await c.request(0x20, bytes("me too"))), "me too");
    await s.close();
    await c.close();
  } finally {
    await ts.close();
  }
});

Deno.test("liveness: the server sends no Heartbeat while it is sending other frames", async () => {
  const ts = startTestServer({ heartbeatIntervalMs: 300, idleTimeoutMs: 2_000 });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    let heartbeats = 0;
    const t0 = performance.now();
    for (let id = 1; performance.now() - t0 < 800; id += 2) {
      await p.send(0x20, id, bytes("tick"));
      for (;;) {
        const m = await p.readMessage();
        if (m?.type === PacketType.Heartbeat) {
          heartbeats++;
          continue;
        }
        assert.equal(m?.requestId, id);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(heartbeats, 0, "a Heartbeat is only sent after heartbeat_interval_ms of silence");
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("liveness: a client gives up on a server that goes silent (after the ServerHello's idle timeout)", async () => {
  // A minimal fake server: handshake with the pure functions, then silence.
  const psk = randomPsk();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const clientBeats: number[] = [];
  const fake = (async () => {
    const conn = await listener.accept();
    try {
      const decoder = new FrameDecoder({ expect: "server" });
      const buf = new Uint8Array(65_536);
      const n = await conn.read(buf);
      const [hello] = decoder.push(buf.subarray(0, n!));
      const { serverHello, keys } = await acceptClientHello(defaultBackend, hello, {
        lookupPsk: (id) => (id === "" ? psk : undefined),
        nowMs: Date.now(),
        clockSkewMs: 30_000,
        replayCache: new ReplayCache(4),
        sessionId: crypto.getRandomValues(new Uint8Array(16)),
        heartbeatIntervalMs: HB,
        idleTimeoutMs: IDLE,
      });
      await conn.write(serverHello);
      for (;;) {
        const k = await conn.read(buf);
        if (k === null) break;
        for (const f of decoder.push(buf.slice(0, k))) {
          const m = await keys.receiver.open(f);
          if (m.type === PacketType.Heartbeat) clientBeats.push(performance.now());
          if (m.type === PacketType.GoAway) assert.ok(decodeGoAwayPayload(m.payload));
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BadResource)) {
        throw e;
      }
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  })();
  try {
    const t0 = performance.now();
    const s = await connect({ port, psk, backend: defaultBackend });
    assert.ok(s instanceof ClientConnection);
    const info = await s.closed;
    const elapsed = performance.now() - t0;
    assert.equal(info.cause, "idle");
    assert.ok(elapsed >= IDLE - 20, `gave up after ${elapsed} ms`);
    assert.ok(clientBeats.length >= 1, "the client sent heartbeats at the adopted interval");
    await fake;
  } finally {
    listener.close();
  }
});

Deno.test({
  name: "liveness: the idle timeout counts from the handshake, not from the TCP accept",
  fn: async () => {
    const clock = new ManualClock(Date.now());
    const ts = startTestServer({
      clock,
      handshakeTimeoutMs: 5_000,
      heartbeatIntervalMs: 10_000,
      idleTimeoutMs: 300,
    });
    try {
      const p = await RawPeer.connect(ts.port);
      await pollUntil(() => ts.server.stats().connectionsAccepted === 1, "accepted");
      clock.advance(1_000); // the client takes 1 s to send its ClientHello (within 5 s)
      await p.handshake({ psk: ts.psk, timestampMs: clock.now() });
      clock.advance(1);
      // Nothing may arrive yet: the server received the ClientHello 1 ms ago.
      await assert.rejects(p.readMessage(150), ReadTimeout, "GoAway right after the handshake");
      clock.advance(300);
      assert.equal(goAwayOf(await p.readReply()).reason, 1);
      await p.close();
    } finally {
      await ts.close();
    }
  },
});

Deno.test("liveness: with a manual clock the idle GoAway comes exactly at idleTimeoutMs after the last frame", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startTestServer({ clock, heartbeatIntervalMs: 10_000, idleTimeoutMs: 300 });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk, timestampMs: clock.now() });
    await p.send(0x20, 1, bytes("x"));
    assert.equal(text((await p.readReply())!.payload), "x");
    clock.advance(299);
    await assert.rejects(p.readMessage(100), ReadTimeout);
    clock.advance(1);
    assert.equal(goAwayOf(await p.readReply()).reason, 1);
    await p.close();
  } finally {
    await ts.close();
  }
});
