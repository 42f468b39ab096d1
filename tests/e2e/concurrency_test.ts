/**
 * Many sessions and many requests at once over real loopback TCP: request-id
 * multiplexing, replies out of order, and the server's books balancing after.
 */
import assert from "node:assert/strict";
import { LimitError } from "../../src/errors.ts";
import type { ClientSession } from "../../src/client/mod.ts";
import {
  bytes,
  connectClient,
  Gate,
  gated,
  pollUntil,
  startTestServer,
  text,
} from "../_helpers/test_server.ts";

Deno.test("concurrency: 200 concurrent sessions × 10 echoes, all correct; sessionsActive returns to 0", async () => {
  const ts = startTestServer();
  try {
    const sessions: ClientSession[] = [];
    // Connect in waves so the listen backlog never overflows (SYN retries cost 1 s).
    for (let wave = 0; wave < 4; wave++) {
      sessions.push(...await Promise.all(Array.from({ length: 50 }, () => connectClient(ts))));
    }
    assert.equal(sessions.length, 200);
    assert.equal(ts.server.stats().sessionsActive, 200);
    assert.equal(
      new Set(sessions.map((s) => s.details!.sessionId)).size,
      200,
      "distinct session ids",
    );

    await Promise.all(sessions.map(async (s, i) => {
      const replies = await Promise.all(
        Array.from(
          { length: 10 },
          (_, j) => s.request(0x20, bytes(`s${i}-r${j}-${"x".repeat((i * 10 + j) % 300)}`)),
        ),
      );
      replies.forEach((r, j) =>
        assert.equal(text(r), `s${i}-r${j}-${"x".repeat((i * 10 + j) % 300)}`)
      );
    }));
    assert.equal(ts.server.stats().requests, 2_000);

    await Promise.all(sessions.map((s) => s.close()));
    await pollUntil(
      () => ts.server.stats().sessionsActive === 0,
      "all sessions closed on the server",
    );
    await pollUntil(() => ts.server.stats().connectionsActive === 0, "all connections closed");
    const st = ts.server.stats();
    assert.equal(st.handshakes.ok, 200);
    assert.equal(st.transportFailures, 0);
    assert.equal(st.protocolViolations, 0);
    assert.equal(st.connectionsRefused, 0);
  } finally {
    await ts.close();
  }
});

Deno.test("concurrency: 1 000 pipelined requests of mixed sizes on one session come back matched by id", async () => {
  const ts = startTestServer();
  try {
    const s = await connectClient(ts);
    const payloads = Array.from({ length: 1_000 }, (_, i) => {
      const b = new Uint8Array((i * 7919) % 5_000);
      b.fill(i & 0xff);
      if (b.length >= 4) new DataView(b.buffer).setUint32(0, i);
      return b;
    });
    const replies = await Promise.all(payloads.map((p) => s.request(0x20, p)));
    replies.forEach((r, i) => assert.deepEqual(r, payloads[i], `reply ${i}`));
    await s.close();
  } finally {
    await ts.close();
  }
});

Deno.test("concurrency: a slow request does not hold back later fast ones on the same session", async () => {
  const ts = startTestServer();
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const s = await connectClient(ts);
    const order: string[] = [];
    const slow = s.request(0x40, bytes("slow")).then((r) => order.push(text(r)));
    await gate.waitStarted("slow");
    for (let i = 0; i < 5; i++) {
      order.push(text(await s.request(0x20, bytes(`fast${i}`))));
    }
    gate.release("slow");
    await slow;
    assert.deepEqual(order, ["fast0", "fast1", "fast2", "fast3", "fast4", "slow"]);
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("concurrency: the client's own maxInFlight refuses extra requests locally", async () => {
  const ts = startTestServer();
  const gate = new Gate();
  gated(ts, 0x40, gate);
  try {
    const s = await connectClient(ts, { maxInFlight: 3 });
    const held = ["a", "b", "c"].map((l) => s.request(0x40, bytes(l)));
    await pollUntil(() => gate.started.length === 3, "3 running");
    await assert.rejects(
      s.request(0x20, bytes("d")),
      (e: unknown) => e instanceof LimitError && e.code === "TOO_MANY_IN_FLIGHT",
    );
    assert.equal(ts.server.stats().requests, 3, "the refused request never left");
    gate.releaseAll();
    await Promise.all(held);
    await s.close();
  } finally {
    gate.releaseAll();
    await ts.close();
  }
});

Deno.test("concurrency: 50 sessions rekeying at different rates while pinging and echoing", async () => {
  const ts = startTestServer({ rekeyAfterFrames: 7 });
  try {
    const sessions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => connectClient(ts, { rekeyAfterFrames: 3 + (i % 5) })),
    );
    await Promise.all(sessions.map(async (s, i) => {
      for (let j = 0; j < 8; j++) {
        if (j % 3 === 0) assert.ok((await s.ping()) >= 0);
        assert.equal(text(await s.request(0x20, bytes(`${i}:${j}`))), `${i}:${j}`);
      }
    }));
    await Promise.all(sessions.map((s) => s.close()));
    await pollUntil(() => ts.server.stats().sessionsActive === 0, "all closed");
    assert.equal(ts.server.stats().transportFailures, 0);
  } finally {
    await ts.close();
  }
});
