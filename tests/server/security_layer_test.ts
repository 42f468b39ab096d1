/**
 * SecurityLayer: the server's questions (admit, packet, queryThrottleMs) and
 * its reactions (bans, audit records), on a ManualClock; with a real
 * ReputationStore for persistence across a restart.
 */
import assert from "node:assert/strict";
import { CONFIG_DEFAULTS } from "../../src/config/mod.ts";
import { migrate } from "../../src/db/migrations.ts";
import { IP_REPUTATION } from "../../src/db/migrations/ip_reputation.ts";
import { PacketType } from "../../src/protocol/mod.ts";
import { type AuditEventInput, ReputationStore } from "../../src/security/mod.ts";
import { SecurityLayer, type SecurityLayerOptions } from "../../src/server/security_layer.ts";
import { ManualClock } from "../../src/util/mod.ts";
import { databaseFor, dbTest } from "../_helpers/db_targets.ts";

const ECHO = 0x20;

function layer(over: Partial<SecurityLayerOptions> = {}, clock = new ManualClock()) {
  const events: AuditEventInput[] = [];
  const bans: string[] = [];
  const l = new SecurityLayer({
    security: { ...CONFIG_DEFAULTS.security, ...over.security },
    audit: { record: (e) => events.push(e) },
    clock,
    ...over,
  });
  l.onBan((key) => bans.push(key));
  return { l, events, bans, clock };
}

Deno.test("admit: deny-listed refused, allow-listed always admitted, others admitted", () => {
  const { l } = layer({
    security: {
      ...CONFIG_DEFAULTS.security,
      ipBlacklist: ["203.0.113.0/24", "2001:db8::/32"],
      ipWhitelist: ["203.0.113.7"],
    },
  });
  assert.equal(l.admit("203.0.113.9"), false);
  assert.equal(l.admit("2001:db8::1"), false);
  assert.equal(l.admit("203.0.113.7"), true, "allow list wins over deny list");
  assert.equal(l.admit("198.51.100.1"), true);
  assert.equal(l.stats().refusedAtAccept, 2);
});

Deno.test("handshake failures alone ban an address until the ban expires", () => {
  const { l, bans, events, clock } = layer({ policy: { banDurationsMs: [60_000] } });
  for (let i = 0; i < 19; i++) {
    l.observe({ kind: "handshake_failure", ip: "198.51.100.7", reason: "decrypt" });
  }
  assert.equal(l.admit("198.51.100.7"), true, "19 failures: not yet");
  l.observe({ kind: "handshake_failure", ip: "198.51.100.7", reason: "decrypt" });
  assert.equal(l.admit("198.51.100.7"), false, "20 failures in a minute: banned");
  assert.deepEqual(bans, ["198.51.100.7"]);
  assert.equal(l.admit("198.51.100.8"), true, "a neighbour is not banned");
  assert.equal(events.filter((e) => e.kind === "handshake_failure").length, 20);
  const decision = events.find((e) => e.kind === "decision");
  assert.equal(decision?.details?.decision, "TempBan");
  assert.deepEqual(decision?.details?.detections, ["HandshakeFailures"]);
  assert.ok(events.some((e) => e.kind === "ban" && e.ip === "198.51.100.7"));
  clock.advance(60_001);
  assert.equal(l.admit("198.51.100.7"), true, "admitted again after expiry");
});

Deno.test("allow-listed addresses are never banned or rate limited", () => {
  const { l, bans } = layer({
    security: { ...CONFIG_DEFAULTS.security, ipWhitelist: ["127.0.0.0/8"] },
  });
  for (let i = 0; i < 100; i++) {
    l.observe({ kind: "handshake_failure", ip: "127.0.0.2", reason: "decrypt" });
  }
  for (let i = 0; i < 5000; i++) assert.equal(l.packet("127.0.0.2", "127.0.0.2", ECHO, 10), 0);
  assert.equal(l.admit("127.0.0.2"), true);
  assert.deepEqual(bans, []);
});

Deno.test("packet: the AIMD budget refuses requests with a retry-after, never urgent frames", () => {
  const { l } = layer({
    security: {
      ...CONFIG_DEFAULTS.security,
      aimd: { ...CONFIG_DEFAULTS.security.aimd, initialLimit: 20, minLimit: 10 },
    },
  });
  const ip = "198.51.100.20";
  let refused = 0, retry = 0;
  for (let i = 0; i < 40; i++) {
    const r = l.packet(ip, ip, ECHO, 100);
    if (r > 0) {
      refused++;
      retry = r;
    }
  }
  assert.equal(refused, 20, "20 packets/s admitted, the rest refused");
  assert.ok(retry >= 1 && retry <= 1000, `retry after ${retry} ms`);
  for (const type of [PacketType.Ping, PacketType.Heartbeat, PacketType.KeyUpdate]) {
    for (let i = 0; i < 200; i++) assert.equal(l.packet(ip, ip, type, 8), 0);
  }
  assert.equal(l.stats().rateLimited, 20);
});

Deno.test("packet: a flood is rate limited, then banned, and onBan listeners hear of it", () => {
  const { l, bans, clock } = layer({
    security: {
      ...CONFIG_DEFAULTS.security,
      aimd: { ...CONFIG_DEFAULTS.security.aimd, initialLimit: 1_000_000, maxLimit: 1_000_000 },
    },
  });
  const ip = "198.51.100.30";
  const seen = new Set<string>();
  // 3000 small packets per second, spread over each second.
  for (let i = 0; i < 15_000 && bans.length === 0; i++) {
    if (l.packet(ip, ip, ECHO, 16) > 0) seen.add("rate limited");
    clock.advance(1 / 3);
  }
  assert.ok(seen.has("rate limited"), "rate limited before the ban");
  assert.deepEqual(bans, [ip]);
  assert.equal(l.admit(ip), false);
});

Deno.test("SQL injection attempts throttle that address's queries, not others'", () => {
  const { l, events, clock } = layer();
  l.onDatabaseEvent({
    kind: "SQLInjectionAttempt",
    caller: "198.51.100.40",
    detail: "tautology",
    atMs: clock.now(),
  });
  const ms = l.queryThrottleMs("198.51.100.40");
  assert.ok(ms > 0, "throttled");
  assert.equal(l.queryThrottleMs("198.51.100.41"), 0);
  assert.ok(events.some((e) => e.kind === "sql_injection_attempt"));
  clock.advance(ms + 1);
  assert.equal(l.queryThrottleMs("198.51.100.40"), 0, "throttle expires");
});

dbTest("a ban persists through the reputation store across a restart", async (t) => {
  const db = databaseFor(t, { maxConnections: 4 });
  await migrate(db, [IP_REPUTATION]);
  const clock = new ManualClock(Date.now());
  try {
    const store1 = new ReputationStore(db, { listen: false, clock });
    await store1.start();
    const { l } = layer({ reputation: store1 }, clock);
    for (let i = 0; i < 20; i++) {
      l.observe({ kind: "handshake_failure", ip: "192.0.2.50", reason: "unknown_psk_id" });
    }
    assert.equal(l.admit("192.0.2.50"), false);
    // The ban reaches the table in the background.
    for (let i = 0; i < 100 && (await store1.list()).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await store1.close();

    // "Restart": a new store and a new layer on the same database.
    const store2 = new ReputationStore(db, { listen: false, clock });
    await store2.start();
    const { l: l2 } = layer({ reputation: store2 }, clock);
    assert.equal(l2.admit("192.0.2.50"), false, "still banned after the restart");
    const why = await store2.explain("192.0.2.50");
    assert.equal(why.banned, true);
    assert.ok(why.detections.some((d) => d.kind === "HandshakeFailures"));
    await store2.close();
  } finally {
    await db.close();
  }
});

Deno.test("operator ban, explain and unban: enforced at once, audited with the actor", async () => {
  const { l, events, bans } = layer();
  await l.ban("198.51.100.60", { reason: "manual", durationMs: 60_000 }, "cli");
  assert.equal(l.admit("198.51.100.60"), false);
  assert.deepEqual(bans, ["198.51.100.60"]);
  const why = await l.explain("198.51.100.60");
  assert.equal(why.admitted, false);
  assert.equal(why.decision.kind, "TempBan");
  assert.ok(why.decisionUntilMs !== null);
  assert.ok(await l.unban("198.51.100.60", "cli"));
  assert.equal(l.admit("198.51.100.60"), true);
  const admin = events.filter((e) => e.actor === "cli").map((e) => e.kind);
  assert.deepEqual(admin, ["admin_action", "unban"]);
});

Deno.test("detections raise a decaying reputation score", () => {
  const { l, clock } = layer();
  l.onDatabaseEvent({
    kind: "SQLInjectionAttempt",
    caller: "198.51.100.70",
    detail: "tautology",
    atMs: clock.now(),
  });
  return l.explain("198.51.100.70").then(async (a) => {
    assert.ok(a.reputation > 0.7, `score ${a.reputation}`);
    clock.advance(600_000); // one half-life
    const b = await l.explain("198.51.100.70");
    assert.ok(
      Math.abs(b.reputation - a.reputation / 2) < 0.01,
      `${b.reputation} ≈ ${a.reputation / 2}`,
    );
  });
});

dbTest("a ban on one instance closes sessions on another: notification or resync", async (t) => {
  const listen = t.name === "postgres";
  const dbA = databaseFor(t, { maxConnections: 4 });
  // The embedded server takes one connection: there both stores share it.
  const dbB = listen ? databaseFor(t, { maxConnections: 4 }) : dbA;
  await migrate(dbA, [IP_REPUTATION]);
  const storeA = new ReputationStore(dbA, { listen });
  const storeB = new ReputationStore(dbB, { listen });
  try {
    await storeA.start();
    await storeB.start();
    const a = layer({ reputation: storeA }).l;
    const b = layer({ reputation: storeB });
    const t0 = performance.now();
    await a.ban("203.0.113.80", { reason: "shared", durationMs: 60_000 }, "test");
    if (listen) {
      // LISTEN/NOTIFY: instance B hears of it without a resync.
      for (let i = 0; i < 100 && b.bans.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(performance.now() - t0 < 1000, "within 1 s");
    } else {
      await storeB.resync(); // the embedded database has no LISTEN connection
    }
    assert.deepEqual(b.bans, ["203.0.113.80"], "B's sessions from that address are told");
    assert.equal(b.l.admit("203.0.113.80"), false);
  } finally {
    await storeA.close();
    await storeB.close();
    await dbA.close();
    if (dbB !== dbA) await dbB.close();
  }
});

Deno.test("operator ban of something that is not an address: refused before anything happens", async () => {
  const { l, events, bans } = layer();
  await assert.rejects(
    l.ban("not-an-ip", { reason: "typo" }, "cli"),
    (e: Error & { code?: string }) => e.code === "SECURITY_INVALID_ADDRESS",
  );
  assert.deepEqual(events, []);
  assert.deepEqual(bans, []);
  assert.equal(l.stats().activeBans, 0);
});
