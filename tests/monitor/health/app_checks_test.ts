import assert from "node:assert/strict";
import {
  apiCheck,
  HealthMonitor,
  ormCheck,
  type OrmStatsLike,
  serverCheck,
  type ServerStatsLike,
} from "../../../src/monitor/health/mod.ts";
import { ManualClock } from "../../../src/util/mod.ts";
import { databaseFor, dbTest, rawQuery } from "../../_helpers/db_targets.ts";
import { pollUntil, startTestServer } from "../../_helpers/test_server.ts";

const signal = () => new AbortController().signal;

// --- server -----------------------------------------------------------------

Deno.test("serverCheck is healthy on a running server and unhealthy once it shuts down", async () => {
  const ts = startTestServer();
  let closed = false;
  try {
    const check = serverCheck({
      stats: () => ts.server.stats(),
      shuttingDown: () => ts.server.shuttingDown,
    });
    const ok = await check.run(signal());
    assert.equal(ok.status, "healthy", ok.message);
    assert.equal(ok.details?.sessionsActive, 0);
    const done = ts.close();
    closed = true;
    const down = await check.run(signal());
    assert.equal(down.status, "unhealthy");
    assert.equal(down.message, "server shutting down");
    await done;
  } finally {
    if (!closed) await ts.close();
  }
});

Deno.test("serverCheck is degraded by real handshake failures since its last run", async () => {
  const ts = startTestServer();
  try {
    const check = serverCheck({ stats: () => ts.server.stats(), minHandshakes: 3 });
    assert.equal((await check.run(signal())).status, "healthy");
    for (let i = 0; i < 3; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: ts.port });
      await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      // The server closes silently (protocol-v1 §2); wait for the close.
      await conn.read(new Uint8Array(16)).catch(() => null);
      conn.close();
    }
    await pollUntil(() => {
      const hs = ts.server.stats().handshakes;
      return Object.entries(hs).reduce((n, [k, v]) => n + (k === "ok" ? 0 : v), 0) >= 3;
    }, "three failed handshakes");
    const o = await check.run(signal());
    assert.equal(o.status, "degraded");
    assert.match(o.message!, /100% of handshakes failed/);
    assert.equal(o.details?.handshakeFailures, 3);
    // Nothing new since: healthy again.
    assert.equal((await check.run(signal())).status, "healthy");
  } finally {
    await ts.close();
  }
});

Deno.test("serverCheck is degraded on shed requests and heartbeat timeouts per minute", async () => {
  const clock = new ManualClock();
  let s: ServerStatsLike = {
    connectionsActive: 1,
    sessionsActive: 1,
    handshakes: { ok: 1 },
    requests: 100,
    shed: 0,
    heartbeatTimeouts: 0,
  };
  const check = serverCheck({ stats: () => s, clock });
  assert.equal((await check.run(signal())).status, "healthy");
  s = { ...s, requests: 200, shed: 10 }; // 10 shed of 110
  clock.advance(60_000);
  const shed = await check.run(signal());
  assert.equal(shed.status, "degraded");
  assert.match(shed.message!, /9\.09% of requests shed/);
  s = { ...s, requests: 300, heartbeatTimeouts: 30 };
  clock.advance(30_000); // 30 in half a minute = 60/min
  const hb = await check.run(signal());
  assert.equal(hb.status, "degraded");
  assert.equal(hb.details?.heartbeatTimeoutsPerMinute, 60);
  s = { ...s, requests: 400, heartbeatTimeouts: 31 };
  clock.advance(60_000);
  assert.equal((await check.run(signal())).status, "healthy");
});

// --- orm --------------------------------------------------------------------

dbTest(
  "ormCheck reads a real Database: healthy with latency percentiles, then degraded by errors",
  async (t) => {
    const db = databaseFor(t);
    try {
      const check = ormCheck({
        stats: () => db.stats(),
        quantileMs: (op, p) => db.latencyQuantileMs(op, p),
        operations: ["raw"],
        minStatements: 5,
      });
      for (let i = 0; i < 5; i++) await db.execute(rawQuery("SELECT 1"));
      const ok = await check.run(signal());
      assert.equal(ok.status, "healthy", ok.message);
      const latency = ok.details?.latencyMs as Record<string, { p50: number; p95: number }>;
      assert.equal(typeof latency.raw.p95, "number");
      assert.ok(latency.raw.p50 <= latency.raw.p95);
      assert.equal(ok.details?.statements, 5);
      assert.equal(ok.details?.errorRate, 0);

      for (let i = 0; i < 5; i++) {
        await db.execute(rawQuery("SELECT * FROM somnytoo_no_such_table")).catch(() => {});
      }
      const bad = await check.run(signal());
      assert.equal(bad.status, "unhealthy", JSON.stringify(bad));
      assert.equal(bad.details?.errorRate, 1);
      assert.match(bad.message!, /100% of statements failed/);
    } finally {
      await db.close();
    }
  },
);

Deno.test("ormCheck grades pool saturation, waiting callers, slow p95 and cache hit ratio", async () => {
  let stats: OrmStatsLike = {
    pool: { max: 10, inUse: 2, waiting: 0 },
    cache: { hits: 90, misses: 10 },
    queries: { queries: [] },
  };
  let p95 = 10;
  const check = ormCheck({
    stats: () => stats,
    quantileMs: (_op, p) => (p === 0.95 ? p95 : 1),
    operations: ["select"],
    minCacheHitRatio: 0.5,
  });
  const ok = await check.run(signal());
  assert.equal(ok.status, "healthy", ok.message);
  assert.equal(ok.details?.cacheHitRatio, 0.9);
  stats = { ...stats, pool: { max: 10, inUse: 9, waiting: 0 } };
  const saturated = await check.run(signal());
  assert.equal(saturated.status, "degraded");
  assert.equal(saturated.message, "pool 90% in use");
  stats = { ...stats, pool: { max: 10, inUse: 10, waiting: 100 } };
  assert.equal((await check.run(signal())).status, "unhealthy");
  stats = { ...stats, pool: { max: 10, inUse: 1, waiting: 0 }, cache: { hits: 10, misses: 90 } };
  p95 = 500;
  const slow = await check.run(signal());
  assert.equal(slow.status, "degraded");
  assert.match(slow.message!, /slow: select p95 500 ms/);
  assert.match(slow.message!, /cache hit ratio 0\.1 < 0\.5/);
});

// --- api --------------------------------------------------------------------

function startApp(): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/health/live") return new Response('{"status":"pass"}');
    if (path === "/broken") return new Response("no", { status: 500 });
    return new Response("not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test("apiCheck is healthy when the app answers, unhealthy on an error status", async () => {
  const app = startApp();
  try {
    const ok = await apiCheck({ url: () => `${app.url}/health/live` }).run(signal());
    assert.equal(ok.status, "healthy", ok.message);
    assert.equal(ok.details?.httpStatus, 200);
    assert.equal(ok.details?.path, "/health/live");
    const broken = await apiCheck({ url: () => `${app.url}/broken` }).run(signal());
    assert.equal(broken.status, "unhealthy");
    assert.equal(broken.message, "API answered 500 on /broken");
    const slow = await apiCheck({ url: () => `${app.url}/health/live`, degradedMs: 0 })
      .run(signal());
    assert.equal(slow.status, "degraded");
  } finally {
    await app.close();
  }
});

Deno.test("apiCheck is unhealthy when nothing listens, healthy 'not serving' before a URL is known", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  let url: string | undefined;
  const monitor = new HealthMonitor({ clock: new ManualClock() });
  monitor.register(apiCheck({ url: () => url, ttlMs: 0 }));
  const [before] = await monitor.run();
  assert.equal(before.status, "healthy");
  assert.deepEqual(before.details, { serving: false });
  url = `http://127.0.0.1:${port}/health/live`;
  const [down] = await monitor.run();
  assert.equal(down.status, "unhealthy");
  assert.match(down.message!, /^API not answering: /);
  url = "not a url";
  assert.equal((await monitor.run())[0].message, "invalid API check URL");
});
