/**
 * Priority scheduling and shedding (protocol-v1 §4) over real loopback TCP:
 * one handler slot, a queue of two, and handlers of priority Low / Normal /
 * High that wait until the test releases them.
 */
import assert from "node:assert/strict";
import { type ClientSession, RemoteError } from "../../src/client/mod.ts";
import { Priority, WireErrorCode } from "../../src/protocol/mod.ts";
import { RawPeer } from "../_helpers/raw_peer.ts";
import {
  bytes,
  connectClient,
  Gate,
  pollUntil,
  startTestServer,
  type TestServer,
  text,
} from "../_helpers/test_server.ts";

const LOW = 0x30;
const NORMAL = 0x31;
const HIGH = 0x32;

function setup(): { ts: TestServer; gate: Gate } {
  const ts = startTestServer({ maxConcurrentHandlers: 1, maxQueuedRequests: 2 });
  const gate = new Gate();
  for (
    const [type, priority] of [[LOW, Priority.Low], [NORMAL, Priority.Normal], [
      HIGH,
      Priority.High,
    ]]
  ) {
    ts.server.dispatcher.register(type, async (ctx) => {
      await gate.wait(text(ctx.payload), ctx.signal);
      return ctx.payload;
    }, { priority: priority as Priority });
  }
  return { ts, gate };
}

/** Send a request and keep its outcome: the reply text, or the Error code and retry hint. */
function track(s: ClientSession, type: number, label: string) {
  const out: { done: boolean; reply?: string; code?: number; retryAfterMs?: number } = {
    done: false,
  };
  const promise = s.request(type, bytes(label), { retries: 0 }).then(
    (r) => {
      out.reply = text(r);
      out.done = true;
    },
    (e) => {
      if (!(e instanceof RemoteError)) throw e;
      out.code = e.wireCode;
      out.retryAfterMs = e.retryAfterMs;
      out.done = true;
    },
  );
  return { out, promise };
}

Deno.test("shedding: a High request evicts the newest queued Low (Error 5 + retry_after_ms) and runs before the other Low", async () => {
  const { ts, gate } = setup();
  try {
    const s = await connectClient(ts, { retries: 0 });
    const l1 = track(s, LOW, "L1");
    await gate.waitStarted("L1");
    const l2 = track(s, LOW, "L2");
    await pollUntil(() => ts.server.load.queued === 1, "L2 queued");
    const l3 = track(s, LOW, "L3");
    await pollUntil(() => ts.server.load.queued === 2, "L3 queued");
    assert.deepEqual(ts.server.load, { running: 1, queued: 2, shed: 0 });

    const h = track(s, HIGH, "H");
    await l3.promise;
    assert.equal(l3.out.code, WireErrorCode.Overloaded, "the newest Low is shed");
    assert.ok(l3.out.retryAfterMs! > 0, `retry_after_ms ${l3.out.retryAfterMs}`);
    assert.equal(l2.out.done, false, "the older Low is still queued");
    assert.deepEqual(ts.server.load, { running: 1, queued: 2, shed: 1 });

    gate.release("L1");
    await gate.waitStarted("H");
    assert.deepEqual(gate.started, ["L1", "H"], "High runs before the queued Low");
    gate.release("H");
    await gate.waitStarted("L2");
    gate.release("L2");
    await Promise.all([l1.promise, l2.promise, h.promise]);
    assert.deepEqual([l1.out.reply, h.out.reply, l2.out.reply], ["L1", "H", "L2"]);
    assert.deepEqual(gate.started, ["L1", "H", "L2"], "L3 never ran");
    assert.equal(ts.server.stats().shed, 1);
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shedding: with the queue full of High, a new Low (and Normal, and High) is shed at once", async () => {
  const { ts, gate } = setup();
  try {
    const s = await connectClient(ts, { retries: 0 });
    const h0 = track(s, HIGH, "H0");
    await gate.waitStarted("H0");
    const h1 = track(s, HIGH, "H1");
    const h2 = track(s, HIGH, "H2");
    await pollUntil(() => ts.server.load.queued === 2, "queue full of High");
    for (const [type, label] of [[LOW, "L"], [NORMAL, "N"], [HIGH, "H3"]] as const) {
      const t = track(s, type, label);
      await t.promise;
      assert.equal(t.out.code, WireErrorCode.Overloaded, `${label} shed`);
      assert.ok(t.out.retryAfterMs! > 0);
    }
    assert.equal(h1.out.done || h2.out.done, false, "queued High requests kept");
    gate.releaseAll();
    await Promise.all([h0.promise, h1.promise, h2.promise]);
    assert.deepEqual([h0.out.reply, h1.out.reply, h2.out.reply], ["H0", "H1", "H2"]);
    assert.deepEqual(gate.started, ["H0", "H1", "H2"]);
    assert.equal(ts.server.load.shed, 3);
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shedding: eviction takes the lowest priority first (Low before Normal), across sessions", async () => {
  const { ts, gate } = setup();
  try {
    const a = await connectClient(ts, { retries: 0 });
    const b = await connectClient(ts, { retries: 0 });
    const run = track(a, NORMAL, "N0");
    await gate.waitStarted("N0");
    const low = track(a, LOW, "L");
    const normal = track(a, NORMAL, "N1");
    await pollUntil(() => ts.server.load.queued === 2, "queue full");
    // Another session's High request evicts session a's Low, not its Normal.
    const high = track(b, HIGH, "H");
    await low.promise;
    assert.equal(low.out.code, 5);
    assert.equal(normal.out.done, false);
    // Now the queue is [N1, H]: a Normal evicts nothing (no Low left) and is shed.
    const n2 = track(b, NORMAL, "N2");
    await n2.promise;
    assert.equal(n2.out.code, 5);
    // A second High evicts the queued Normal.
    const h2 = track(b, HIGH, "H2");
    await normal.promise;
    assert.equal(normal.out.code, 5);
    gate.releaseAll();
    await Promise.all([run.promise, high.promise, h2.promise]);
    assert.deepEqual(gate.started, ["N0", "H", "H2"]);
    await a.close();
    await b.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shedding: Ping (Urgent) is answered while every handler slot and the queue are full", async () => {
  const { ts, gate } = setup();
  try {
    const s = await connectClient(ts, { retries: 0 });
    const held = [track(s, HIGH, "H0"), track(s, HIGH, "H1"), track(s, HIGH, "H2")];
    await gate.waitStarted("H0");
    await pollUntil(() => ts.server.load.queued === 2, "saturated");
    for (let i = 0; i < 5; i++) assert.ok((await s.ping(bytes(`p${i}`))) >= 0);
    // A server-initiated Ping is answered too.
    assert.ok((await ts.server.sessions()[0].ping()) >= 0);
    // Echo (Normal) cannot get in.
    await assert.rejects(
      s.request(0x20, bytes("echo")),
      (e: unknown) => e instanceof RemoteError && e.wireCode === 5,
    );
    assert.equal(held.some((h) => h.out.done), false);
    gate.releaseAll();
    await Promise.all(held.map((h) => h.promise));
    assert.equal(text(await s.request(0x20, bytes("echo"))), "echo");
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("shedding: a client with retries follows retry_after_ms and succeeds once there is room", async () => {
  const { ts, gate } = setup();
  try {
    const s = await connectClient(ts, { retries: 5 });
    const held = [track(s, HIGH, "H0"), track(s, HIGH, "H1"), track(s, HIGH, "H2")];
    await gate.waitStarted("H0");
    await pollUntil(() => ts.server.load.queued === 2, "saturated");
    const echo = s.request(0x20, bytes("eventually"));
    await pollUntil(() => ts.server.load.shed >= 1, "first attempt shed");
    gate.releaseAll();
    assert.equal(text(await echo), "eventually");
    await Promise.all(held.map((h) => h.promise));
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test({
  name:
    "shedding: queued requests of a session that has closed no longer take queue slots from live sessions",
  fn: async () => {
    const { ts, gate } = setup();
    try {
      const a = await connectClient(ts, { retries: 0 });
      const holder = track(a, NORMAL, "A1");
      await gate.waitStarted("A1");
      const b = await RawPeer.open(ts.port, { psk: ts.psk });
      await b.send(NORMAL, 1, bytes("B1"));
      await b.send(NORMAL, 3, bytes("B2"));
      await pollUntil(() => ts.server.load.queued === 2, "B's requests queued");
      // B's connection dies (a forged frame: closed at once, nothing answered).
      const forged = await b.seal(0x20, 5, bytes("x"));
      forged[forged.length - 1] ^= 1;
      await b.write(forged);
      await b.waitClosed();
      await b.close();
      await pollUntil(() => ts.server.stats().sessionsActive === 1, "B gone");
      const c = await connectClient(ts, { retries: 0 });
      const c1 = track(c, NORMAL, "C1");
      // C1 must wait for the slot, not be shed.
      await pollUntil(() => ts.server.stats().requests === 4, "C1 submitted");
      await c.ping(); // any Error for C1 would have arrived before the Pong
      assert.equal(c1.out.code, undefined, `C1 was shed with Error ${c1.out.code}`);
      assert.equal(ts.server.load.shed, 0);
      gate.releaseAll();
      await Promise.all([holder.promise, c1.promise]);
      assert.equal(c1.out.reply, "C1");
      assert.deepEqual(gate.started, ["A1", "C1"], "B's dead requests never ran");
      await a.close();
      await c.close();
    } finally {
      gate.releaseAll();
      await ts.close();
    }
  },
});
