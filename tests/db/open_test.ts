/**
 * Opening the database from configuration: the embedded default (persistent
 * across restarts), a database that is down at start-up (bounded retries, a
 * clear error), one that goes away and comes back (clear errors meanwhile,
 * recovery without a restart), and migrations (advisory lock, checksums,
 * all-or-nothing).
 */
import assert from "node:assert/strict";
import { CONFIG_DEFAULTS } from "../../src/config/mod.ts";
import { Database } from "../../src/db/database.ts";
import { startEmbeddedDatabase } from "../../src/db/embedded.ts";
import { migrate, type Migration, MIGRATIONS_TABLE } from "../../src/db/migrations.ts";
import { openDatabase, redactUrl } from "../../src/db/open.ts";
import { PROJECT_MIGRATIONS } from "../../src/db/migrations/mod.ts";
import { DatabaseError } from "../../src/errors.ts";
import { databaseFor, type DbTarget, dbTest, rawQuery } from "../_helpers/db_targets.ts";

const raw = rawQuery;

function settings(database: Partial<typeof CONFIG_DEFAULTS.database>) {
  return {
    database: { ...CONFIG_DEFAULTS.database, ...database },
    cache: CONFIG_DEFAULTS.cache,
    orm: CONFIG_DEFAULTS.orm,
  };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name:
    "open: with no DATABASE_URL the embedded database is used, migrated, and keeps its data across restarts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const first = await openDatabase(settings({ url: undefined, embeddedDir: `${dir}/db` }));
      assert.ok(first.embedded);
      assert.deepEqual(
        first.migrations?.applied.map((m) => m.name),
        PROJECT_MIGRATIONS.map((m) => m.name),
      );
      assert.ok(PROJECT_MIGRATIONS.some((m) => m.name === "kv_entries"));
      await first.db.execute(raw(
        "INSERT INTO kv_entries (key, value) VALUES ($1, $2)",
        [new TextEncoder().encode("persisted"), new TextEncoder().encode('{"ü": [1, 2]}')],
      ));
      await first.close();
      const second = await openDatabase(settings({ url: undefined, embeddedDir: `${dir}/db` }));
      assert.deepEqual(second.migrations?.applied, [], "nothing left to apply");
      assert.equal(second.migrations?.current, PROJECT_MIGRATIONS.at(-1)!.version);
      const rows = await second.db.execute<{ value: Uint8Array }>(
        raw("SELECT value FROM kv_entries WHERE key = $1", [new TextEncoder().encode("persisted")]),
      );
      assert.equal(new TextDecoder().decode(rows[0].value), '{"ü": [1, 2]}');
      await second.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("open: a database that is down at start-up fails after the configured retries with a clear error, without the password", async () => {
  const port = freePort();
  const waits: number[] = [];
  await assert.rejects(
    openDatabase(
      settings({
        url: `postgres://app:s3cret@127.0.0.1:${port}/app`,
        connectRetries: 3,
        connectionTimeoutMs: 2_000,
      }),
      { sleep: (ms) => (waits.push(ms), Promise.resolve()) },
    ),
    (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.equal(e.code, "DB_UNAVAILABLE");
      assert.match(e.message, /after 4 attempt\(s\)/);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(e.message, /s3cret/);
      return true;
    },
  );
  assert.equal(waits.length, 3, "one backoff wait between attempts");
  for (const [i, w] of waits.entries()) {
    assert.ok(w >= 0 && w <= Math.min(5000, 200 * 2 ** i), `wait ${i} = ${w} within its ceiling`);
  }
});

Deno.test({
  name:
    "open: a database that goes away gives DB_UNAVAILABLE quickly and works again once it is back",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    let server = await startEmbeddedDatabase({ dataDir: dir });
    const port = server.port;
    const db = new Database({
      url: server.url,
      database: { ...CONFIG_DEFAULTS.database, connectionTimeoutMs: 1_000 },
      cache: CONFIG_DEFAULTS.cache,
      orm: CONFIG_DEFAULTS.orm,
      maxConnections: 1,
    });
    try {
      assert.deepEqual(await db.execute(raw("SELECT 1 AS x")), [{ x: 1 }]);
      await server.close();
      const t0 = performance.now();
      await assert.rejects(
        db.execute(raw("SELECT 2 AS x")),
        (e: unknown) => e instanceof DatabaseError && e.code === "DB_UNAVAILABLE",
      );
      assert.ok(performance.now() - t0 < 5_000, "no hang while it is down");
      server = await startEmbeddedDatabase({ dataDir: dir, port });
      assert.deepEqual(await db.execute(raw("SELECT 3 AS x")), [{ x: 3 }], "recovered by itself");
    } finally {
      await db.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("open: redactUrl hides the password and nothing else", () => {
  assert.equal(redactUrl("postgres://u:pw@h:5432/d?x=1"), "postgres://u:***@h:5432/d?x=1");
  assert.equal(redactUrl("postgres://u@h/d"), "postgres://u@h/d");
  assert.equal(redactUrl("not a url"), "(unparsable URL)");
});

const M1: Migration = { version: 1, name: "one", statements: ["CREATE TABLE m_one (id int)"] };
const M2: Migration = {
  version: 2,
  name: "two",
  statements: ["CREATE TABLE m_two (id int)", "INSERT INTO m_two VALUES (1)"],
};

const dbFor = (t: DbTarget) => databaseFor(t, { maxConnections: 4 });

dbTest("migrations: applied once, in order, and recorded with a checksum", async (t) => {
  const db = dbFor(t);
  try {
    const r1 = await migrate(db, [M2, M1]);
    assert.deepEqual(r1.applied.map((m) => m.version), [1, 2]);
    assert.equal(r1.current, 2);
    const r2 = await migrate(db, [M1, M2]);
    assert.deepEqual(r2.applied, []);
    const rows = await db.execute<{ version: number; checksum: string }>(
      raw(`SELECT version, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`),
    );
    assert.deepEqual(rows.map((r) => r.version), [1, 2]);
    assert.match(rows[0].checksum, /^[0-9a-f]{64}$/);
  } finally {
    await db.close();
  }
});

dbTest("migrations: an applied migration whose text changed is refused", async (t) => {
  const db = dbFor(t);
  try {
    await migrate(db, [M1]);
    await assert.rejects(
      migrate(db, [{ ...M1, statements: ["CREATE TABLE m_one (id int8)"] }]),
      (e: unknown) =>
        e instanceof DatabaseError && e.code === "DB_MIGRATION_FAILED" &&
        /changed after it was applied/.test(e.message),
    );
  } finally {
    await db.close();
  }
});

dbTest("migrations: a failing migration rolls back everything of that run", async (t) => {
  const db = dbFor(t);
  try {
    const bad: Migration = {
      version: 3,
      name: "bad",
      statements: ["CREATE TABLE m_bad (id nosuchtype)"],
    };
    await assert.rejects(
      migrate(db, [M1, M2, bad]),
      (e: unknown) =>
        e instanceof DatabaseError && e.code === "DB_MIGRATION_FAILED" &&
        /3 \(bad\)/.test(e.message),
    );
    const [{ n }] = await db.execute<{ n: number }>(raw(
      // This test's own schema only: other tests migrate in theirs meanwhile.
      "SELECT count(*)::int AS n FROM pg_tables " +
        "WHERE schemaname = current_schema() AND tablename IN ('m_one', 'm_two', $1)",
      [MIGRATIONS_TABLE],
    ));
    assert.equal(n, 0, "not even the migrations table was left behind");
  } finally {
    await db.close();
  }
});

dbTest(
  "migrations: two instances migrating at once apply each migration exactly once",
  async (t) => {
    const a = dbFor(t);
    const b = dbFor(t);
    try {
      const slow: Migration = {
        version: 3,
        name: "slow",
        statements: ["SELECT pg_sleep(0.3)", "CREATE TABLE m_slow (id int)"],
      };
      const [ra, rb] = await Promise.all([migrate(a, [M1, M2, slow]), migrate(b, [M1, M2, slow])]);
      const all = [...ra.applied, ...rb.applied].map((m) => m.version).sort();
      assert.deepEqual(all, [1, 2, 3], "each version applied by exactly one instance");
      assert.equal(ra.current, 3);
      assert.equal(rb.current, 3);
    } finally {
      await a.close();
      await b.close();
    }
  },
  { only: "postgres" },
); // two independent sessions need a real server
