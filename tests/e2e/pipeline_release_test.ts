/**
 * An idle session's stream pipeline is released after
 * `pipelineReleaseAfterMs` and rebuilt by the next frame in either direction,
 * over real loopback TCP. The server runs on a ManualClock, so "idle for a
 * second" is `clock.advance(1_000)`, not a sleep; the peers use real time.
 * The frames that cross a release prove the transport state (nonces, keys)
 * survives it: one wrong nonce and the peer's MAC check closes the session.
 */
import assert from "node:assert/strict";
import { PacketType } from "../../src/protocol/mod.ts";
import type { ServerConnection } from "../../src/server/mod.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { goAwayOf, RawPeer } from "../_helpers/raw_peer.ts";
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

const RELEASE_MS = 1_000;

function startServer(clock: ManualClock, release = RELEASE_MS): TestServer {
  return startTestServer({ clock, pipelineReleaseAfterMs: release });
}

async function onlySession(ts: TestServer): Promise<ServerConnection> {
  await pollUntil(() => ts.server.sessions().length === 1, "one session");
  return ts.server.sessions()[0];
}

// The sweep runs on the manual clock every RELEASE_MS / 2; two half steps
// make sure one sweep sees the session idle for the whole period.
function idle(clock: ManualClock, ms = RELEASE_MS): void {
  clock.advance(ms / 2);
  clock.advance(ms / 2);
  clock.advance(ms / 2);
}

// A raw peer whose session has answered one Echo and then released its pipeline.
async function releasedRawSession(ts: TestServer, clock: ManualClock) {
  const p = await RawPeer.open(ts.port, { psk: ts.psk });
  const conn = await onlySession(ts);
  await p.send(0x20, 1, bytes("x"));
  assert.equal(text((await p.readReply())!.payload), "x");
  idle(clock);
  await pollUntil(() => !conn.hasPipeline, "release");
  return { p, conn };
}

Deno.test("pipeline release: an idle session's pipeline is released and every later request rebuilds it", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startServer(clock);
  try {
    const s = await connectClient(ts);
    const conn = await onlySession(ts);
    assert.equal(text(await s.request(0x20, bytes("first"))), "first");
    assert.equal(conn.hasPipeline, true);
    for (let i = 0; i < 5; i++) {
      idle(clock);
      await pollUntil(() => !conn.hasPipeline, `release ${i}`);
      assert.equal(text(await s.request(0x20, bytes(`after release ${i}`))), `after release ${i}`);
      assert.equal(conn.hasPipeline, true);
    }
    assert.equal(await s.ping() >= 0, true, "Ping/Pong after the releases");
    const st = ts.server.stats();
    assert.equal(st.transportFailures, 0);
    assert.equal(st.requests, 6);
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("pipeline release: not while a request is in flight, nor before the idle period", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startServer(clock);
  const gate = new Gate();
  gated(ts, 0x30, gate);
  try {
    const s = await connectClient(ts);
    const conn = await onlySession(ts);
    const reply = s.request(0x30, bytes("slow"));
    await gate.waitStarted("slow");
    idle(clock, 5 * RELEASE_MS);
    assert.equal(conn.hasPipeline, true, "kept while the handler runs");
    gate.release("slow");
    assert.equal(text(await reply), "slow");
    clock.advance(RELEASE_MS / 2);
    assert.equal(conn.hasPipeline, true, "kept before a whole idle period");
    idle(clock);
    await pollUntil(() => !conn.hasPipeline, "release after the reply");
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("pipeline release: 0 keeps the pipeline for the whole session", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startServer(clock, 0);
  try {
    const s = await connectClient(ts);
    const conn = await onlySession(ts);
    await s.request(0x20, bytes("x"));
    idle(clock, 10_000);
    await new Promise((r) => setTimeout(r, 20)); // let a (wrong) release run if one started
    assert.equal(conn.hasPipeline, true);
    assert.equal(text(await s.request(0x20, bytes("y"))), "y");
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("pipeline release: a released session still gets its Heartbeat, with the right nonce", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startTestServer({
    clock,
    pipelineReleaseAfterMs: RELEASE_MS,
    heartbeatIntervalMs: 4 * RELEASE_MS,
    idleTimeoutMs: 60_000,
  });
  try {
    const p = await RawPeer.open(ts.port, { psk: ts.psk });
    const conn = await onlySession(ts);
    await p.send(0x20, 1, bytes("one"));
    assert.equal(text((await p.readReply())!.payload), "one");
    idle(clock);
    await pollUntil(() => !conn.hasPipeline, "release");
    clock.advance(4 * RELEASE_MS); // heartbeat due: the server sends it through a new pipeline
    const hb = await p.readMessage();
    assert.equal(hb?.type, PacketType.Heartbeat);
    await p.send(0x20, 3, bytes("two"));
    const r = await p.readReply();
    assert.equal(r?.requestId, 3);
    assert.equal(text(r!.payload), "two");
    assert.equal(ts.server.stats().transportFailures, 0);
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("pipeline release: shutdown sends GoAway 2 to a released session and closes it", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startServer(clock);
  try {
    const { p } = await releasedRawSession(ts, clock);
    const down = ts.server.shutdown();
    const rest = await p.readUntilClosed();
    assert.equal(rest.length, 1);
    assert.equal(goAwayOf(rest[0]).reason, 2);
    await down;
    await p.close();
  } finally {
    await ts.close();
  }
});

Deno.test("pipeline release: a released session closes cleanly when the peer half-closes", async () => {
  const clock = new ManualClock(Date.now());
  const ts = startServer(clock);
  try {
    const { p, conn } = await releasedRawSession(ts, clock);
    await p.closeWrite();
    assert.deepEqual(await p.readUntilClosed(), []);
    await conn.done;
    assert.equal(ts.server.stats().sessionsActive, 0);
    await p.close();
  } finally {
    await ts.close();
  }
});
