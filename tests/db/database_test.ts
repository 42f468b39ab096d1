/**
 * The Database against the embedded PGlite and, with TEST_DATABASE_URL, the
 * real PostgreSQL: type mapping, transactions (commit, rollback, savepoints,
 * isolation, deadline, retry), the result cache and its invalidation,
 * metrics, the guard hook, pool exhaustion and statement timeouts.
 */
import assert from "node:assert/strict";
import type { Database } from "../../src/db/database.ts";
import { DatabaseError, OrmError } from "../../src/errors.ts";
import type { CompiledQuery } from "../../src/orm/query.ts";
import {
  databaseFor,
  type DbTarget,
  dbTest,
  rawQuery,
  type TestDatabaseOptions,
} from "../_helpers/db_targets.ts";

const raw = rawQuery;
const select = (sql: string, params: unknown[], table: string): CompiledQuery =>
  raw(sql, params, { operation: "select", reads: [table] });
const write = (sql: string, params: unknown[], table: string): CompiledQuery =>
  raw(sql, params, { operation: "insert", writes: [table] });

async function withDb(
  t: DbTarget,
  fn: (db: Database) => Promise<void>,
  over: TestDatabaseOptions = {},
): Promise<void> {
  const db = databaseFor(t, over);
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

dbTest(
  "database: PG types map to int8 → bigint, numeric → string, timestamptz → Date, jsonb → JSON, bytea → Uint8Array, arrays",
  async (t) => {
    await withDb(t, async (db) => {
      const [row] = await db.execute<Record<string, unknown>>(raw(
        "SELECT $1::int8 AS big, $2::numeric AS num, $3::timestamptz AS at, $4::jsonb AS doc, " +
          "$5::bytea AS bytes, $6::int4[] AS ints, $7::text[] AS texts, NULL::text AS nothing",
        [
          9007199254740993n,
          "12.50",
          new Date("2026-01-02T03:04:05.678Z"),
          { a: [1, "x", null], "ü": true },
          new Uint8Array([0, 1, 254, 255]),
          [1, 2, 3],
          ["a", "b,c", '"q"', "ü"],
        ],
      ));
      assert.equal(row.big, 9007199254740993n);
      assert.equal(row.num, "12.50");
      assert.deepEqual(row.at, new Date("2026-01-02T03:04:05.678Z"));
      assert.deepEqual(row.doc, { a: [1, "x", null], "ü": true });
      assert.ok(row.bytes instanceof Uint8Array);
      assert.deepEqual([...(row.bytes as Uint8Array)], [0, 1, 254, 255]);
      assert.deepEqual(row.ints, [1, 2, 3]);
      assert.deepEqual(row.texts, ["a", "b,c", '"q"', "ü"]);
      assert.equal(row.nothing, null);
    });
  },
);

dbTest(
  "database: a transaction commits when its body resolves and rolls back when it throws",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)"));
      await db.transaction(async (tx) => {
        await tx.execute(write("INSERT INTO items VALUES ($1, $2)", [1, "kept"], "items"));
      });
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute(write("INSERT INTO items VALUES ($1, $2)", [2, "dropped"], "items"));
          throw new Error("boom");
        }),
        /boom/,
      );
      const rows = await db.execute<{ id: number }>(raw("SELECT id FROM items ORDER BY id"));
      assert.deepEqual(rows.map((r) => r.id), [1]);
    });
  },
);

dbTest(
  "database: a nested transaction is a savepoint: its failure rolls back only itself",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY)"));
      await db.transaction(async (tx) => {
        await tx.execute(write("INSERT INTO items VALUES (1)", [], "items"));
        await assert.rejects(
          tx.transaction(async (inner) => {
            await inner.execute(write("INSERT INTO items VALUES (2)", [], "items"));
            await inner.execute(write("INSERT INTO items VALUES (1)", [], "items")); // duplicate key
          }),
          (e: unknown) => e instanceof DatabaseError && e.sqlState === "23505",
        );
        await tx.transaction(async (inner) => {
          await inner.execute(write("INSERT INTO items VALUES (3)", [], "items"));
        });
      });
      const rows = await db.execute<{ id: number }>(raw("SELECT id FROM items ORDER BY id"));
      assert.deepEqual(rows.map((r) => r.id), [1, 3]);
    });
  },
);

dbTest("database: isolation level and read-only mode reach PostgreSQL", async (t) => {
  await withDb(t, async (db) => {
    await db.transaction(async (tx) => {
      const [r] = await tx.execute<{ transaction_isolation: string }>(
        raw("SHOW transaction_isolation"),
      );
      assert.equal(r.transaction_isolation, "serializable");
    }, { isolation: "serializable" });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute(raw("CREATE TABLE nope (id int)"));
      }, { readOnly: true }),
      (e: unknown) => e instanceof DatabaseError && e.sqlState === "25006",
    );
  });
});

dbTest(
  "database: a transaction past its deadline is rolled back with DB_TIMEOUT, even if its body later succeeds",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY)"));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const tx = db.transaction(async (tx) => {
        await tx.execute(write("INSERT INTO items VALUES (1)", [], "items"));
        await gate; // stuck on something that is not the database
      }, { timeoutMs: 100 });
      await assert.rejects(
        tx,
        (e: unknown) => e instanceof DatabaseError && e.code === "DB_TIMEOUT",
      );
      release();
      await new Promise((r) => setTimeout(r, 50));
      const rows = await db.execute(raw("SELECT id FROM items"));
      assert.equal(rows.length, 0, "nothing of the expired transaction was committed");
    });
  },
);

dbTest("database: retries re-run a transaction after a serialization failure", async (t) => {
  await withDb(t, async (db) => {
    let runs = 0;
    const r = await db.transaction(async (tx) => {
      runs++;
      if (runs === 1) {
        // What PostgreSQL reports for a serialization conflict (SQLSTATE 40001).
        await tx.execute(raw(
          "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'conflict'; END $$",
        ));
      }
      return runs;
    }, { retries: 2, isolation: "serializable" });
    assert.equal(r, 2);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute(raw(
          "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'conflict'; END $$",
        ));
      }),
      (e: unknown) => e instanceof DatabaseError && e.code === "DB_SERIALIZATION_FAILURE",
    );
  });
});

dbTest(
  "database: SELECT results are cached and invalidated by a write to a table they read",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY, name text)"));
      await db.execute(write("INSERT INTO items VALUES (1, 'a')", [], "items"));
      const q = select("SELECT name FROM items WHERE id = $1", [1], "items");
      assert.deepEqual(await db.execute(q), [{ name: "a" }]);
      assert.deepEqual(await db.execute(q), [{ name: "a" }]);
      assert.equal(db.stats().cache.hits, 1);
      await db.execute(
        raw("UPDATE items SET name = 'b'", [], { operation: "update", writes: ["items"] }),
      );
      assert.deepEqual(await db.execute(q), [{ name: "b" }], "the write invalidated the entry");
      // Writes inside a committed transaction invalidate too.
      await db.transaction(async (tx) => {
        await tx.execute(
          raw("UPDATE items SET name = 'c'", [], { operation: "update", writes: ["items"] }),
        );
      });
      assert.deepEqual(await db.execute(q), [{ name: "c" }]);
      const s = db.stats();
      assert.equal(s.cache.hits, 1);
      assert.ok(s.cache.invalidations >= 2);
    });
  },
);

dbTest(
  "database: metrics count statements by operation and table, with errors by code",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY)"));
      await db.execute(write("INSERT INTO items VALUES (1), (2)", [], "items"));
      await db.execute(select("SELECT * FROM items", [], "items"));
      await assert.rejects(db.execute(write("INSERT INTO items VALUES (1)", [], "items")));
      const q = db.stats().queries.queries;
      const ins = q.find((f) => f.operation === "insert" && f.table === "items")!;
      assert.equal(ins.duration.count, 2);
      assert.equal(ins.errors, 1);
      const sel = q.find((f) => f.operation === "select" && f.table === "items")!;
      assert.equal(sel.rows, 2);
      assert.equal(db.stats().queries.errorsByCode.DB_QUERY_FAILED, 1);
      assert.ok(db.latencyQuantileMs("select", 0.5)! > 0);
    });
  },
);

dbTest("database: the guard sees every statement with its caller and can refuse it", async (t) => {
  const seen: string[] = [];
  await withDb(t, async (db) => {
    await db.forCaller("10.0.0.7").execute(raw("SELECT 1"));
    await assert.rejects(
      db.forCaller("10.0.0.8").execute(raw("SELECT 2")),
      (e: unknown) => e instanceof OrmError && e.code === "SQL_INJECTION_DETECTED",
    );
    await db.forCaller("10.0.0.7").transaction(async (tx) => {
      await tx.execute(raw("SELECT 3"));
    });
    assert.deepEqual(seen, ["10.0.0.7:SELECT 1", "10.0.0.8:SELECT 2", "10.0.0.7:SELECT 3"]);
  }, {
    guard: {
      check(q: CompiledQuery, caller: string) {
        seen.push(`${caller}:${q.sql}`);
        if (q.sql === "SELECT 2") throw new OrmError("SQL_INJECTION_DETECTED", "refused");
      },
    },
  });
});

dbTest(
  "database: an exhausted pool fails with DB_ACQUIRE_TIMEOUT instead of hanging",
  async (t) => {
    const size = t.name === "pglite" ? 1 : 2;
    await withDb(t, async (db) => {
      let release!: () => void;
      const hold = new Promise<void>((r) => (release = r));
      const holders = Array.from({ length: size }, () =>
        db.transaction(async (tx) => {
          await tx.execute(raw("SELECT 1"));
          await hold;
        }));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(db.stats().pool.inUse, size);
      const t0 = performance.now();
      await assert.rejects(
        db.execute(raw("SELECT 2")),
        (e: unknown) => e instanceof DatabaseError && e.code === "DB_ACQUIRE_TIMEOUT",
      );
      assert.ok(performance.now() - t0 < 2_000);
      release();
      await Promise.all(holders);
      assert.deepEqual(await db.execute(raw("SELECT 3 AS x")), [{ x: 3 }], "usable again");
    }, { maxConnections: size, database: { acquireTimeoutMs: 150 } });
  },
);

dbTest(
  "database: a statement over QUERY_TIMEOUT_MS fails with DB_TIMEOUT and the pool keeps working",
  async (t) => {
    await withDb(t, async (db) => {
      const t0 = performance.now();
      await assert.rejects(
        db.execute(raw("SELECT pg_sleep(5)")),
        (e: unknown) => e instanceof DatabaseError && e.code === "DB_TIMEOUT",
      );
      assert.ok(performance.now() - t0 < 3_000);
      assert.deepEqual(await db.execute(raw("SELECT 1 AS x")), [{ x: 1 }]);
    }, { database: { queryTimeoutMs: 200 } });
  },
  { only: "postgres" },
); // PGlite runs in-process: pg_sleep would block this event loop.

dbTest(
  "database: a connection killed mid-transaction rolls the transaction back and the pool recovers",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY)"));
      const admin = t.sql;
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute(write("INSERT INTO items VALUES (1)", [], "items"));
          const [{ pid }] = await tx.execute<{ pid: number }>(
            raw("SELECT pg_backend_pid() AS pid"),
          );
          await admin`SELECT pg_terminate_backend(${pid})`;
          await tx.execute(write("INSERT INTO items VALUES (2)", [], "items"));
        }),
        (e: unknown) => e instanceof DatabaseError,
      );
      // With one connection, this also proves the pool reconnects by itself.
      const rows = await db.execute(raw("SELECT id FROM items"));
      assert.equal(rows.length, 0, "nothing half-written");
      assert.ok(db.stats().poolResets >= 1);
    }, { maxConnections: 1 });
  },
  { only: "postgres" },
); // PGlite has one backend: there is no other session to kill it from.

dbTest(
  "database: raw SQL that is not a plain SELECT drops cached results (in a transaction too)",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY, name text)"));
      await db.execute(write("INSERT INTO items VALUES (1, 'a')", [], "items"));
      const q = select("SELECT name FROM items WHERE id = $1", [1], "items");
      await db.execute(q);
      // A raw write names no table the ORM knows of.
      await db.execute(raw("UPDATE items SET name = 'b'"));
      assert.deepEqual(await db.execute(q), [{ name: "b" }]);
      await db.transaction(async (tx) => {
        await tx.transaction(async (sp) => {
          await sp.execute(raw("UPDATE items SET name = 'c'"));
        });
      });
      assert.deepEqual(await db.execute(q), [{ name: "c" }]);
      // A plain raw SELECT keeps the cache.
      await db.execute(q);
      const hits = db.stats().cache.hits;
      await db.execute(raw("SELECT 1"));
      await db.execute(q);
      assert.equal(db.stats().cache.hits, hits + 1);
    });
  },
);

dbTest(
  "database: the caller's own error thrown in a transaction comes back unchanged, after the rollback",
  async (t) => {
    await withDb(t, async (db) => {
      await db.execute(raw("CREATE TABLE items (id int PRIMARY KEY)"));
      const mine = new TypeError("mine");
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute(write("INSERT INTO items VALUES (1)", [], "items"));
          throw mine;
        }),
        (e: unknown) => e === mine,
      );
      assert.equal((await db.execute(raw("SELECT id FROM items"))).length, 0);
    });
  },
);
