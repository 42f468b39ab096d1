import assert from "node:assert/strict";
import { CONFIG_DEFAULTS } from "../../../src/config/mod.ts";
import { Database } from "../../../src/db/mod.ts";
import { databaseCheck, HealthMonitor } from "../../../src/monitor/health/mod.ts";
import { ManualClock } from "../../../src/util/mod.ts";
import { databaseFor, dbTest } from "../../_helpers/db_targets.ts";

const signal = () => new AbortController().signal;

/** A port nothing listens on (bound, then released). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** A Database whose server is not running. */
function stoppedDatabase(): Database {
  return new Database({
    url: `postgres://postgres@127.0.0.1:${closedPort()}/none`,
    database: { ...CONFIG_DEFAULTS.database, connectionTimeoutMs: 2_000, acquireTimeoutMs: 2_000 },
    cache: CONFIG_DEFAULTS.cache,
    orm: CONFIG_DEFAULTS.orm,
    maxConnections: 1,
  });
}

dbTest("databaseCheck is healthy against a running database, with the round trip", async (t) => {
  const db = databaseFor(t);
  try {
    const monitor = new HealthMonitor({ clock: new ManualClock() });
    monitor.register(databaseCheck({ database: db }));
    const [r] = await monitor.run();
    assert.equal(r.status, "healthy", r.message);
    assert.equal(typeof r.details?.roundTripMs, "number");
    assert.equal((await monitor.ready()).status, "healthy");
  } finally {
    await db.close();
  }
});

dbTest("databaseCheck is degraded when the round trip reaches degradedMs", async (t) => {
  const db = databaseFor(t);
  try {
    const outcome = await databaseCheck({ database: db, degradedMs: 0 }).run(signal());
    assert.equal(outcome.status, "degraded");
    assert.match(outcome.message!, /round trip .* ms ≥ 0 ms/);
  } finally {
    await db.close();
  }
});

Deno.test({
  name:
    "databaseCheck against a stopped database is unhealthy, then backs off exponentially without contacting it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = stoppedDatabase();
    const clock = new ManualClock();
    let pings = 0;
    const counted = {
      ping: () => {
        pings++;
        return db.ping();
      },
    };
    try {
      const monitor = new HealthMonitor({ clock });
      monitor.register(
        databaseCheck({ database: counted, clock, backoffBaseMs: 1_000, ttlMs: 0 }),
      );
      const [first] = await monitor.run();
      assert.equal(first.status, "unhealthy");
      assert.match(first.message!, /^database unreachable: /);
      assert.equal(first.details?.consecutiveFailures, 1);
      assert.equal(first.details?.retryInMs, 1_000);
      assert.equal(pings, 1);
      assert.equal((await monitor.ready()).status, "unhealthy");
      assert.equal(pings, 1, "readiness during the backoff does not ping");

      clock.advance(999);
      const [skipped] = await monitor.run();
      assert.equal(pings, 1);
      assert.equal(skipped.status, "unhealthy");
      assert.equal(skipped.message, first.message);
      assert.equal(skipped.details?.backingOff, true);
      assert.equal(skipped.details?.retryInMs, 1);

      clock.advance(1); // 1 s elapsed: the next attempt goes out
      const [second] = await monitor.run();
      assert.equal(pings, 2);
      assert.equal(second.details?.consecutiveFailures, 2);
      assert.equal(second.details?.retryInMs, 2_000);

      clock.advance(1_999);
      await monitor.run();
      assert.equal(pings, 2);
      clock.advance(1);
      const [third] = await monitor.run();
      assert.equal(pings, 3);
      assert.equal(third.details?.retryInMs, 4_000);
    } finally {
      await db.close();
    }
  },
});

Deno.test("databaseCheck caps the backoff at backoffMaxMs and resets it on success", async () => {
  const clock = new ManualClock();
  let up = false;
  let pings = 0;
  const check = databaseCheck({
    database: {
      ping: () => {
        pings++;
        return up ? Promise.resolve(1) : Promise.reject(new Error("ECONNREFUSED"));
      },
    },
    clock,
    backoffBaseMs: 100,
    backoffMaxMs: 300,
  });
  const delays: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    const o = await check.run(signal());
    delays.push(o.details?.retryInMs);
    clock.advance(o.details?.retryInMs as number);
  }
  assert.deepEqual(delays, [100, 200, 300, 300]);
  assert.equal(pings, 4);
  up = true;
  assert.equal((await check.run(signal())).status, "healthy");
  up = false;
  const again = await check.run(signal());
  assert.equal(again.details?.consecutiveFailures, 1);
  assert.equal(again.details?.retryInMs, 100, "a success reset the backoff");
});

Deno.test("databaseCheck counts a ping cut off by the runner's timeout as a failure", async () => {
  const clock = new ManualClock();
  const monitor = new HealthMonitor({ clock });
  let pings = 0;
  monitor.register(databaseCheck({
    database: {
      ping: () => {
        pings++;
        return new Promise<number>(() => {});
      },
    },
    clock,
    timeoutMs: 500,
    ttlMs: 0,
    backoffBaseMs: 1_000,
  }));
  const p = monitor.run();
  clock.advance(500);
  const [r] = await p;
  assert.equal(r.message, "timed out after 500 ms");
  const [next] = await monitor.run();
  assert.equal(pings, 1, "backing off after the timeout");
  assert.equal(next.details?.backingOff, true);
  assert.match(next.message!, /database unreachable: .*timed out/);
});

Deno.test("databaseCheck rejects an invalid backoff range", () => {
  assert.throws(
    () => databaseCheck({ database: { ping: () => Promise.resolve(1) }, backoffBaseMs: 0 }),
    RangeError,
  );
});
