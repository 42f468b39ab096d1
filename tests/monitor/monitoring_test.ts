/**
 * The assembled monitoring of a running server (what `serve` starts): its
 * HTTP endpoints over a real listener, fed by a real server, database,
 * security layer and sessions.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/mod.ts";
import { migrate } from "../../src/db/migrations.ts";
import { PROJECT_MIGRATIONS } from "../../src/db/migrations/mod.ts";
import { createRequestMetrics, type Monitoring, startMonitoring } from "../../src/monitor/mod.ts";
import { SecurityLayer } from "../../src/server/mod.ts";
import { databaseFor, dbTest } from "../_helpers/db_targets.ts";
import { connectClient, startTestServer, type TestServer } from "../_helpers/test_server.ts";
import { noopLogger } from "../../src/util/mod.ts";

const TOKEN = "a-long-enough-admin-token";

async function hasPromtool(): Promise<boolean> {
  try {
    return (await new Deno.Command("promtool", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output()).success;
  } catch {
    return false;
  }
}

dbTest("monitoring: health, metrics, report, admin and dashboard of a live server", async (t) => {
  const db = databaseFor(t, { maxConnections: 4 });
  await migrate(db, PROJECT_MIGRATIONS);
  const dataDir = await Deno.makeTempDir();
  const config = loadConfig({
    env: {
      PROMETHEUS_PORT: "0",
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      HMAC_SECRET_KEY: "ab".repeat(32),
    },
  });
  const security = new SecurityLayer({ security: config.security });
  const built: { ts?: TestServer; monitoring?: Monitoring } = {};
  const metrics = createRequestMetrics({
    server: () => built.ts?.server,
    database: db,
    security,
    health: () => built.monitoring?.health,
  });
  const ts = built.ts = startTestServer({ security, metrics: metrics.sink });
  const monitoring = built.monitoring = startMonitoring({
    config,
    server: ts.server,
    metrics,
    database: db,
    security,
    logger: noopLogger,
    version: "test",
  });
  const base = `http://127.0.0.1:${monitoring.listener.port}`;
  try {
    const c = await connectClient(ts);
    for (let i = 0; i < 20; i++) await c.request(0x20, new Uint8Array(32));

    const ready = await fetch(`${base}/health/ready`);
    assert.equal(ready.headers.get("content-type"), "application/health+json");
    const readyBody = await ready.json();
    assert.ok(["pass", "warn"].includes(readyBody.status), JSON.stringify(readyBody));
    assert.ok(Object.keys(readyBody.checks).some((k) => k.startsWith("database")));

    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^somnytoo_frames_total\{direction="in",type="echo"\} 20$/m);
    assert.match(text, /^somnytoo_health_status\{check="database"\} 1$/m);
    // The served exposition passes promtool (when the prometheus package is installed).
    if (await hasPromtool()) {
      const child = new Deno.Command("promtool", {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(text));
      await w.close();
      const out = await child.output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, said);
      assert.equal(said.trim(), "", said);
    }

    const report = await (await fetch(`${base}/report`)).json();
    assert.equal(report.metrics.sessions, 1);
    assert.ok(report.metrics.requests >= 20);
    assert.ok(
      report.metrics.latencyMs.p50 > 0 &&
        report.metrics.latencyMs.p99 >= report.metrics.latencyMs.p50,
    );
    assert.ok(!JSON.stringify(report).includes(TOKEN), "the admin token is never shown");
    assert.ok(!JSON.stringify(report).includes("ab".repeat(32)), "the HMAC key is never shown");

    assert.equal((await fetch(`${base}/admin/sessions`)).status, 401);
    const { sessions } = await (await fetch(`${base}/admin/sessions`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })).json();
    assert.equal(sessions.length, 1);
    const patched = await fetch(`${base}/admin/settings`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ "server.maxInFlightPerSession": 3 }),
    });
    assert.equal(patched.status, 200);
    assert.equal(ts.server.limits().maxInFlightPerSession, 3);

    assert.equal((await fetch(`${base}/dashboard`)).status, 200);

    // A threshold alert: more than 50 bans in force raises one, falling
    // below 40 (hysteresis) resolves it.
    const ips = Array.from({ length: 51 }, (_, i) => `198.51.100.${i + 1}`);
    for (const ip of ips) await security.ban(ip, { reason: "test", durationMs: 60_000 }, "test");
    monitoring.evaluateThresholds();
    const alertsOf = async (open: boolean) =>
      (await (await fetch(`${base}/admin/alerts?open=${open}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })).json()).alerts as { key: string }[];
    assert.ok((await alertsOf(true)).some((a) => a.key === "threshold:active_bans"));
    for (const ip of ips.slice(0, 20)) await security.unban(ip, "test");
    monitoring.evaluateThresholds();
    assert.ok(!(await alertsOf(true)).some((a) => a.key === "threshold:active_bans"));
    assert.ok((await alertsOf(false)).some((a) => a.key === "threshold:active_bans"), "resolved");

    // Shutting down: readiness fails at once.
    monitoring.setShuttingDown();
    const draining = await fetch(`${base}/health/ready`);
    assert.equal(draining.status, 503);
    await draining.body?.cancel();
    await c.close();
  } finally {
    await monitoring.close();
    await ts.close();
    await db.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
