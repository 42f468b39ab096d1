/**
 * protocol-v1 §6 over real loopback TCP: per-session in-flight limit (Error 5
 * with retry_after_ms), connection caps in total and per IP, the handshake
 * failure limit with its allow list, and the bounded send queue.
 */
import assert from "node:assert/strict";
import { RemoteError } from "../../src/client/mod.ts";
import { MAX_PAYLOAD_BYTES, startClientHandshake, WireErrorCode } from "../../src/protocol/mod.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { errorOf, RawPeer } from "../_helpers/raw_peer.ts";
import {
  bytes,
  connectClient,
  Gate,
  gated,
  pollUntil,
  randomPsk,
  startTestServer,
  type TestServer,
  text,
} from "../_helpers/test_server.ts";

/** Register a handler on `type` that waits for the gate (label = payload). */
Deno.test("limits: the request beyond maxInFlightPerSession gets Error 5 with retry_after_ms; the rest complete", async () => {
  const ts = startTestServer({ maxInFlightPerSession: 4 });
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const s = await connectClient(ts, { retries: 0 });
    const first = ["a", "b", "c", "d"].map((l) => s.request(0x40, bytes(l)));
    await pollUntil(() => gate.started.length === 4, "4 handlers running");
    await assert.rejects(s.request(0x40, bytes("e")), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.wireCode, WireErrorCode.Overloaded);
      assert.ok(e.retryAfterMs > 0, `retry_after_ms ${e.retryAfterMs}`);
      return true;
    });
    // Urgent traffic is not counted against the limit.
    assert.ok((await s.ping()) >= 0);
    assert.deepEqual(gate.started, ["a", "b", "c", "d"], "the refused request never ran");
    gate.releaseAll();
    assert.deepEqual((await Promise.all(first)).map(text), ["a", "b", "c", "d"]);
    // Below the limit again: accepted.
    assert.equal(text(await s.request(0x40, bytes("f"))), "f");
    assert.equal(ts.server.stats().errorsSent["5"], 1);
    assert.equal(ts.server.sessions().length, 1, "an Error 5 leaves the session open");
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("limits: the in-flight limit is per session — another session is not affected", async () => {
  const ts = startTestServer({ maxInFlightPerSession: 2 });
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const a = await connectClient(ts, { retries: 0 });
    const b = await connectClient(ts, { retries: 0 });
    const held = [a.request(0x40, bytes("a1")), a.request(0x40, bytes("a2"))];
    await pollUntil(() => gate.started.length === 2, "a's handlers running");
    await assert.rejects(a.request(0x20, bytes("x")), RemoteError);
    assert.equal(text(await b.request(0x20, bytes("b"))), "b");
    gate.releaseAll();
    await Promise.all(held);
    await a.close();
    await b.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("limits: maxConnections refuses further connections at accept, without a byte", async () => {
  const ts = startTestServer({ maxConnections: 2 });
  try {
    const a = await connectClient(ts);
    const b = await RawPeer.open(ts.port, { psk: ts.psk });
    const c = await RawPeer.connect(ts.port);
    assert.equal(await c.closedWithoutAByte(), true);
    await c.close();
    await assert.rejects(connectClient(ts));
    await pollUntil(() => ts.server.stats().connectionsRefused === 2, "2 refusals");
    assert.equal(
      ts.server.stats().handshakes.ok,
      2,
      "refused connections never reached the handshake",
    );
    // Existing sessions are fine; a slot frees up when one closes.
    assert.equal(text(await a.request(0x20, bytes("a"))), "a");
    await b.close();
    await pollUntil(() => ts.server.stats().connectionsActive === 1, "b gone");
    const d = await connectClient(ts);
    assert.equal(text(await d.request(0x20, bytes("d"))), "d");
    await a.close();
    await d.close();
  } finally {
    await ts.close();
  }
});

Deno.test("limits: a connection still in its handshake counts against maxConnections", async () => {
  const ts = startTestServer({ maxConnections: 1, handshakeTimeoutMs: 300 });
  try {
    const idle = await RawPeer.connect(ts.port); // never sends
    await pollUntil(() => ts.server.stats().connectionsAccepted === 1, "accepted");
    const c = await RawPeer.connect(ts.port);
    assert.equal(await c.closedWithoutAByte(), true);
    await c.close();
    assert.equal(await idle.closedWithoutAByte(2_000), true, "handshake deadline");
    await idle.close();
    await pollUntil(() => ts.server.stats().connectionsActive === 0, "slot freed");
    const s = await connectClient(ts);
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("limits: maxConnectionsPerIp refuses a third connection from 127.0.0.1, not one from 127.0.0.2", async () => {
  const ts = startTestServer({ maxConnectionsPerIp: 2 });
  try {
    const a = await connectClient(ts);
    const b = await connectClient(ts);
    const c = await RawPeer.connect(ts.port);
    assert.equal(await c.closedWithoutAByte(), true);
    await c.close();
    await pollUntil(() => ts.server.stats().connectionsRefused === 1, "refusal counted");
    // Another address has its own count.
    const other = await RawPeer.open(ts.port, { psk: ts.psk }, { localAddress: "127.0.0.2" });
    await other.send(0x20, 1, bytes("from .2"));
    assert.equal(text((await other.readReply())!.payload), "from .2");
    assert.deepEqual(ts.server.sessions().map((s) => s.remoteAddr).sort(), [
      "127.0.0.1",
      "127.0.0.1",
      "127.0.0.2",
    ]);
    await other.close();
    await a.close();
    await pollUntil(() => ts.server.stats().connectionsActive === 1, "a gone");
    const d = await connectClient(ts);
    await d.close();
    await b.close();
  } finally {
    await ts.close();
  }
});

Deno.test("limits: allow-listed addresses are not subject to maxConnectionsPerIp", async () => {
  const ts = startTestServer({ maxConnectionsPerIp: 1, ipWhitelist: ["127.0.0.1"] });
  try {
    const sessions = await Promise.all([1, 2, 3].map(() => connectClient(ts)));
    assert.equal(ts.server.stats().connectionsRefused, 0);
    // 127.0.0.2 is not on the list: its second connection is refused.
    const x = await RawPeer.open(ts.port, { psk: ts.psk }, { localAddress: "127.0.0.2" });
    const y = await RawPeer.connect(ts.port, { localAddress: "127.0.0.2" });
    assert.equal(await y.closedWithoutAByte(), true);
    await y.close();
    await x.close();
    for (const s of sessions) await s.close();
  } finally {
    await ts.close();
  }
});

/** One failed handshake (wrong key) from `localAddress`; asserts the silent close. */
async function failHandshake(ts: TestServer, localAddress?: string): Promise<void> {
  const p = await RawPeer.connect(ts.port, { localAddress });
  try {
    const hs = await startClientHandshake(ts.backend, {
      psk: randomPsk(),
      timestampMs: Date.now(),
    });
    await p.write(hs.clientHello);
    assert.equal(await p.closedWithoutAByte(), true);
  } finally {
    await p.close();
  }
}

Deno.test("limits: after handshakeFailureLimit failures an address is refused at accept; others are not", async () => {
  const ts = startTestServer({ handshakeFailureLimit: 3 });
  try {
    const before = await connectClient(ts);
    for (let i = 0; i < 3; i++) await failHandshake(ts);
    await pollUntil(() => ts.server.stats().handshakes.decrypt === 3, "3 failures recorded");
    // A perfectly valid client from 127.0.0.1 is now closed at accept, before any byte is read.
    for (let i = 0; i < 2; i++) {
      const p = await RawPeer.connect(ts.port);
      const hs = await startClientHandshake(ts.backend, { psk: ts.psk, timestampMs: Date.now() });
      await p.write(hs.clientHello).catch(() => {}); // may already be closed
      assert.equal(await p.closedWithoutAByte(), true);
      await p.close();
    }
    await assert.rejects(connectClient(ts));
    await pollUntil(() => ts.server.stats().connectionsRefused === 3, "3 refusals");
    assert.equal(ts.server.stats().handshakes.ok, 1, "refused before the handshake");
    assert.equal(ts.server.stats().handshakes.decrypt, 3);
    // An established session is not cut off by the ban.
    assert.equal(text(await before.request(0x20, bytes("still"))), "still");
    // Another address is unaffected.
    const other = await RawPeer.open(ts.port, { psk: ts.psk }, { localAddress: "127.0.0.2" });
    await other.send(0x20, 1, bytes("other"));
    assert.equal(text((await other.readReply())!.payload), "other");
    await other.close();
    await before.close();
  } finally {
    await ts.close();
  }
});

Deno.test("limits: failures below handshakeFailureLimit do not refuse", async () => {
  const ts = startTestServer({ handshakeFailureLimit: 3 });
  try {
    for (let i = 0; i < 2; i++) await failHandshake(ts);
    await pollUntil(() => ts.server.stats().handshakes.decrypt === 2, "2 failures");
    const s = await connectClient(ts);
    await s.close();
    assert.equal(ts.server.stats().connectionsRefused, 0);
  } finally {
    await ts.close();
  }
});

Deno.test("limits: framing garbage and handshake timeouts count as failures too", async () => {
  const ts = startTestServer({ handshakeFailureLimit: 2, handshakeTimeoutMs: 150 });
  try {
    const g = await RawPeer.connect(ts.port);
    await g.write(bytes("garbage!"));
    assert.equal(await g.closedWithoutAByte(), true);
    await g.close();
    const t = await RawPeer.connect(ts.port);
    assert.equal(await t.closedWithoutAByte(), true);
    await t.close();
    await pollUntil(() => ts.server.stats().handshakes.timeout === 1, "timeout recorded");
    const r = await RawPeer.connect(ts.port);
    assert.equal(await r.closedWithoutAByte(), true);
    await r.close();
    await pollUntil(() => ts.server.stats().connectionsRefused === 1, "refused");
  } finally {
    await ts.close();
  }
});

Deno.test("limits: with ipWhitelist 127.0.0.0/8 handshake failures never lead to refusal", async () => {
  const ts = startTestServer({ handshakeFailureLimit: 2, ipWhitelist: ["127.0.0.0/8"] });
  try {
    for (let i = 0; i < 5; i++) await failHandshake(ts);
    for (let i = 0; i < 3; i++) await failHandshake(ts, "127.0.0.2");
    await pollUntil(() => ts.server.stats().handshakes.decrypt === 8, "8 failures");
    const s = await connectClient(ts);
    assert.equal(text(await s.request(0x20, bytes("ok"))), "ok");
    await s.close();
    const other = await RawPeer.open(ts.port, { psk: ts.psk }, { localAddress: "127.0.0.2" });
    await other.close();
    assert.equal(ts.server.stats().connectionsRefused, 0);
  } finally {
    await ts.close();
  }
});

/**
 * A raw session that requests `size`-byte echoes as fast as it can and never
 * reads; resolves with the bytes written when a write fails.
 */
function floodWithoutReading(p: RawPeer, size: number, maxBytes = 200_000_000): Promise<number> {
  p.pauseReading();
  const payload = new Uint8Array(size);
  return (async () => {
    let sent = 0;
    try {
      for (let id = 1; sent < maxBytes; id += 2) {
        await p.send(0x20, id, payload);
        sent += size;
      }
    } catch { /* the server hung up, or we closed */ }
    return sent;
  })();
}

for (const size of [MAX_PAYLOAD_BYTES, 30_000, 1_000]) {
  Deno.test(`limits: a peer that stops reading while requesting ${size}-byte echoes is disconnected (small send queue)`, async () => {
    const ts = startTestServer({ maxSendQueueBytes: 8 * 1024 });
    try {
      const healthy = await connectClient(ts);
      const p = await RawPeer.open(ts.port, { psk: ts.psk });
      const writer = floodWithoutReading(p, size);
      await pollUntil(
        () => ts.server.stats().slowConsumerDisconnects >= 1,
        "slow consumer disconnect",
        { timeoutMs: 5_000 },
      );
      await pollUntil(() => ts.server.stats().sessionsActive === 1, "flooder gone");
      await p.close();
      assert.ok((await writer) > 0);
      // The healthy session was not affected.
      assert.equal(text(await healthy.request(0x20, bytes("fine"))), "fine");
      assert.equal(ts.server.stats().slowConsumerDisconnects, 1);
      await healthy.close();
    } finally {
      await ts.close();
    }
  });
}

Deno.test({
  name:
    "limits: with the default 4 MiB send queue, a peer that stops reading is disconnected after sendStallTimeoutMs",
  // Backpressure stops the server reading a peer whose output is stuck, so the
  // queue stays near its 64 KiB high-water mark; the write stall guard is what
  // disconnects it.
  fn: async () => {
    const ts = startTestServer({ sendStallTimeoutMs: 300 }); // maxSendQueueBytes: default 4 MiB
    try {
      const p = await RawPeer.open(ts.port, { psk: ts.psk });
      const writer = floodWithoutReading(p, MAX_PAYLOAD_BYTES, 60_000_000);
      await pollUntil(
        () => ts.server.stats().slowConsumerDisconnects >= 1,
        "slow consumer disconnect",
        { timeoutMs: 5_000 },
      );
      await p.close();
      await writer;
    } finally {
      await ts.close();
    }
  },
});

Deno.test("limits: an Error 5 from the in-flight limit is decodable on the wire", async () => {
  const ts = startTestServer({ maxInFlightPerSession: 1 });
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    await p.send(0x40, 1, bytes("hold"));
    await gate.waitStarted("hold");
    await p.send(0x40, 3, bytes("more"));
    const m = await p.readReply();
    assert.equal(m?.requestId, 3);
    const e = errorOf(m);
    assert.equal(e.code, 5);
    assert.ok(e.retryAfterMs > 0);
    gate.releaseAll();
    const r = await p.readReply();
    assert.equal(r?.requestId, 1);
    await p.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("limits: a handshake-failure refusal ends after its window (manual clock)", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startTestServer({ handshakeFailureLimit: 2, clock });
  try {
    for (let i = 0; i < 2; i++) await failHandshake(ts);
    await pollUntil(() => ts.server.stats().handshakes.decrypt === 2, "2 failures");
    const refused = await RawPeer.connect(ts.port);
    assert.equal(await refused.closedWithoutAByte(), true);
    await refused.close();
    assert.equal(ts.server.stats().connectionsRefused, 1);
    clock.advance(59_000);
    const still = await RawPeer.connect(ts.port);
    assert.equal(await still.closedWithoutAByte(), true, "still refused within the minute");
    await still.close();
    clock.advance(1_001);
    const p = await RawPeer.open(ts.port, { psk: ts.psk, timestampMs: clock.now() });
    await p.send(0x20, 1, bytes("welcome back"));
    assert.equal(text((await p.readReply())!.payload), "welcome back");
    await p.close();
  } finally {
    await ts.close();
  }
});
