/**
 * ReputationStore over both database targets: bans that survive restarts,
 * are shared between instances (notifications on PostgreSQL, resync
 * everywhere), expire on the clock, escalate, and yield to allow rules.
 */
import assert from "node:assert/strict";
import type { Database } from "../../../src/db/database.ts";
import { migrate } from "../../../src/db/migrations.ts";
import { IP_REPUTATION } from "../../../src/db/migrations/ip_reputation.ts";
import { SecurityError } from "../../../src/errors.ts";
import { IpRules, trackingKey } from "../../../src/security/ip_rules.ts";
import {
  ReputationStore,
  type ReputationStoreOptions,
} from "../../../src/security/reputation/mod.ts";
import type { Detection } from "../../../src/security/types.ts";
import { ManualClock } from "../../../src/util/clock.ts";
import { databaseFor, type DbTarget, dbTest } from "../../_helpers/db_targets.ts";

const BAD = "198.51.100.7";
const DETECTIONS: Detection[] = [
  {
    kind: "HighPacketRate",
    weight: 0.6,
    atMs: 1_700_000_000_000,
    detail: "412 packets/s over 1 s",
  },
  { kind: "SQLInjectionAttempt", weight: 0.9, atMs: 1_700_000_000_500, detail: "tautology" },
];

async function openDb(t: DbTarget): Promise<Database> {
  const db = databaseFor(t, { maxConnections: 4 });
  await migrate(db, [IP_REPUTATION]);
  return db;
}

/** A started store; `listen` only on the real server (see ReputationStoreOptions.listen). */
async function storeOn(
  t: DbTarget,
  db: Database,
  over: Partial<ReputationStoreOptions> = {},
): Promise<ReputationStore> {
  const s = new ReputationStore(db, {
    listen: false,
    clock: over.clock ?? new ManualClock(),
    channel: `bans_${t.schema}`,
    ...over,
  });
  await s.start();
  return s;
}

/**
 * Two instances on one schema. On PostgreSQL: two Database objects. The
 * embedded server accepts a single connection (one process owns it), so
 * there both stores share one Database.
 */
async function twoInstances(t: DbTarget, over: Partial<ReputationStoreOptions> = {}) {
  const dbA = await openDb(t);
  const dbB = t.name === "postgres" ? await openDb(t) : dbA;
  const clock = (over.clock as ManualClock | undefined) ?? new ManualClock();
  const a = await storeOn(t, dbA, { clock, ...over });
  const b = await storeOn(t, dbB, { clock, ...over });
  return {
    a,
    b,
    clock,
    async close() {
      await a.close();
      await b.close();
      await dbA.close();
      if (dbB !== dbA) await dbB.close();
    },
  };
}

const isSecurityCode = (code: string) => (e: unknown) =>
  e instanceof SecurityError && e.code === code;

/** Poll (bounded) for a condition that depends on I/O; returns the ms it took. */
async function within(ms: number, cond: () => boolean): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

dbTest("a ban survives a restart: a new store on the same schema enforces it", async (t) => {
  const clock = new ManualClock();
  let db = await openDb(t);
  const first = await storeOn(t, db, { clock });
  const r = await first.ban(BAD, {
    reason: "anomaly",
    detections: DETECTIONS,
    durationMs: 600_000,
  });
  assert.equal(r.applied, true);
  assert.ok(first.isBanned(BAD));
  await first.close();
  await db.close();

  db = await openDb(t);
  const second = await storeOn(t, db, { clock });
  try {
    assert.ok(second.isBanned(BAD));
    assert.equal(second.banCount(BAD), 1);
    assert.ok(!second.isBanned("198.51.100.8"));
  } finally {
    await second.close();
    await db.close();
  }
});

dbTest(
  "a ban and an unban on instance A reach instance B by resync (timer and call)",
  async (t) => {
    const { a, b, clock, close } = await twoInstances(t, { resyncIntervalMs: 5_000 });
    try {
      await a.ban(BAD, { reason: "test" });
      assert.ok(a.isBanned(BAD));
      assert.ok(!b.isBanned(BAD), "B has not heard yet (no LISTEN here)");
      clock.advance(5_000); // B's timer starts a resync; resync() joins it
      await b.resync();
      assert.ok(b.isBanned(BAD));
      assert.equal(b.stats().resyncs, 2);

      assert.equal(await a.unban(BAD), true);
      assert.ok(!a.isBanned(BAD));
      assert.ok(b.isBanned(BAD));
      await b.resync();
      assert.ok(!b.isBanned(BAD));
      assert.equal(b.banCount(BAD), 0, "an unban forgets the offences");
    } finally {
      await close();
    }
  },
);

dbTest(
  "a ban and an unban on instance A are enforced by instance B within 1 s (LISTEN/NOTIFY)",
  async (t) => {
    const { a, b, close } = await twoInstances(t, { listen: true });
    try {
      assert.ok(a.stats().listening && b.stats().listening);
      await a.ban("203.0.113.9", { reason: "notify" });
      const banMs = await within(2_000, () => b.isBanned("203.0.113.9"));
      assert.ok(banMs < 1_000, `ban seen after ${banMs} ms`);
      await a.unban("203.0.113.9");
      const unbanMs = await within(2_000, () => !b.isBanned("203.0.113.9"));
      assert.ok(unbanMs < 1_000, `unban seen after ${unbanMs} ms`);
      await a.addRule("192.0.2.0/24", "deny");
      const ruleMs = await within(2_000, () => b.isBanned("192.0.2.50"));
      assert.ok(ruleMs < 1_000, `rule seen after ${ruleMs} ms`);
      assert.equal(b.stats().resyncs, 1, "no resync was needed");
    } finally {
      await close();
    }
  },
  { only: "postgres" },
);

dbTest("a temporary ban stops applying at its expiry, before any resync", async (t) => {
  const { a, b, clock, close } = await twoInstances(t, { resyncIntervalMs: 3_600_000 });
  try {
    const r = await a.ban(BAD, { reason: "temp", durationMs: 60_000 });
    assert.ok(r.applied && r.ban.expiresAtMs === clock.now() + 60_000);
    await b.resync();
    clock.advance(59_999);
    assert.ok(a.isBanned(BAD) && b.isBanned(BAD));
    clock.advance(1);
    assert.ok(!a.isBanned(BAD) && !b.isBanned(BAD));
    const ex = await a.explain(BAD);
    assert.equal(ex.banned, false);
    assert.equal(ex.kind, null);
    assert.equal(ex.banCount, 1, "the offence is remembered");
    assert.deepEqual(await a.list(), []);
    assert.equal((await a.list({ includeExpired: true })).length, 1);
  } finally {
    await close();
  }
});

dbTest(
  "banCount escalates with each ban, survives expiry and restart, and a permanent ban stays",
  async (t) => {
    const clock = new ManualClock();
    let db = await openDb(t);
    let s = await storeOn(t, db, { clock });
    try {
      assert.equal(s.banCount(BAD), 0);
      await s.ban(BAD, { reason: "1st", durationMs: 1_000 });
      clock.advance(2_000);
      await s.ban(BAD, { reason: "2nd", durationMs: 1_000 });
      assert.equal(s.banCount(BAD), 2);
      clock.advance(2_000);
      assert.ok(!s.isBanned(BAD));
      await s.close();
      await db.close();

      db = await openDb(t);
      s = await storeOn(t, db, { clock });
      assert.equal(s.banCount(BAD), 2, "expired bans of the last historyMs are loaded");
      const r = await s.ban(BAD, { reason: "3rd", permanent: true });
      assert.ok(r.applied && r.ban.kind === "permanent" && r.ban.expiresAtMs === null);
      assert.equal(r.ban.banCount, 3);
      // A later temporary ban does not shorten a permanent one.
      const r2 = await s.ban(BAD, { reason: "4th", durationMs: 1_000 });
      assert.ok(r2.applied && r2.ban.kind === "permanent");
      clock.advance(365 * 86_400_000);
      assert.ok(s.isBanned(BAD));
      assert.equal(s.banCount(trackingKey(BAD)), 4);
    } finally {
      await s.close();
      await db.close();
    }
  },
);

dbTest("a longer temporary ban is not shortened by a shorter one", async (t) => {
  const db = await openDb(t);
  const s = await storeOn(t, db);
  try {
    const long = await s.ban(BAD, { reason: "long", durationMs: 3_600_000 });
    const short = await s.ban(BAD, { reason: "short", durationMs: 1_000 });
    assert.ok(long.applied && short.applied);
    assert.equal(short.ban.expiresAtMs, long.ban.expiresAtMs);
    assert.equal(short.ban.reason, "short");
  } finally {
    await s.close();
    await db.close();
  }
});

dbTest("allow-listed addresses are never banned: ban() refuses and says why", async (t) => {
  const db = await openDb(t);
  const s = await storeOn(t, db, { allowList: new IpRules(["10.0.0.0/8", "2001:db8:aa::/48"]) });
  try {
    const r = await s.ban("10.1.2.3", { reason: "x" });
    assert.deepEqual(r, { applied: false, reason: "allow_listed", matchedRule: "IP_WHITELIST" });
    const r6 = await s.ban("2001:db8:aa:1::5", { reason: "x" });
    assert.equal(r6.applied, false);
    assert.ok(!s.isBanned("10.1.2.3"));
    assert.deepEqual(await s.list(), []);

    await s.addRule("192.0.2.0/24", "allow", "office");
    const r2 = await s.ban("192.0.2.9", { reason: "x" });
    assert.deepEqual(r2, { applied: false, reason: "allow_listed", matchedRule: "192.0.2.0/24" });

    // Allow wins over deny, and over a ban made before the allow rule.
    await s.ban("203.0.113.5", { reason: "before allow" });
    await s.addRule("203.0.113.0/24", "deny");
    await s.addRule("203.0.113.5", "allow", "partner");
    assert.ok(!s.isBanned("203.0.113.5"));
    assert.ok(s.isBanned("203.0.113.6"));
    const ex = await s.explain("203.0.113.5");
    assert.equal(ex.banned, false);
    assert.equal(ex.kind, "temp", "the stored ban is still shown");
    assert.ok(ex.allowListed && ex.denyListed);
    assert.equal(ex.matchedRule, "203.0.113.5/32");
  } finally {
    await s.close();
    await db.close();
  }
});

dbTest("a deny-list CIDR blocks a whole range, IPv4 and IPv6, on every instance", async (t) => {
  const { a, b, close } = await twoInstances(t);
  try {
    const rule = await a.addRule("198.51.100.77/24", "deny", "abuse");
    assert.equal(rule.cidr, "198.51.100.0/24");
    await a.addRule("2001:DB8:BAD:0::/48", "deny");
    for (const s of [a]) {
      assert.ok(s.isBanned("198.51.100.1") && s.isBanned("198.51.100.254"));
      assert.ok(!s.isBanned("198.51.101.1"));
      assert.ok(s.isBanned("2001:db8:bad:1::5") && s.isBanned("2001:db8:bad:ffff::1"));
      assert.ok(!s.isBanned("2001:db8:bae::1"));
    }
    await b.resync();
    assert.ok(b.isBanned("198.51.100.1") && b.isBanned("2001:db8:bad:1::5"));
    assert.deepEqual((await b.rules()).map((r) => [r.cidr, r.list, r.note]), [
      ["198.51.100.0/24", "deny", "abuse"],
      ["2001:db8:bad::/48", "deny", ""],
    ]);
    const ex = await b.explain("198.51.100.9");
    assert.ok(ex.banned && ex.denyListed && ex.matchedRule === "198.51.100.0/24");

    assert.equal(await a.removeRule("198.51.100.0/24"), true);
    assert.equal(await a.removeRule("198.51.100.0/24"), false);
    assert.ok(!a.isBanned("198.51.100.1"));
    await b.resync();
    assert.ok(!b.isBanned("198.51.100.1") && b.isBanned("2001:db8:bad:1::5"));
  } finally {
    await close();
  }
});

dbTest("IPv6 addresses in one /64 share one ban", async (t) => {
  const db = await openDb(t);
  const s = await storeOn(t, db);
  try {
    const r = await s.ban("2001:db8:1:2::1", { reason: "v6" });
    assert.ok(r.applied);
    assert.equal(r.ban.key, trackingKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assert.ok(s.isBanned("2001:db8:1:2:abcd::9"));
    assert.ok(!s.isBanned("2001:db8:1:3::1"));
    await s.ban("2001:db8:1:2::77", { reason: "same /64" });
    const list = await s.list();
    assert.equal(list.length, 1);
    assert.equal(list[0].banCount, 2);
    // The key list() returns, and the /64 as a CIDR, name the same ban.
    assert.equal((await s.explain(list[0].key)).banned, true);
    assert.equal(await s.unban("2001:db8:1:2::/64"), true);
    assert.ok(!s.isBanned("2001:db8:1:2::1"));
  } finally {
    await s.close();
    await db.close();
  }
});

dbTest("explain returns the detections, the reason and the expiry", async (t) => {
  const { a, b, clock, close } = await twoInstances(t);
  try {
    await a.ban(BAD, { reason: "anomaly score 0.93", detections: DETECTIONS, durationMs: 600_000 });
    const ex = await b.explain(BAD); // B reads the table, not its mirror
    assert.deepEqual(ex, {
      key: BAD,
      banned: true,
      kind: "temp",
      reason: "anomaly score 0.93",
      detections: DETECTIONS,
      bannedAtMs: clock.now(),
      expiresAtMs: clock.now() + 600_000,
      banCount: 1,
      allowListed: false,
      denyListed: false,
      matchedRule: null,
    });
    const none = await b.explain("192.0.2.1");
    assert.equal(none.banned, false);
    assert.equal(none.banCount, 0);
    assert.deepEqual(none.detections, []);
  } finally {
    await close();
  }
});

dbTest("invalid addresses and CIDRs are refused with SECURITY_INVALID_ADDRESS", async (t) => {
  const db = await openDb(t);
  const s = await storeOn(t, db);
  try {
    const invalid = isSecurityCode("SECURITY_INVALID_ADDRESS");
    await assert.rejects(s.addRule("10.0.0.0/33", "deny"), invalid);
    await assert.rejects(s.addRule("2001:db8::/129", "allow"), invalid);
    await assert.rejects(s.addRule("not-a-range", "deny"), invalid);
    await assert.rejects(s.removeRule("1.2.3"), invalid);
    await assert.rejects(s.ban("999.1.1.1", { reason: "x" }), invalid);
    await assert.rejects(s.unban("garbage"), invalid);
    await assert.rejects(s.explain("10.0.0.0/8"), invalid);
    await assert.rejects(
      s.addRule("10.0.0.0/8", "maybe" as "deny"),
      isSecurityCode("SECURITY_INVALID_INPUT"),
    );
    await assert.rejects(
      s.ban(BAD, { reason: "x", durationMs: 0 }),
      isSecurityCode("SECURITY_INVALID_INPUT"),
    );
    assert.equal(s.isBanned("garbage"), false, "the hot path never throws");
    assert.deepEqual(await s.rules(), []);
  } finally {
    await s.close();
    await db.close();
  }
});

dbTest("beyond maxCachedBans, a miss is looked up off the hot path and then refused", async (t) => {
  const clock = new ManualClock();
  const db = await openDb(t);
  const writer = await storeOn(t, db, { clock });
  const keys = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
  for (const k of keys) {
    await writer.ban(k, { reason: "many" });
    clock.advance(1);
  }
  const s = await storeOn(t, db, { clock, maxCachedBans: 2 });
  try {
    assert.deepEqual(s.stats().complete, false);
    assert.equal(s.stats().cachedBans, 2);
    // The oldest ban did not fit: the first check answers at once, then learns.
    assert.ok(s.isBanned("192.0.2.3") && s.isBanned("192.0.2.2"));
    assert.equal(s.isBanned("192.0.2.1"), false);
    await within(2_000, () => s.isBanned("192.0.2.1"));
    assert.equal(s.stats().cachedBans, 2, "still bounded");
    // A miss for an address with no ban is remembered until the next resync.
    assert.equal(s.isBanned("192.0.2.200"), false);
  } finally {
    await s.close();
    await writer.close();
    await db.close();
  }
});
