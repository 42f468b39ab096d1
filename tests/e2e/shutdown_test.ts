/**
 * GoAway and graceful shutdown (protocol-v1 §4) over real loopback TCP:
 * server.shutdown() with requests in flight (answered, or Error 6 when the
 * grace period ends first), the client's view (onGoAway, GOAWAY errors),
 * refusal of new connections, and a client-initiated GoAway.
 */
import assert from "node:assert/strict";
import { NotSentError, RemoteError } from "../../src/client/mod.ts";
import { SessionError } from "../../src/errors.ts";
import { encodeGoAwayPayload, PacketType, WireErrorCode } from "../../src/protocol/mod.ts";
import { errorOf, goAwayOf, RawPeer } from "../_helpers/raw_peer.ts";
import {
  bytes,
  connectClient,
  Gate,
  pollUntil,
  startTestServer,
  type TestServer,
  type TestServerOptions,
  text,
} from "../_helpers/test_server.ts";

const SLOW = 0x40;

function setup(options: TestServerOptions = {}): { ts: TestServer; gate: Gate } {
  const ts = startTestServer(options);
  const gate = new Gate();
  ts.server.dispatcher.register(SLOW, async (ctx) => {
    await gate.wait(text(ctx.payload), ctx.signal);
    return ctx.payload;
  });
  return { ts, gate };
}

async function connectionRefused(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
    return false;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test("shutdown: in-flight requests are answered, the client sees GoAway 2, new requests fail with GOAWAY, new connections are refused", async () => {
  const { ts, gate } = setup({ goAwayGraceMs: 5_000 });
  try {
    const goAways: [number, string][] = [];
    const s = await connectClient(ts, { onGoAway: (r, m) => goAways.push([r, m]) });
    const other = await connectClient(ts);
    const inFlight = ["a", "b", "c"].map((l) => s.request(SLOW, bytes(l)));
    await pollUntil(() => gate.started.length === 3, "3 handlers running");

    let resolved = false;
    const shutdown = ts.server.shutdown().then(() => (resolved = true));
    assert.equal(ts.server.shuttingDown, true);
    await pollUntil(() => goAways.length === 1, "GoAway at the client");
    assert.equal(goAways[0][0], 2, "reason 2: server shutting down");
    // No new requests on this session.
    await assert.rejects(
      s.request(0x20, bytes("new")),
      (e: unknown) => e instanceof NotSentError && e.code === "GOAWAY",
    );
    assert.throws(
      () => s.send(0x20, bytes("new")),
      (e: unknown) => e instanceof SessionError && e.code === "GOAWAY",
    );
    // No new connections.
    assert.equal(await connectionRefused(ts.port), true);
    await assert.rejects(connectClient(ts));
    assert.equal(resolved, false, "shutdown waits for in-flight requests");

    gate.releaseAll();
    assert.deepEqual((await Promise.all(inFlight)).map(text), ["a", "b", "c"]);
    await shutdown;
    const info = await s.closed;
    assert.equal(info.cause, "goaway");
    assert.equal(info.goAwayReason, 2);
    assert.equal((await other.closed).goAwayReason, 2);
    assert.equal(ts.server.stats().connectionsActive, 0);
    assert.equal(ts.server.stats().sessionsActive, 0);
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shutdown: when goAwayGraceMs ends first, every in-flight request gets Error 6", async () => {
  const { ts, gate } = setup({ goAwayGraceMs: 150, maxConcurrentHandlers: 2 });
  try {
    const s = await connectClient(ts, { retries: 0 });
    // Two running and one queued behind them (maxConcurrentHandlers 2).
    const inFlight = ["a", "b", "c"].map((l) =>
      s.request(SLOW, bytes(l)).then(
        () => "reply",
        (e) => (e instanceof RemoteError ? e.wireCode : e),
      )
    );
    await pollUntil(
      () => gate.started.length === 2 && ts.server.load.queued === 1,
      "2 running, 1 queued",
    );
    const t0 = performance.now();
    await ts.server.shutdown();
    const elapsed = performance.now() - t0;
    assert.deepEqual(await Promise.all(inFlight), [6, 6, 6]);
    assert.ok(elapsed >= 140, `grace honoured: ${elapsed} ms`);
    assert.ok(elapsed < 2_000, `shutdown took ${elapsed} ms`);
    assert.equal(ts.server.stats().errorsSent["6"], 3);
    assert.deepEqual(gate.started, ["a", "b"], "the queued request never ran");
    assert.equal((await s.closed).goAwayReason, 2);
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shutdown: some requests finish within the grace, the rest get Error 6", async () => {
  const { ts, gate } = setup({ goAwayGraceMs: 300 });
  try {
    const s = await connectClient(ts, { retries: 0 });
    const inFlight = ["fast", "stuck"].map((l) =>
      s.request(SLOW, bytes(l)).then(text, (e) => (e instanceof RemoteError ? e.wireCode : e))
    );
    await pollUntil(() => gate.started.length === 2, "both running");
    const shutdown = ts.server.shutdown();
    gate.release("fast");
    await shutdown;
    assert.deepEqual(await Promise.all(inFlight), ["fast", 6]);
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shutdown: a raw peer sees GoAway 2 (id 0), new requests get Error 6, in-flight replies, then the close", async () => {
  const { ts, gate } = setup({ goAwayGraceMs: 5_000 });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    await p.send(SLOW, 1, bytes("held"));
    await gate.waitStarted("held");
    const shutdown = ts.server.shutdown();
    const g = await p.readReply();
    assert.equal(g?.requestId, 0);
    assert.equal(goAwayOf(g).reason, 2);
    // A peer that ignores the GoAway is refused, not served.
    await p.send(0x20, 3, bytes("late"));
    const late = await p.readReply();
    assert.equal(late?.requestId, 3);
    assert.equal(errorOf(late).code, WireErrorCode.ShuttingDown);
    // Pings are still answered while draining.
    await p.send(PacketType.Ping, 5, bytes("?"));
    assert.equal((await p.readReply())?.type, PacketType.Pong);
    gate.release("held");
    const rest = await p.readUntilClosed();
    assert.deepEqual(rest.map((m) => [m.type, m.requestId]), [[SLOW, 1]]);
    await p.close();
    await shutdown;
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shutdown: shutdownTimeoutMs forces the close when the grace period is longer", async () => {
  const { ts, gate } = setup({ goAwayGraceMs: 10_000, shutdownTimeoutMs: 200 });
  try {
    const s = await connectClient(ts, { retries: 0 });
    const r = s.request(SLOW, bytes("forever")).then(() => "reply", (e) => e);
    await gate.waitStarted("forever");
    const t0 = performance.now();
    await ts.server.shutdown();
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 190 && elapsed < 2_000, `forced after ${elapsed} ms`);
    const outcome = await r;
    assert.ok(outcome instanceof SessionError, `request outcome: ${outcome}`);
    await s.closed;
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shutdown: idle server, sessions and a half-open handshake all close; shutdown() is idempotent", async () => {
  const { ts, gate } = setup();
  try {
    const s = await connectClient(ts);
    const half = await RawPeer.connect(ts.port);
    await pollUntil(() => ts.server.stats().connectionsActive === 2, "2 connections");
    const a = ts.server.shutdown();
    const b = ts.server.shutdown();
    assert.equal(a, b);
    await a;
    assert.equal(
      await half.closedWithoutAByte(),
      true,
      "a connection mid-handshake closes silently",
    );
    await half.close();
    assert.equal((await s.closed).goAwayReason, 2);
    assert.equal(ts.server.stats().connectionsActive, 0);
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("goaway: a client close() with requests in flight lets them complete first", async () => {
  const { ts, gate } = setup();
  try {
    const s = await connectClient(ts);
    const inFlight = ["x", "y"].map((l) => s.request(SLOW, bytes(l)));
    await pollUntil(() => gate.started.length === 2, "both running");
    let closed = false;
    const closing = s.close().then(() => (closed = true));
    await pollUntil(
      () => ts.server.sessions()[0]?.state === "draining",
      "server draining after client GoAway",
    );
    await assert.rejects(
      s.request(0x20, bytes("no")),
      (e: unknown) => e instanceof SessionError && e.code === "GOAWAY" || e instanceof NotSentError,
    );
    assert.equal(closed, false);
    gate.releaseAll();
    assert.deepEqual((await Promise.all(inFlight)).map(text), ["x", "y"]);
    await closing;
    await pollUntil(() => ts.server.stats().sessionsActive === 0, "session gone on the server");
    assert.equal(ts.server.stats().protocolViolations, 0);
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test({
  name: 'goaway: after close() with requests in flight, closed reports cause "local"',
  fn: async () => {
    const { ts, gate } = setup();
    try {
      const s = await connectClient(ts);
      const inFlight = s.request(SLOW, bytes("x"));
      await gate.waitStarted("x");
      const closing = s.close();
      await pollUntil(() => ts.server.sessions()[0]?.state === "draining", "server draining");
      gate.releaseAll();
      assert.equal(text(await inFlight), "x");
      await closing;
      assert.equal((await s.closed).cause, "local");
    } finally {
      gate.releaseAll();
      await ts.close();
    }
  },
});

Deno.test("goaway: a raw client GoAway gets the server's GoAway 0, the in-flight reply, then the close", async () => {
  const { ts, gate } = setup();
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    await p.send(SLOW, 1, bytes("pending"));
    await gate.waitStarted("pending");
    await p.send(PacketType.GoAway, 0, encodeGoAwayPayload(0, "bye"));
    const g = await p.readReply();
    assert.equal(goAwayOf(g).reason, 0);
    gate.release("pending");
    const rest = await p.readUntilClosed();
    assert.deepEqual(rest.map((m) => [m.type, m.requestId, text(m.payload)]), [[
      SLOW,
      1,
      "pending",
    ]]);
    await p.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("goaway: a client close() with nothing in flight sends GoAway and the server closes at once", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts);
    assert.equal(text(await s.request(0x20, bytes("one"))), "one");
    await s.close();
    await pollUntil(() => ts.server.stats().connectionsActive === 0, "server side closed");
    assert.equal(ts.server.stats().transportFailures, 0);
    assert.equal(ts.server.stats().protocolViolations, 0);
  } finally {
    await ts.close();
  }
});
