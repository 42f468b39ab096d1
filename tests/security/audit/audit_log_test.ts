/**
 * AuditLog over both database targets: storage and verification, every
 * kind of tampering reported at its seq with its reason, one chain from two
 * concurrent writers, retention that keeps the rest verifiable, the queue
 * bound, and hostile input that never makes record() throw.
 */
import assert from "node:assert/strict";
import type { Database } from "../../../src/db/database.ts";
import { migrate } from "../../../src/db/migrations.ts";
import { SECURITY_AUDIT } from "../../../src/db/migrations/security_audit.ts";
import {
  type AuditDatabase,
  AuditLog,
  type AuditLogOptions,
} from "../../../src/security/audit/mod.ts";
import type { AuditEventInput } from "../../../src/security/types.ts";
import { ManualClock } from "../../../src/util/clock.ts";
import { databaseFor, type DbTarget, dbTest, rawQuery } from "../../_helpers/db_targets.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const DAY_MS = 86_400_000;

// The database layer's Database is an AuditDatabase (checked at compile time).
const _fits = (db: Database): AuditDatabase => db;
void _fits;

async function openDb(t: DbTarget): Promise<Database> {
  const db = databaseFor(t, { maxConnections: 4 });
  await migrate(db, [SECURITY_AUDIT]);
  return db;
}

/** A log with a manual clock: nothing is written until flush(). */
function logOn(db: Database, over: Partial<AuditLogOptions> = {}): AuditLog {
  return new AuditLog(db, { key: KEY, clock: new ManualClock(), ...over });
}

function sample(i: number): AuditEventInput {
  const kinds = ["handshake_failure", "decision", "ban", "unban", "admin_action"] as const;
  return {
    kind: kinds[i % kinds.length],
    ip: `192.0.2.${i % 250}`,
    actor: i % 5 === 4 ? "cli" : undefined,
    details: { i, reason: "decrypt", nested: { z: 1, a: [i, "x"] } },
  };
}

async function withLog(
  t: DbTarget,
  n: number,
  fn: (db: Database, log: AuditLog) => Promise<void>,
): Promise<void> {
  const db = await openDb(t);
  const log = logOn(db);
  try {
    for (let i = 0; i < n; i++) log.record(sample(i));
    await log.flush();
    await fn(db, log);
  } finally {
    await log.close();
    // Callers may run several scenarios in one test schema.
    await exec(db, "TRUNCATE security_audit_log, security_audit_anchor");
    await db.close();
  }
}

const exec = (db: Database, sql: string, params: unknown[] = []) =>
  db.execute<Record<string, unknown>>(rawQuery(sql, params));

dbTest("audit log: events are stored with consecutive seqs and verify", async (t) => {
  await withLog(t, 7, async (db, log) => {
    const rows = await exec(
      db,
      "SELECT seq, kind, ip, actor, details, octet_length(mac) AS n FROM security_audit_log ORDER BY seq",
    );
    assert.deepEqual(rows.map((r) => Number(r.seq)), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(rows[0].kind, "handshake_failure");
    assert.equal(rows[0].ip, "192.0.2.0");
    assert.equal(rows[0].actor, null);
    assert.equal(rows[4].actor, "cli");
    assert.equal(rows[1].details, '{"i":1,"nested":{"a":[1,"x"],"z":1},"reason":"decrypt"}');
    assert.equal(Number(rows[0].n), 32);
    // The text is valid jsonb for queries.
    const [q] = await exec(
      db,
      "SELECT count(*)::int AS n FROM security_audit_log WHERE (details::jsonb ->> 'i')::int >= 5",
    );
    assert.equal(q.n, 2);
    const r = await log.verify();
    assert.equal(r.ok, true);
    assert.equal(r.checked, 7);
    assert.equal(r.firstSeq, 1);
    assert.equal(r.lastSeq, 7);
    assert.equal(r.lastMacHex?.length, 64);
    assert.equal(log.stats().written, 7);
    assert.equal(log.stats().queued, 0);
  });
});

dbTest("audit log: an empty log verifies with nothing checked", async (t) => {
  await withLog(t, 0, async (_db, log) => {
    assert.deepEqual(await log.verify(), { ok: true, checked: 0, firstSeq: 1 });
  });
});

dbTest("audit log: verify streams in pages", async (t) => {
  await withLog(t, 25, async (_db, log) => {
    const r = await log.verify({ pageSize: 4 });
    assert.equal(r.ok, true);
    assert.equal(r.checked, 25);
  });
});

dbTest("audit log: one changed byte of details is a mac_mismatch at that seq", async (t) => {
  await withLog(t, 6, async (db, log) => {
    await exec(
      db,
      "UPDATE security_audit_log SET details = replace(details, 'decrypt', 'decrypu') WHERE seq = 3",
    );
    assert.deepEqual(
      pick(await log.verify()),
      { ok: false, checked: 2, firstBrokenSeq: 3, reason: "mac_mismatch" },
    );
  });
});

dbTest("audit log: a changed kind, ip, actor or time is a mac_mismatch at that seq", async (t) => {
  const edits: [string, number][] = [
    ["UPDATE security_audit_log SET kind = 'unban' WHERE seq = 2", 2],
    ["UPDATE security_audit_log SET ip = '192.0.2.99' WHERE seq = 4", 4],
    ["UPDATE security_audit_log SET actor = NULL WHERE seq = 5", 5],
    [
      "UPDATE security_audit_log SET occurred_at = occurred_at + interval '1 millisecond' WHERE seq = 6",
      6,
    ],
  ];
  for (const [sql, seq] of edits) {
    await withLog(t, 6, async (db, log) => {
      await exec(db, sql);
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: seq - 1,
        firstBrokenSeq: seq,
        reason: "mac_mismatch",
      }, sql);
    });
  }
});

dbTest(
  "audit log: one flipped bit of a MAC is a mac_mismatch, of a prev_mac a prev_mismatch",
  async (t) => {
    await withLog(t, 6, async (db, log) => {
      await exec(
        db,
        "UPDATE security_audit_log SET mac = set_byte(mac, 7, get_byte(mac, 7) # 1) WHERE seq = 4",
      );
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 3,
        firstBrokenSeq: 4,
        reason: "mac_mismatch",
      });
    });
    await withLog(t, 6, async (db, log) => {
      await exec(
        db,
        "UPDATE security_audit_log SET prev_mac = set_byte(prev_mac, 0, get_byte(prev_mac, 0) # 128) WHERE seq = 3",
      );
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 2,
        firstBrokenSeq: 3,
        reason: "prev_mismatch",
      });
    });
  },
);

dbTest(
  "audit log: a deleted middle row is a gap at its seq; a deleted first row too",
  async (t) => {
    await withLog(t, 6, async (db, log) => {
      await exec(db, "DELETE FROM security_audit_log WHERE seq = 4");
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 3,
        firstBrokenSeq: 4,
        reason: "gap",
      });
    });
    await withLog(t, 3, async (db, log) => {
      await exec(db, "DELETE FROM security_audit_log WHERE seq = 1");
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 0,
        firstBrokenSeq: 1,
        reason: "gap",
      });
    });
  },
);

dbTest(
  "audit log: a re-chained insertion without the key fails (renumbered rows do not verify)",
  async (t) => {
    await withLog(t, 4, async (db, log) => {
      // Forge: shift rows 3..4 up and insert a copy of row 2 as seq 3.
      await exec(db, "UPDATE security_audit_log SET seq = seq + 10 WHERE seq >= 3");
      await exec(db, "UPDATE security_audit_log SET seq = seq - 9 WHERE seq >= 13");
      await exec(
        db,
        "INSERT INTO security_audit_log SELECT 3, occurred_at, kind, ip, actor, details, mac, mac FROM security_audit_log WHERE seq = 2",
      );
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 2,
        firstBrokenSeq: 3,
        reason: "mac_mismatch",
      });
    });
  },
);

dbTest("audit log: a wrong key fails verification at the first row", async (t) => {
  await withLog(t, 3, async (db) => {
    const other = new AuditLog(db, { key: new Uint8Array(32).fill(7), clock: new ManualClock() });
    assert.deepEqual(pick(await other.verify()), {
      ok: false,
      checked: 0,
      firstBrokenSeq: 1,
      reason: "mac_mismatch",
    });
    await other.close();
  });
});

dbTest("audit log: two instances writing concurrently build one consecutive chain", async (t) => {
  // Two Database objects on PostgreSQL; the embedded server takes one connection, so one there.
  const dbA = await openDb(t);
  const dbB = t.name === "postgres" ? await openDb(t) : dbA;
  const a = logOn(dbA, { batchSize: 7 });
  const b = logOn(dbB, { batchSize: 5 });
  try {
    const writer = async (log: AuditLog, tag: string) => {
      for (let round = 0; round < 8; round++) {
        for (let i = 0; i < 20; i++) {
          log.record({ kind: "decision", actor: tag, details: { round, i } });
        }
        await log.flush();
      }
    };
    await Promise.all([writer(a, "a"), writer(b, "b")]);
    const rows = await exec(dbA, "SELECT seq, actor FROM security_audit_log ORDER BY seq");
    assert.equal(rows.length, 320);
    assert.deepEqual(rows.map((r) => Number(r.seq)), Array.from({ length: 320 }, (_, i) => i + 1));
    assert.equal(rows.filter((r) => r.actor === "a").length, 160);
    // Interleaved: the writers' batches alternate somewhere.
    const switches = rows.filter((r, i) => i > 0 && r.actor !== rows[i - 1].actor).length;
    assert.ok(switches >= 1);
    const r = await b.verify({ pageSize: 64 });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.checked, 320);
  } finally {
    await a.close();
    await b.close();
    await dbA.close();
    if (dbB !== dbA) await dbB.close();
  }
});

dbTest("audit log: retention purges old records and the rest still verifies", async (t) => {
  const db = await openDb(t);
  const clock = new ManualClock(1_700_000_000_000);
  const log = new AuditLog(db, { key: KEY, clock, pageSize: 4 });
  try {
    for (let i = 0; i < 10; i++) log.record(sample(i));
    await log.flush();
    clock.advance(3 * DAY_MS);
    for (let i = 10; i < 15; i++) log.record(sample(i));
    await log.flush();
    const purged = await log.purgeOlderThan(2);
    assert.deepEqual(purged, { deleted: 10, firstSeq: 11 });
    const [{ n }] = await exec(db, "SELECT count(*)::int AS n FROM security_audit_log");
    assert.equal(n, 5);
    assert.deepEqual(pick(await log.verify()), { ok: true, checked: 5 });
    assert.equal((await log.verify()).firstSeq, 11);
    // Nothing more to purge.
    assert.deepEqual(await log.purgeOlderThan(2), { deleted: 0, firstSeq: 11 });
    // Writing continues the chain.
    log.record(sample(99));
    await log.flush();
    const r = await log.verify();
    assert.equal(r.ok, true);
    assert.equal(r.lastSeq, 16);
    // Everything purged: the chain continues from the anchor.
    clock.advance(DAY_MS);
    assert.deepEqual(await log.purgeOlderThan(0), { deleted: 6, firstSeq: 17 });
    assert.deepEqual(await log.verify(), { ok: true, checked: 0, firstSeq: 17 });
    log.record(sample(100));
    await log.flush();
    const [row] = await exec(db, "SELECT seq FROM security_audit_log");
    assert.equal(Number(row.seq), 17);
    assert.deepEqual(pick(await log.verify()), { ok: true, checked: 1 });
  } finally {
    await log.close();
    await db.close();
  }
});

dbTest(
  "audit log: after retention, a faked purge, a dropped or moved anchor is detected",
  async (t) => {
    const setup = async (fn: (db: Database, log: AuditLog) => Promise<void>) => {
      const db = await openDb(t);
      const clock = new ManualClock(1_700_000_000_000);
      const log = new AuditLog(db, { key: KEY, clock });
      try {
        for (let i = 0; i < 4; i++) log.record(sample(i));
        await log.flush();
        clock.advance(3 * DAY_MS);
        for (let i = 4; i < 10; i++) log.record(sample(i));
        await log.flush();
        const p = await log.purgeOlderThan(1);
        assert.equal(p.deleted, 4, JSON.stringify(p));
        await fn(db, log);
      } finally {
        await log.close();
        await exec(db, "TRUNCATE security_audit_log, security_audit_anchor");
        await db.close();
      }
    };
    // Deleting more of the prefix without the key: the anchor says seq 5 comes first.
    await setup(async (db, log) => {
      await exec(db, "DELETE FROM security_audit_log WHERE seq <= 6");
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 0,
        firstBrokenSeq: 5,
        reason: "gap",
      });
    });
    // Dropping the anchor: the chain should start at seq 1.
    await setup(async (db, log) => {
      await exec(db, "DELETE FROM security_audit_anchor");
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 0,
        firstBrokenSeq: 1,
        reason: "gap",
      });
    });
    // Moving the anchor forward (hiding deletions) without the key.
    await setup(async (db, log) => {
      await exec(db, "DELETE FROM security_audit_log WHERE seq <= 6");
      await exec(
        db,
        "UPDATE security_audit_anchor SET first_seq = 7, prev_mac = (SELECT prev_mac FROM security_audit_log WHERE seq = 7)",
      );
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 0,
        firstBrokenSeq: 7,
        reason: "anchor_mismatch",
      });
    });
    // An edit in the kept part is still found.
    await setup(async (db, log) => {
      await exec(db, "UPDATE security_audit_log SET details = '{}' WHERE seq = 8");
      assert.deepEqual(pick(await log.verify()), {
        ok: false,
        checked: 3,
        firstBrokenSeq: 8,
        reason: "mac_mismatch",
      });
    });
  },
);

dbTest("audit log: retention refuses to delete records that do not verify", async (t) => {
  const db = await openDb(t);
  const clock = new ManualClock(1_700_000_000_000);
  const log = new AuditLog(db, { key: KEY, clock, pageSize: 3 });
  try {
    for (let i = 0; i < 8; i++) log.record(sample(i));
    await log.flush();
    await exec(db, "UPDATE security_audit_log SET kind = 'ban' WHERE seq = 5 AND kind <> 'ban'");
    await exec(db, "UPDATE security_audit_log SET kind = 'unban' WHERE seq = 5 AND kind = 'ban'");
    clock.advance(10 * DAY_MS);
    const r = await log.purgeOlderThan(1);
    // The first page (1..3) verified and went; the second stopped at seq 5.
    assert.equal(r.deleted, 3);
    assert.equal(r.firstSeq, 4);
    assert.equal(r.refused?.reason, "mac_mismatch");
    assert.equal(r.refused?.firstBrokenSeq, 5);
    const [{ n }] = await exec(db, "SELECT count(*)::int AS n FROM security_audit_log");
    assert.equal(n, 5);
    assert.equal((await log.verify()).firstBrokenSeq, 5);
  } finally {
    await log.close();
    await db.close();
  }
});

dbTest("audit log: tail truncation verifies alone but not against a kept head", async (t) => {
  await withLog(t, 6, async (db, log) => {
    const head = await log.verify();
    assert.equal(head.lastSeq, 6);
    await exec(db, "DELETE FROM security_audit_log WHERE seq >= 5");
    // Documented limit: a shorter chain is still a valid chain…
    assert.equal((await log.verify()).ok, true);
    // …but not against the checkpoint.
    assert.deepEqual(
      pick(await log.verify({ expectHead: { seq: head.lastSeq!, macHex: head.lastMacHex! } })),
      { ok: false, checked: 4, firstBrokenSeq: 6, reason: "gap" },
    );
  });
});

dbTest(
  "audit log: the queue bound holds, drops are counted and reported in the chain",
  async (t) => {
    const db = await openDb(t);
    const log = logOn(db, { batchSize: 1_000 });
    try {
      for (let i = 0; i < 20_000; i++) log.record(sample(i));
      const s = log.stats();
      assert.equal(s.queued, 10_000);
      assert.equal(s.droppedTotal, 10_000);
      assert.equal(s.unreported, 10_000);
      assert.ok(s.queuedChars < 4_000_000);
      await log.flush();
      assert.equal(log.stats().queued, 0);
      assert.equal(log.stats().unreported, 0);
      assert.equal(log.stats().written, 10_001);
      const rows = await exec(
        db,
        "SELECT seq, kind, details FROM security_audit_log WHERE kind = 'audit_dropped'",
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0].details, '{"dropped":10000,"invalid":0}');
      // The report ends the first batch written after the drops.
      assert.equal(Number(rows[0].seq), 1_001);
      const r = await log.verify();
      assert.equal(r.ok, true);
      assert.equal(r.checked, 10_001);
    } finally {
      await log.close();
      await db.close();
    }
  },
);

dbTest("audit log: the character bound drops large events too", async (t) => {
  const db = await openDb(t);
  const log = logOn(db, { maxQueuedChars: 10_000, maxDetailsChars: 4_000 });
  try {
    for (let i = 0; i < 10; i++) {
      log.record({ kind: "decision", details: { blob: "x".repeat(3_000) } });
    }
    assert.equal(log.stats().queued, 3);
    assert.equal(log.stats().droppedTotal, 7);
    assert.ok(log.stats().queuedChars <= 10_000);
  } finally {
    await log.close();
    await db.close();
  }
});

dbTest(
  "audit log: record() never throws on hostile input, and the encoding is defined",
  async (t) => {
    const db = await openDb(t);
    const log = logOn(db);
    try {
      const cyclic: Record<string, unknown> = {};
      cyclic.me = cyclic;
      const hostile = [
        {
          kind: "ban",
          ip: undefined,
          details: { big: 2n ** 70n, nan: NaN, f: () => 1, c: cyclic },
        },
        { kind: "ban", ip: "1.2.3.4\u0000evil", actor: "x".repeat(1000), details: { s: "\uD800" } },
        { kind: "decision", details: { huge: "y".repeat(5_000_000) } },
        { kind: "unban", ip: 12345 as unknown as string },
        { kind: "not_a_kind" } as unknown as AuditEventInput,
        null as unknown as AuditEventInput,
        {
          get kind(): never {
            throw new Error("hostile");
          },
        } as unknown as AuditEventInput,
      ] as AuditEventInput[];
      for (const e of hostile) log.record(e);
      assert.equal(log.stats().queued, 4);
      assert.equal(log.stats().invalidTotal, 3);
      await log.flush();
      const rows = await exec(
        db,
        "SELECT seq, kind, ip, actor, details FROM security_audit_log ORDER BY seq",
      );
      assert.equal(rows.length, 5);
      assert.equal(rows[0].ip, null);
      assert.equal(
        rows[0].details,
        '{"big":"1180591620717411303424","c":{"me":"[circular]"},"nan":"NaN"}',
      );
      assert.equal(rows[1].ip, "1.2.3.4\uFFFDevil");
      assert.equal((rows[1].actor as string).length, 128);
      assert.equal(rows[1].details, '{"s":"\uFFFD"}');
      assert.equal(rows[2].details, '{"$truncated":true,"limit":8192}');
      assert.equal(rows[3].ip, "12345");
      assert.equal(rows[4].kind, "audit_dropped");
      assert.equal(rows[4].details, '{"dropped":0,"invalid":3}');
      assert.equal((await log.verify()).ok, true);
    } finally {
      await log.close();
      await db.close();
    }
  },
);

dbTest(
  "audit log: a failed flush keeps its events, and the writer retries in the background",
  async (t) => {
    const db = databaseFor(t, { maxConnections: 2 }); // not migrated yet
    const log = new AuditLog(db, { key: KEY, flushIntervalMs: 10, retryMaxDelayMs: 40 });
    try {
      log.record(sample(1));
      await assert.rejects(log.flush());
      assert.equal(log.stats().queued, 1);
      assert.ok(log.stats().failedFlushes >= 1);
      await migrate(db, [SECURITY_AUDIT]);
      log.record(sample(2));
      for (let i = 0; i < 200 && log.stats().written < 2; i++) await delay(10);
      assert.equal(log.stats().written, 2);
      assert.equal((await log.verify()).checked, 2);
    } finally {
      await log.close();
      await db.close();
    }
  },
);

dbTest(
  "audit log: close() writes what is queued and later records are counted as dropped",
  async (t) => {
    const db = await openDb(t);
    const log = logOn(db);
    try {
      log.record(sample(1));
      await log.close();
      log.record(sample(2));
      assert.equal(log.stats().written, 1);
      assert.equal(log.stats().droppedTotal, 1);
      assert.equal((await log.verify()).checked, 1);
    } finally {
      await log.close();
      await db.close();
    }
  },
);

function pick(r: { ok: boolean; checked: number; firstBrokenSeq?: number; reason?: string }) {
  return {
    ok: r.ok,
    checked: r.checked,
    ...(r.firstBrokenSeq !== undefined ? { firstBrokenSeq: r.firstBrokenSeq } : {}),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
