/**
 * The monitoring HTTP sub-app over a real listener (127.0.0.1:0) with real
 * parts: a HealthMonitor, SomnyMetrics, an AlertManager, and (DB tests) a
 * SomnyServer with a live client session, a SecurityLayer with a
 * ReputationStore and an AuditLog on a real database.
 */

import assert from "node:assert/strict";
import { CONFIG_DEFAULTS, loadConfig, redactConfig } from "../../../src/config/mod.ts";
import { migrate } from "../../../src/db/migrations.ts";
import { IP_REPUTATION } from "../../../src/db/migrations/ip_reputation.ts";
import { SECURITY_AUDIT } from "../../../src/db/migrations/security_audit.ts";
import { AlertManager, HealthMonitor, SomnyMetrics } from "../../../src/monitor/mod.ts";
import type { MonitoringReport } from "../../../src/monitor/types.ts";
import {
  type AdminParts,
  createAdminBackend,
  createMonitoringApp,
  MAX_BODY_BYTES,
  type MonitoringAppDeps,
  type MonitoringServer,
  redactSecrets,
  startMonitoringServer,
} from "../../../src/monitor/http/mod.ts";
import { AuditLog, ReputationStore } from "../../../src/security/mod.ts";
import { SecurityLayer } from "../../../src/server/security_layer.ts";
import { timingSafeEqual } from "../../../src/util/mod.ts";
import { databaseFor, dbTest, rawQuery } from "../../_helpers/db_targets.ts";
import { connectClient, pollUntil, startTestServer } from "../../_helpers/test_server.ts";

const TOKEN = "test-admin-token-0123456789";
const FAKE_SECRET = "FAKE-SECRET-do-not-leak-7f3a";

interface Harness {
  readonly base: string;
  readonly health: HealthMonitor;
  readonly alerts: AlertManager;
  readonly metrics: SomnyMetrics;
  /** Flip the readiness check. */
  setReady(ok: boolean): void;
  readonly compares: Array<[number, number]>;
  readonly server: MonitoringServer;
  call(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

function harness(
  over: Partial<MonitoringAppDeps> = {},
  parts: Partial<AdminParts> = {},
): Harness {
  const health = new HealthMonitor();
  let ready = true;
  health.register({
    name: "heart",
    probes: ["liveness"],
    ttlMs: 0,
    run: () => ({ status: "healthy" }),
  });
  health.register({
    name: "database",
    ttlMs: 0,
    run: () =>
      ready
        ? { status: "healthy", details: { roundTripMs: 2 } }
        : { status: "unhealthy", message: "database unreachable" },
  });
  const metrics = new SomnyMetrics({ defaultMetrics: false });
  metrics.request(0x20, 0.002);
  const alerts = new AlertManager();
  const compares: Array<[number, number]> = [];
  // The raw (unredacted) config with secrets, plus a field only the guard catches.
  const raw = loadConfig({
    env: {
      ADMIN_TOKEN: TOKEN,
      DATABASE_URL: `postgres://app:${FAKE_SECRET}@db:5432/app`,
    },
  });
  const report = async (): Promise<MonitoringReport> => ({
    atMs: Date.now(),
    uptimeSeconds: 1,
    version: "0.1.0",
    health: await health.ready(),
    alerts: { open: alerts.list({ open: true }), recent: alerts.list({ open: false }) },
    metrics: {
      sessions: 0,
      connections: 0,
      requests: 1,
      errors: 0,
      shed: 0,
      latencyMs: { p50: null, p99: null },
      bans: 0,
      rateLimited: 0,
      dbPool: { inUse: 0, idle: 0, waiting: 0 },
      rssBytes: 1,
    },
    config: { ...redactConfig(raw), extra: { apiKey: FAKE_SECRET, sessionToken: FAKE_SECRET } },
  });
  let logLevel = "info";
  const admin = createAdminBackend({
    config: () => ({ ...redactConfig(raw), leakedPassword: FAKE_SECRET }),
    alerts,
    settings: {
      view: () => ({ logLevel }),
      update: (patch) => {
        const applied: string[] = [];
        const rejected: Record<string, string> = {};
        for (const [k, v] of Object.entries(patch)) {
          if (k === "logLevel" && typeof v === "string") {
            logLevel = v;
            applied.push(k);
          } else rejected[k] = "not reloadable";
        }
        return { applied, rejected };
      },
    },
    ...parts,
  });
  const app = createMonitoringApp({
    health,
    metrics,
    report,
    adminToken: TOKEN,
    admin,
    dashboardHtml: "<!doctype html><title>SomnyToo dashboard</title>",
    timingSafeEqualForTestingOnly: (a, b) => {
      compares.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    },
    ...over,
  });
  const server = startMonitoringServer(app, { host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    base,
    health,
    alerts,
    metrics,
    compares,
    server,
    setReady: (ok) => (ready = ok),
    call: (path, init = {}) => {
      const { token = TOKEN, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null) headers.set("authorization", `Bearer ${token}`);
      return fetch(base + path, { ...rest, headers });
    },
    close: () => server.close(),
  };
}

async function body(res: Response): Promise<Record<string, unknown>> {
  return await res.json() as Record<string, unknown>;
}

function post(value: unknown, method = "POST"): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
  };
}

Deno.test("listener: binds 127.0.0.1 on a free port; disabled starts nothing", async () => {
  const h = harness();
  try {
    assert.equal(h.server.running, true);
    assert.equal(h.server.hostname, "127.0.0.1");
    assert.ok(h.server.port > 0);
  } finally {
    await h.close();
  }
  const off = startMonitoringServer({ fetch: () => new Response() }, { enabled: false, port: 0 });
  assert.equal(off.running, false);
  assert.equal(off.port, 0);
  await off.close();
});

Deno.test("/health/live and /health/ready: IETF body, content type, no-store", async () => {
  const h = harness();
  try {
    const live = await h.call("/health/live", { token: null });
    assert.equal(live.status, 200);
    assert.equal(live.headers.get("content-type"), "application/health+json");
    assert.equal(live.headers.get("cache-control"), "no-store");
    const lb = await body(live);
    assert.equal(lb.status, "pass");
    assert.deepEqual(Object.keys(lb.checks as object), ["heart"], "liveness checks only");

    const ready = await h.call("/health/ready", { token: null });
    assert.equal(ready.status, 200);
    assert.equal(ready.headers.get("content-type"), "application/health+json");
    assert.equal(ready.headers.get("cache-control"), "no-store");
    const rb = await body(ready);
    assert.equal(rb.status, "pass");
    const db = (rb.checks as Record<string, Record<string, unknown>[]>)["database:responseTime"];
    assert.equal(db[0].status, "pass");
    assert.equal(db[0].observedValue, 2);
    assert.equal(db[0].observedUnit, "ms");
    assert.equal(typeof db[0].time, "string");
  } finally {
    await h.close();
  }
});

Deno.test("/health/ready: a failing readiness check → 503 with its output; live stays 200", async () => {
  const h = harness();
  try {
    h.setReady(false);
    const res = await h.call("/health/ready", { token: null });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "application/health+json");
    const b = await body(res);
    assert.equal(b.status, "fail");
    assert.match(String(b.output), /database: database unreachable/);
    const db = (b.checks as Record<string, Record<string, unknown>[]>)["database:responseTime"];
    assert.deepEqual([db[0].status, db[0].output], ["fail", "database unreachable"]);
    const live = await h.call("/health/live", { token: null });
    assert.equal(live.status, 200);
    await live.body?.cancel();
    h.setReady(true);
    const again = await h.call("/health/ready", { token: null });
    assert.equal(again.status, 200);
    await again.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("/metrics: Prometheus text with a known metric", async () => {
  const h = harness();
  try {
    const res = await h.call("/metrics", { token: null });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), h.metrics.contentType);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    assert.match(text, /^# TYPE somnytoo_request_duration_seconds histogram$/m);
    assert.match(text, /^somnytoo_request_duration_seconds_count\{type="echo"\} 1$/m);
  } finally {
    await h.close();
  }
});

Deno.test("/report: health, alerts, metrics and config with every secret redacted", async () => {
  const h = harness();
  try {
    h.alerts.raise({ key: "check:database", level: "error", title: "DB down", message: "x" });
    const res = await h.call("/report", { token: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const text = await res.text();
    assert.ok(!text.includes(FAKE_SECRET), "the fake secret never appears");
    assert.ok(!text.includes(TOKEN), "the admin token never appears");
    const b = JSON.parse(text) as MonitoringReport & {
      config: Record<string, Record<string, unknown>>;
    };
    assert.equal(b.health.status, "healthy");
    assert.equal(b.alerts.open[0].key, "check:database", "alert keys are kept");
    assert.equal(b.metrics.requests, 1);
    assert.equal(b.config.monitoring.adminToken, "[redacted]");
    assert.equal(b.config.database.url, "postgres://app:[redacted]@db:5432/app");
    assert.equal(b.config.extra.apiKey, "[redacted]");
    assert.equal(b.config.extra.sessionToken, "[redacted]");
    assert.equal(b.config.server.port, CONFIG_DEFAULTS.server.port, "the rest is shown");
  } finally {
    await h.close();
  }
});

Deno.test("/dashboard: served from the option, 404 without it", async () => {
  const h = harness();
  const none = harness({ dashboardHtml: undefined });
  try {
    const res = await h.call("/dashboard", { token: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await res.text(), /SomnyToo dashboard/);
    const missing = await none.call("/dashboard", { token: null });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await h.close();
    await none.close();
  }
});

Deno.test("admin: 401 without or with a wrong token, via a constant-time digest compare", async () => {
  const h = harness();
  try {
    for (
      const auth of [null, "", "Bearer", "Bearer wrong", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]
    ) {
      const headers: Record<string, string> = auth === null ? {} : { authorization: auth };
      const res = await fetch(`${h.base}/admin/config`, { headers });
      assert.equal(res.status, 401, `auth ${auth}`);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.deepEqual(await res.json(), { error: "Unauthorized" });
    }
    const ok = await h.call("/admin/config");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    // Every attempt compared two 32-byte SHA-256 digests, whatever the token's length.
    assert.ok(h.compares.length >= 7);
    assert.ok(h.compares.every(([a, b]) => a === 32 && b === 32));
    const bare = await h.call("/admin", { token: "nope" });
    assert.equal(bare.status, 401, "/admin itself is guarded");
    await bare.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("admin: no token configured → every /admin route is 404 'admin API disabled'", async () => {
  for (const token of [undefined, ""]) {
    const h = harness({ adminToken: token });
    try {
      for (
        const [path, method] of [["/admin/config", "GET"], ["/admin/bans", "POST"], [
          "/admin",
          "GET",
        ]]
      ) {
        const res = await h.call(path, { method, token: "anything" });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.deepEqual(await res.json(), { error: "admin API disabled" });
      }
      assert.equal(h.compares.length, 0, "nothing to compare against");
    } finally {
      await h.close();
    }
  }
});

Deno.test("admin: config is redacted; settings view and patch; bad bodies → 400 / 413", async () => {
  const h = harness();
  try {
    const cfg = await h.call("/admin/config");
    const text = await cfg.text();
    assert.equal(cfg.status, 200);
    assert.ok(!text.includes(FAKE_SECRET) && !text.includes(TOKEN));
    assert.equal(JSON.parse(text).leakedPassword, "[redacted]");

    assert.deepEqual(await body(await h.call("/admin/settings")), { logLevel: "info" });
    const patched = await h.call("/admin/settings", post({ logLevel: "debug", port: 1 }, "PATCH"));
    assert.equal(patched.status, 200);
    assert.deepEqual(await patched.json(), {
      applied: ["logLevel"],
      rejected: { port: "not reloadable" },
      settings: { logLevel: "debug" },
    });
    const put = await h.call("/admin/settings", post({ logLevel: "warn" }, "PUT"));
    assert.equal(put.status, 200);
    await put.body?.cancel();
    const none = await h.call("/admin/settings", post({ port: 1 }, "PATCH"));
    assert.equal(none.status, 400, "nothing applied");
    await none.body?.cancel();

    for (const bad of ["[1,2]", "null", "42", '"x"']) {
      const res = await h.call("/admin/settings", { method: "PATCH", body: bad });
      assert.equal(res.status, 400, bad);
      assert.deepEqual(await res.json(), { error: "Request body must be a JSON object" });
    }
    const notJson = await h.call("/admin/settings", { method: "PATCH", body: "{nope" });
    assert.equal(notJson.status, 400);
    assert.deepEqual(await notJson.json(), { error: "Request body must be JSON" });
    const empty = await h.call("/admin/bans", { method: "POST" });
    assert.equal(empty.status, 400);
    await empty.body?.cancel();

    const huge = JSON.stringify({ logLevel: "x".repeat(MAX_BODY_BYTES) });
    const tooBig = await h.call("/admin/settings", { method: "PATCH", body: huge });
    assert.equal(tooBig.status, 413);
    await tooBig.body?.cancel();
    // Streamed without a Content-Length: counted while read.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(8192).fill(0x20));
        c.close();
      },
    });
    const chunked = await h.call("/admin/settings", { method: "PATCH", body: stream });
    assert.equal(chunked.status, 413);
    await chunked.body?.cancel();
    assert.deepEqual(await body(await h.call("/admin/settings")), { logLevel: "warn" });
  } finally {
    await h.close();
  }
});

Deno.test("admin: alerts list (open filter) and acknowledge by admin-api", async () => {
  const h = harness();
  try {
    const a = h.alerts.raise({
      key: "check:disk",
      level: "warning",
      title: "Disk",
      message: "low",
    });
    h.alerts.raise({ key: "check:cpu", level: "info", title: "CPU", message: "busy" });
    h.alerts.resolve("check:cpu");
    const open = await body(await h.call("/admin/alerts?open=true"));
    assert.deepEqual((open.alerts as { id: string }[]).map((x) => x.id), [a.id]);
    const all = await body(await h.call("/admin/alerts"));
    assert.equal((all.alerts as unknown[]).length, 2);
    const bad = await h.call("/admin/alerts?open=maybe");
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    const ack = await h.call(`/admin/alerts/${a.id}/ack`, { method: "POST" });
    assert.equal(ack.status, 200);
    const acked = (await body(ack)).alert as { acknowledgedBy: string };
    assert.equal(acked.acknowledgedBy, "admin-api");
    assert.equal(h.alerts.get(a.id)?.acknowledgedBy, "admin-api");
    const unknown = await h.call("/admin/alerts/a-999/ack", { method: "POST" });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("admin: unknown errors → 500 with a generic message; missing parts → 404", async () => {
  const h = harness({}, {
    security: {
      ban: () => Promise.reject(new Error(`db password ${FAKE_SECRET} in an internal error`)),
      unban: () => Promise.resolve(false),
      addRule: () => Promise.resolve(undefined),
      removeRule: () => Promise.resolve(false),
      explain: () => Promise.resolve({}),
    },
  });
  try {
    const res = await h.call("/admin/bans", post({ ip: "192.0.2.1", reason: "x" }));
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), { error: "Internal error" });
    assert.ok(!text.includes(FAKE_SECRET));
    const verify = await h.call("/admin/audit/verify", { method: "POST" });
    assert.equal(verify.status, 404);
    assert.deepEqual(await verify.json(), { error: "audit log not configured" });
    const unknownRoute = await h.call("/admin/nothing-here");
    assert.equal(unknownRoute.status, 404);
    await unknownRoute.body?.cancel();
  } finally {
    await h.close();
  }
});

Deno.test("redactSecrets: names, URLs, nesting; identifiers and the bare key kept", () => {
  assert.deepEqual(
    redactSecrets({
      psks: { "": "k" },
      pskId: "client-a",
      key: "198.51.100.1",
      nested: [{ hmac_secret_key: "x", password: null, webhookUrl: "https://u:p@h/x" }],
      when: new Date(0),
    }),
    {
      psks: "[redacted]",
      pskId: "client-a",
      key: "198.51.100.1",
      nested: [{
        hmac_secret_key: "[redacted]",
        password: null,
        webhookUrl: "https://u:[redacted]@h/x",
      }],
      when: "1970-01-01T00:00:00.000Z",
    },
  );
});

dbTest(
  "admin end to end: sessions, bans, explain, rules, audit verify on real parts",
  async (t) => {
    const db = databaseFor(t, { maxConnections: 4 });
    await migrate(db, [SECURITY_AUDIT, IP_REPUTATION]);
    const reputation = new ReputationStore(db, { listen: false });
    await reputation.start();
    const audit = new AuditLog(db, {
      key: crypto.getRandomValues(new Uint8Array(32)),
      flushIntervalMs: 10,
    });
    const security = new SecurityLayer({ security: CONFIG_DEFAULTS.security, reputation, audit });
    const ts = startTestServer({ security });
    const client = await connectClient(ts);
    const h = harness({}, { sessions: ts.server, security, reputation, audit });
    try {
      // Sessions: list, then kick → the client session ends.
      const listed = await body(await h.call("/admin/sessions"));
      const sessions = listed.sessions as {
        id: string;
        remoteAddr: string;
        pskId: string;
        state: string;
        inFlight: number;
      }[];
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].remoteAddr, "127.0.0.1");
      assert.equal(sessions[0].pskId, "", "psk ids are identifiers, not redacted");
      assert.equal(sessions[0].state, "open");
      assert.equal(sessions[0].inFlight, 0);
      assert.match(sessions[0].id, /^[0-9a-f]+$/);
      const kicked = await h.call(`/admin/sessions/${sessions[0].id}`, { method: "DELETE" });
      assert.equal(kicked.status, 200);
      assert.deepEqual(await kicked.json(), { kicked: sessions[0].id });
      const closed = await client.closed;
      assert.ok(closed, "the client session ended");
      const again = await h.call(`/admin/sessions/${sessions[0].id}`, { method: "DELETE" });
      assert.equal(again.status, 404);
      await again.body?.cancel();
      await pollUntil(() => ts.server.sessions().length === 0, "session gone");

      // Bans: ban → listed → explain → unban.
      const ip = "198.51.100.77";
      const banned = await h.call(
        "/admin/bans",
        post({ ip, reason: "scanner", durationMs: 600_000 }),
      );
      assert.equal(banned.status, 201);
      const br = await body(banned);
      assert.equal(br.ip, ip);
      assert.equal((br.result as { applied: boolean }).applied, true);
      const bans = (await body(await h.call("/admin/bans"))).bans as {
        key: string;
        reason: string;
      }[];
      assert.ok(bans.some((b) => b.key === ip && b.reason === "scanner"), JSON.stringify(bans));
      const why = await body(await h.call(`/admin/explain/${ip}`));
      assert.equal(why.key, ip, "the tracking key is kept");
      assert.equal(why.admitted, false);
      assert.equal((why.decision as { kind: string }).kind, "TempBan");
      assert.equal((why.stored as { banned: boolean }).banned, true);
      const unbanned = await h.call(`/admin/bans/${ip}`, { method: "DELETE" });
      assert.equal(unbanned.status, 200);
      assert.deepEqual(await unbanned.json(), { unbanned: ip });
      const after = await body(await h.call(`/admin/explain/${ip}`));
      assert.equal(after.admitted, true);
      const none = await h.call(`/admin/bans/${ip}`, { method: "DELETE" });
      assert.equal(none.status, 404);
      await none.body?.cancel();

      // IPv6 in a path, permanent ban.
      const v6 = await h.call(
        "/admin/bans",
        post({ ip: "2001:db8::5", reason: "x", permanent: true }),
      );
      assert.equal(v6.status, 201);
      await v6.body?.cancel();
      const v6off = await h.call(`/admin/bans/${encodeURIComponent("2001:db8::5")}`, {
        method: "DELETE",
      });
      assert.equal(v6off.status, 200);
      await v6off.body?.cancel();

      // Invalid input → 400 with the code.
      const badIp = await h.call("/admin/bans", post({ ip: "not-an-ip", reason: "x" }));
      assert.equal(badIp.status, 400);
      assert.equal((await body(badIp)).code, "SECURITY_INVALID_ADDRESS");
      for (
        const bad of [{ ip }, { ip, reason: "x", durationMs: -1 }, {
          ip,
          reason: "x",
          permanent: "yes",
        }]
      ) {
        const res = await h.call("/admin/bans", post(bad));
        assert.equal(res.status, 400, JSON.stringify(bad));
        await res.body?.cancel();
      }
      const badUnban = await h.call("/admin/bans/999.1.1.1", { method: "DELETE" });
      assert.equal(badUnban.status, 400);
      await badUnban.body?.cancel();
      const badExplain = await h.call("/admin/explain/nope");
      assert.equal(badExplain.status, 400);
      await badExplain.body?.cancel();

      // Rules: add, list, remove (URL-encoded CIDR); invalid CIDR → 400.
      const added = await h.call(
        "/admin/rules",
        post({ cidr: "203.0.113.0/24", list: "deny", note: "test net" }),
      );
      assert.equal(added.status, 201);
      assert.equal(((await body(added)).rule as { cidr: string }).cidr, "203.0.113.0/24");
      const rules = (await body(await h.call("/admin/rules"))).rules as {
        cidr: string;
        list: string;
        note: string;
      }[];
      assert.deepEqual(rules.map((r) => [r.cidr, r.list, r.note]), [[
        "203.0.113.0/24",
        "deny",
        "test net",
      ]]);
      const badCidr = await h.call("/admin/rules", post({ cidr: "203.0.113.0/99", list: "deny" }));
      assert.equal(badCidr.status, 400);
      assert.equal((await body(badCidr)).code, "SECURITY_INVALID_ADDRESS");
      const badList = await h.call("/admin/rules", post({ cidr: "203.0.113.0/24", list: "maybe" }));
      assert.equal(badList.status, 400);
      await badList.body?.cancel();
      const removed = await h.call(`/admin/rules/${encodeURIComponent("203.0.113.0/24")}`, {
        method: "DELETE",
      });
      assert.equal(removed.status, 200);
      assert.deepEqual(await removed.json(), { removed: "203.0.113.0/24" });
      assert.deepEqual((await body(await h.call("/admin/rules"))).rules, []);
      const gone = await h.call(`/admin/rules/${encodeURIComponent("203.0.113.0/24")}`, {
        method: "DELETE",
      });
      assert.equal(gone.status, 404);
      await gone.body?.cancel();

      // Audit: the admin actions were recorded as admin-api, and the chain verifies.
      await audit.flush();
      const verified = await h.call("/admin/audit/verify", { method: "POST" });
      assert.equal(verified.status, 200);
      const v = await body(verified);
      assert.equal(v.ok, true);
      assert.ok((v.checked as number) >= 6, `checked ${v.checked}`);
      assert.match(String(v.lastMacHex), /^[0-9a-f]{64}$/, "a MAC checkpoint is not a secret");
      // Through the test's Database: the embedded server takes one connection at a time.
      const actors = await db.execute<{ kind: string; actor: string }>(
        rawQuery("SELECT kind, actor FROM security_audit_log WHERE actor IS NOT NULL ORDER BY seq"),
      );
      assert.deepEqual(actors.map((r) => `${r.kind}:${r.actor}`), [
        "admin_action:admin-api", // ban 198.51.100.77
        "unban:admin-api",
        "unban:admin-api", // the unban answered 404 is audited too
        "admin_action:admin-api", // ban 2001:db8::5
        "unban:admin-api",
        "admin_action:admin-api", // add rule
        "admin_action:admin-api", // remove rule
        "admin_action:admin-api", // remove rule (none)
      ]);
    } finally {
      await h.close();
      await client.close().catch(() => {});
      await ts.close();
      security.close();
      await audit.close();
      await reputation.close();
      await db.close();
    }
  },
);
