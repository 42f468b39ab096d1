/**
 * Every builder kind executed on the embedded PGlite and, with
 * TEST_DATABASE_URL, on PostgreSQL. Rows come from postgres.js with its
 * default type mapping (int8/numeric as strings); the ORM's job here is SQL
 * semantics, not type mapping.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type postgres from "postgres";
import { dbTest } from "../_helpers/db_targets.ts";
import {
  createQueryBuilder,
  createTableSql,
  excluded,
  type QueryExecutor,
  table,
  text,
} from "../../src/orm/mod.ts";
import { allTypes, counters, posts, profiles, users } from "./_schema.ts";

/** Runs compiled queries on a postgres.js client; rows as a plain array. */
function executorFor(sql: postgres.Sql): QueryExecutor {
  return {
    async execute<R>(q: { sql: string; params: readonly unknown[] }): Promise<R[]> {
      // deno-lint-ignore no-explicit-any
      const rows = await sql.unsafe(q.sql, q.params as any[]);
      return [...rows] as R[];
    },
  };
}

/** Create the test tables and a query builder running on `sql`. */
async function setup(sql: postgres.Sql) {
  const exec = executorFor(sql);
  for (const t of [users, posts, profiles, counters, allTypes]) {
    await exec.execute(createTableSql(t));
  }
  return createQueryBuilder(exec);
}

/** users 1..4, posts, profiles for users 1 and 3. */
async function seed(db: Awaited<ReturnType<typeof setup>>) {
  await db.insertInto(users).values([
    { id: 1, name: "Ann", email: "ann@x.org", age: 31 },
    { id: 2, name: "bob", email: "bob@x.org", age: 17 },
    { id: 3, name: "Cid", age: 45 },
    { id: 4, name: "dee", email: "dee@x.org" },
  ]).execute();
  await db.insertInto(posts).values([
    { user_id: 1, title: "a1", published: true, score: 5 },
    { user_id: 1, title: "a2", score: 7 },
    { user_id: 1, title: "a3", published: true, score: 1 },
    { user_id: 2, title: "b1", published: true, score: 10 },
    { user_id: 3, title: "c1" },
  ]).execute();
  await db.insertInto(profiles).values([{ id: 1, bio: "hi" }, { id: 3, bio: null }, { id: 9 }])
    .execute();
}

const num = (v: unknown) => Number(v);

dbTest("orm: DDL creates tables idempotently and defaults apply", async ({ sql }) => {
  const db = await setup(sql);
  await setup(sql); // IF NOT EXISTS
  const row = await db.insertInto(allTypes).defaultValues().returningAll().executeTakeFirst();
  assert.ok(row);
  assert.equal(row.vc, "it's");
  assert.deepEqual(row.arr, [1, 2]);
  assert.match(row.u, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  assert.equal(row.i8, null);
  const u = await db.insertInto(users).values({ name: "z" }).returningAll().executeTakeFirst();
  assert.ok(u);
  assert.deepEqual(u.meta, { tags: [] });
  assert.ok(u.created_at instanceof Date);
});

dbTest("orm: every column type round-trips through insert and select", async ({ sql }) => {
  const db = await setup(sql);
  const ts = new Date("2024-01-02T03:04:05.678Z");
  const [row] = await db.insertInto(allTypes).values({
    i2: 7,
    i8: 9007199254740993n,
    num: "12345678.90",
    f4: 1.5,
    f8: 2.25,
    vc: "varchar",
    b: true,
    ts,
    tsn: "2024-01-02 03:04:05",
    d: "2024-05-06",
    jb: { a: 1 },
    j: [1, 2],
    by: new Uint8Array([0, 1, 255]),
    u: "123e4567-e89b-12d3-a456-426614174000",
    arr: [3, 4, 5],
    tarr: ["x", "y'z"],
  }).returningAll().execute();
  assert.equal(row.i2, 7);
  assert.equal(String(row.i8), "9007199254740993");
  assert.equal(row.num, "12345678.90");
  assert.equal(row.f4, 1.5);
  assert.equal(row.f8, 2.25);
  assert.equal(row.b, true);
  assert.equal(row.ts?.getTime(), ts.getTime());
  assert.ok(row.tsn instanceof Date);
  assert.ok(row.d instanceof Date);
  assert.deepEqual(row.jb, { a: 1 });
  assert.deepEqual(row.j, [1, 2]);
  assert.deepEqual([...row.by!], [0, 1, 255]);
  assert.equal(row.u, "123e4567-e89b-12d3-a456-426614174000");
  assert.deepEqual(row.arr, [3, 4, 5]);
  assert.deepEqual(row.tarr, ["x", "y'z"]);
  const found = await db.selectFrom(allTypes).select("id").where("jb", "=", { a: 1 }).where(
    "by",
    "=",
    new Uint8Array([0, 1, 255]),
  ).where("ts", "=", ts).where("i8", "=", 9007199254740993n).execute();
  assert.equal(found.length, 1);
});

dbTest(
  "orm: insert single and multi-row (DEFAULT for missing keys) with returning",
  async ({ sql }) => {
    const db = await setup(sql);
    const one = await db.insertInto(users).values({ name: "Ann", email: "a@x" }).returning(
      "id",
      "name as n",
    ).executeTakeFirst();
    assert.deepEqual({ ...one, id: num(one?.id) }, { id: 1, n: "Ann" });
    const many = await db.insertInto(users).values([
      { name: "Bob", age: 3 },
      { name: "Cid", email: "c@x", meta: { tags: ["t"] } },
    ]).returning("name", "email", "age", "meta").execute();
    assert.deepEqual(many, [
      { name: "Bob", email: null, age: 3, meta: { tags: [] } },
      { name: "Cid", email: "c@x", age: null, meta: { tags: ["t"] } },
    ]);
    const none = await db.insertInto(users).values({ name: "Dee" }).execute();
    assert.deepEqual(none, []);
  },
);

dbTest("orm: insert … select and default values", async ({ sql }) => {
  const db = await setup(sql);
  await seed(db);
  await db.insertInto(posts).fromSelect(
    ["user_id", "title"],
    db.selectFrom(users).select((eb) => ["id", eb.upper("name").as("title")]).where("age", ">", 40),
  ).execute();
  const rows = await db.selectFrom(posts).select("title").where("user_id", "=", 3).orderBy("title")
    .execute();
  assert.deepEqual(rows.map((r) => r.title), ["CID", "c1"]);
  const c = await db.insertInto(counters).values({ key: "k" }).returningAll().executeTakeFirst();
  assert.deepEqual(c, { key: "k", n: 0, note: null });
});

dbTest(
  "orm: ON CONFLICT do nothing / do update with excluded, expression and where",
  async ({ sql }) => {
    const db = await setup(sql);
    const bump = (key: string, n: number, note?: string) =>
      db.insertInto(counters).values({ key, n, note }).onConflict((oc) =>
        oc.columns("key").doUpdateSet({
          n: (eb) => eb.op("n", "+", eb.ref("excluded.n")),
          note: excluded("note"),
        }).where((eb) => eb.cmp("counters.n", "<", 100))
      ).returning("key", "n", "note").execute();
    assert.deepEqual(await bump("a", 1, "first"), [{ key: "a", n: 1, note: "first" }]);
    assert.deepEqual(await bump("a", 5, "second"), [{ key: "a", n: 6, note: "second" }]);
    assert.deepEqual(await bump("a", 100), [{ key: "a", n: 106, note: null }]);
    // n >= 100 now: the WHERE filters the update, nothing is returned
    assert.deepEqual(await bump("a", 1), []);

    const nothing = await db.insertInto(counters).values({ key: "a", n: 0 })
      .onConflict((oc) => oc.columns("key").doNothing()).returningAll().execute();
    assert.deepEqual(nothing, []);
    const byConstraint = await db.insertInto(counters).values({ key: "a", n: 0 })
      .onConflict((oc) => oc.constraint("counters_pkey").doUpdateSet({ n: 0 })).returning("n")
      .execute();
    assert.deepEqual(byConstraint, [{ n: 0 }]);
    const noTarget = await db.insertInto(counters).values([{ key: "a" }, { key: "b" }])
      .onConflict((oc) => oc.doNothing()).returning("key").execute();
    assert.deepEqual(noTarget, [{ key: "b" }]);
  },
);

dbTest(
  "orm: update with expressions, from, returning; delete with using, returning",
  async ({ sql }) => {
    const db = await setup(sql);
    await seed(db);
    const up = await db.updateTable(posts).set({ score: (eb) => eb.op("score", "*", 10) })
      .where("user_id", "=", 1).where("published", "=", true).returning("title", "score").execute();
    assert.deepEqual(up.sort((a, b) => a.title.localeCompare(b.title)), [
      { title: "a1", score: 50 },
      { title: "a3", score: 10 },
    ]);
    const renamed = await db.updateTable(posts.as("p")).from(users.as("u")).set({
      title: (eb) => eb.op("u.name", "||", eb.op("p.title", "||", "!")),
    }).whereRef("p.user_id", "=", "u.id").where("u.name", "=", "bob").returning("p.title")
      .execute();
    assert.deepEqual(renamed, [{ title: "bobb1!" }]);
    const gone = await db.deleteFrom(posts).using(users).whereRef("posts.user_id", "=", "users.id")
      .where("users.email", "is null").returning("posts.title", "users.name").execute();
    assert.deepEqual(gone, [{ title: "c1", name: "Cid" }]);
    const all = await db.updateTable(posts).set({ published: false }).allowAllRows().returning("id")
      .execute();
    assert.equal(all.length, 4);
    const deleted = await db.deleteFrom(posts).allowAllRows().returningAll().execute();
    assert.equal(deleted.length, 4);
  },
);

dbTest("orm: joins of each kind return the right rows", async ({ sql }) => {
  const db = await setup(sql);
  await seed(db);
  const pairs = (rows: readonly { name: string | null; bio: string | null }[]) =>
    rows.map((r) => `${r.name}:${r.bio}`).sort();
  const base = db.selectFrom(users);
  assert.deepEqual(
    pairs(
      await base.innerJoin(profiles, "profiles.id", "users.id").select("name", "bio").execute(),
    ),
    ["Ann:hi", "Cid:null"],
  );
  assert.deepEqual(
    pairs(await base.leftJoin(profiles, "profiles.id", "users.id").select("name", "bio").execute()),
    ["Ann:hi", "Cid:null", "bob:null", "dee:null"],
  );
  const right = await base.rightJoin(profiles, "profiles.id", "users.id").select(
    "name",
    "bio",
    "profiles.id",
  ).execute();
  assert.deepEqual(right.map((r) => num(r.id)).sort(), [1, 3, 9]);
  assert.equal(right.find((r) => num(r.id) === 9)?.name, null);
  const full = await base.fullJoin(profiles, "profiles.id", "users.id").select(
    "users.name",
    "profiles.id",
  ).execute();
  assert.equal(full.length, 5);
  assert.deepEqual(
    pairs(await base.innerJoin(profiles, { using: ["id"] }).select("name", "bio").execute()),
    ["Ann:hi", "Cid:null"],
  );
  const using = await base.fullJoin(profiles, { using: ["id"] }).select("id").orderBy("id")
    .execute();
  assert.deepEqual(using.map((r) => num(r.id)), [1, 2, 3, 4, 9]);
  assert.deepEqual(
    pairs(await base.naturalJoin(profiles).select("name", "bio").execute()),
    ["Ann:hi", "Cid:null"],
  );
  assert.equal((await base.naturalJoin(profiles, "left").select("name").execute()).length, 4);
  const cross = await base.crossJoin(profiles).select((eb) => [eb.count().as("n")]).execute();
  assert.equal(num(cross[0].n), 12);
  const on = await db.selectFrom(users.as("u")).leftJoin(
    posts.as("p"),
    (eb) => eb.and([eb.cmpRef("p.user_id", "=", "u.id"), eb.cmp("p.published", "=", true)]),
  ).select("u.name", "p.title").where("u.id", "<=", 2).orderBy("u.name").orderBy("p.title")
    .execute();
  assert.deepEqual(on.map((r) => `${r.name}:${r.title}`), ["Ann:a1", "Ann:a3", "bob:b1"]);
  const self = await db.selectFrom(users.as("a")).innerJoin(users.as("b"), "b.id", "a.id")
    .select("a.name as x", "b.name as y").where("a.id", "=", 1).execute();
  assert.deepEqual(self, [{ x: "Ann", y: "Ann" }]);
});

dbTest("orm: group by, having, aggregates, order by output alias", async ({ sql }) => {
  const db = await setup(sql);
  await seed(db);
  const rows = await db.selectFrom(posts).select((eb) => [
    "user_id",
    eb.count().as("n"),
    eb.sum("score").as("total"),
    eb.avg("score").as("mean"),
    eb.min("title").as("first"),
    eb.max("score").as("best"),
    eb.countDistinct("published").as("kinds"),
  ]).groupBy("user_id").having((eb) => eb.cmp(eb.count(), ">=", 1)).having("user_id", "<", 3)
    .orderBy("n", "desc").execute();
  assert.deepEqual(
    rows.map((r) => ({ ...r, user_id: num(r.user_id), n: num(r.n), total: num(r.total) })),
    [
      {
        user_id: 1,
        n: 3,
        total: 13,
        mean: rows[0].mean,
        first: "a1",
        best: 7,
        kinds: rows[0].kinds,
      },
      {
        user_id: 2,
        n: 1,
        total: 10,
        mean: rows[1].mean,
        first: "b1",
        best: 10,
        kinds: rows[1].kinds,
      },
    ],
  );
  assert.equal(Number(rows[0].mean).toFixed(2), "4.33");
  assert.equal(num(rows[0].kinds), 2);
});

dbTest("orm: CTEs, including a data-modifying CTE", async ({ sql }) => {
  const db = await setup(sql);
  await seed(db);
  const adults = await db.with(
    "adults",
    (qb) => qb.selectFrom(users).select("id", "name").where("age", ">=", 18),
  ).with("named", (qb) => qb.selectFrom("adults").select("name").where("name", "ilike", "%n%"))
    .selectFrom("named as n").select("n.name").execute();
  assert.deepEqual(adults, [{ name: "Ann" }]);

  const counted = await db.with(
    "counts",
    (qb) => qb.selectFrom(posts).select((eb) => ["user_id", eb.count().as("n")]).groupBy("user_id"),
  )
    .selectFrom(users).innerJoin("counts", "counts.user_id", "users.id").select("name", "counts.n")
    .orderBy("name").execute();
  assert.deepEqual(counted.map((r) => `${r.name}=${r.n}`), ["Ann=3", "Cid=1", "bob=1"]);

  const moved = await db.with(
    "gone",
    (qb) => qb.deleteFrom(posts).where("published", "=", false).returning("id", "user_id"),
  ).selectFrom("gone").select((eb) => [eb.count().as("n")]).execute();
  assert.equal(num(moved[0].n), 2);
  const left = await db.selectFrom(posts).select((eb) => [eb.count().as("n")]).execute();
  assert.equal(num(left[0].n), 3);

  const inserted = await db.with(
    "src",
    (qb) => qb.selectFrom(users).select("id").where("age", "is null"),
  )
    .insertInto(posts).fromSelect(
      ["user_id", "title"],
      (eb) => eb.selectFrom("src").select((e) => ["id as user_id", e.val("from cte").as("title")]),
    ).returning("user_id", "title").execute();
  assert.deepEqual(inserted.map((r) => [num(r.user_id), r.title]), [[4, "from cte"]]);
});

dbTest("orm: subqueries in WHERE, EXISTS, FROM and the select list", async ({ sql }) => {
  const db = await setup(sql);
  await seed(db);
  const withPublished = await db.selectFrom(users).select("name").where(
    "id",
    "in",
    db.selectFrom(posts).select("user_id").where("published", "=", true),
  ).orderBy("name").execute();
  assert.deepEqual(withPublished.map((r) => r.name), ["Ann", "bob"]);
  const without = await db.selectFrom(users).select("name").where((eb) =>
    eb.notExists(eb.selectFrom(posts).select("id").whereRef("posts.user_id", "=", "users.id"))
  ).execute();
  assert.deepEqual(without, [{ name: "dee" }]);
  const notIn = await db.selectFrom(users).select("name").where(
    "id",
    "not in",
    db.selectFrom(profiles).select("id"),
  ).orderBy("name").execute();
  assert.deepEqual(notIn.map((r) => r.name), ["bob", "dee"]);
  const derived = await db.selectFrom(
    db.selectFrom(posts).select((eb) => ["user_id", eb.sum<string>("score").as("total")])
      .groupBy("user_id").as("t"),
  ).innerJoin(users, "users.id", "t.user_id").select("users.name", "t.total").where(
    "t.total",
    ">",
    "5",
  ).orderBy("name").execute();
  assert.deepEqual(derived.map((r) => `${r.name}=${r.total}`), ["Ann=13", "bob=10"]);
  const scalar = await db.selectFrom(users).select((eb) => [
    "name",
    eb.selectFrom(posts).select((e) => [e.count().as("n")]).whereRef(
      "posts.user_id",
      "=",
      "users.id",
    )
      .as("posts"),
  ]).orderBy("name").execute();
  assert.deepEqual(scalar.map((r) => `${r.name}=${r.posts}`), ["Ann=3", "Cid=1", "bob=1", "dee=0"]);
});

dbTest(
  "orm: distinct, limit/offset, between, like/ilike, in, is null, distinct from",
  async ({ sql }) => {
    const db = await setup(sql);
    await seed(db);
    const names = (rows: readonly { name: string }[]) => rows.map((r) => r.name);
    const q = db.selectFrom(users).select("name");
    const published = await db.selectFrom(posts).select("published").distinct().orderBy("published")
      .execute();
    assert.deepEqual(published, [{ published: false }, { published: true }]);
    const firstPerUser = await db.selectFrom(posts).select("user_id", "title").distinctOn("user_id")
      .orderBy("user_id").orderBy("score", "desc").execute();
    assert.deepEqual(firstPerUser.map((r) => r.title), ["a2", "b1", "c1"]);
    assert.deepEqual(names(await q.orderBy("id").limit(2).offset(1).execute()), ["bob", "Cid"]);
    assert.deepEqual(names(await q.where("age", "between", [17, 31]).orderBy("id").execute()), [
      "Ann",
      "bob",
    ]);
    assert.deepEqual(names(await q.where("age", "not between", [17, 31]).execute()), ["Cid"]);
    assert.deepEqual(names(await q.where("name", "ilike", "%D%").orderBy("id").execute()), [
      "Cid",
      "dee",
    ]);
    assert.deepEqual(names(await q.where("name", "like", "%d%").execute()), ["Cid", "dee"]);
    assert.deepEqual(names(await q.where("name", "not like", "%d%").orderBy("id").execute()), [
      "Ann",
      "bob",
    ]);
    assert.deepEqual(names(await q.where("id", "in", [2, 4n]).orderBy("id").execute()), [
      "bob",
      "dee",
    ]);
    assert.deepEqual(names(await q.where("id", "in", []).execute()), []);
    assert.equal((await q.where("id", "not in", []).execute()).length, 4);
    assert.deepEqual(names(await q.where("email", "is null").execute()), ["Cid"]);
    assert.deepEqual(names(await q.where("age", "is distinct from", 17).orderBy("id").execute()), [
      "Ann",
      "Cid",
      "dee",
    ]);
    assert.deepEqual(
      names(
        await q.where((eb) =>
          eb.or([
            eb.and([eb.cmp("age", ">", 40), eb.cmp("email", "is null")]),
            eb.cmp("id", "=", 2),
          ])
        ).orderBy("id", "desc").execute(),
      ),
      ["Cid", "bob"],
    );
    const nullsLast = await q.orderBy("age", "desc", "last").execute();
    assert.deepEqual(names(nullsLast), ["Cid", "Ann", "bob", "dee"]);
    const nullsFirst = await q.orderBy("age", "asc", "first").execute();
    assert.deepEqual(names(nullsFirst), ["dee", "bob", "Ann", "Cid"]);
  },
);

dbTest("orm: FOR UPDATE inside a transaction, and raw sql", async ({ sql }) => {
  const db = await setup(sql);
  await seed(db);
  await sql.begin(async (tx) => {
    const tdb = createQueryBuilder(executorFor(tx as unknown as postgres.Sql));
    const locked = await tdb.selectFrom(users).select("id").where("id", "=", 1).forUpdate({
      skipLocked: true,
    }).execute();
    assert.equal(locked.length, 1);
    await tdb.updateTable(users).set({ age: 32 }).where("id", "=", 1).execute();
  });
  const raw = await db.sql<{ n: number; name: string }>`select ${2}::int * 21 as n, (${
    db.selectFrom(users).select("name").where("id", "=", 1)
  }) as name`.execute();
  assert.deepEqual(raw, [{ n: 42, name: "Ann" }]);
  const age = await db.selectFrom(users).select("age").where("id", "=", 1).executeTakeFirst();
  assert.equal(age?.age, 32);
});

dbTest("orm: hostile strings round-trip as values (property)", async ({ sql }) => {
  const db = await setup(sql);
  let i = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: "grapheme" }),
        fc.constantFrom("'; drop table users; --", "\\' or 1=1 --", "$1", "$$x$$", "E'\\x00'"),
      ),
      async (v) => {
        const key = `k${i++}`;
        await db.insertInto(counters).values({ key, note: v }).execute();
        const back = await db.selectFrom(counters).select("note").where("key", "=", key).where(
          "note",
          "=",
          v,
        ).execute();
        assert.deepEqual(back, [{ note: v }]);
      },
    ),
    { numRuns: 40 },
  );
  const count = await db.selectFrom(counters).select((eb) => [eb.count().as("n")]).execute();
  assert.equal(num(count[0].n), i);
});

dbTest("orm: hostile strings as DEFAULT literals round-trip (property)", async ({ sql }) => {
  const exec = executorFor(sql);
  const db = createQueryBuilder(exec);
  let i = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: "grapheme" }),
        fc.constantFrom("'); drop table x; --", "\\", "\\'", "''", "E'", "$$"),
      ),
      async (v) => {
        const t = table(`d${i++}`, { id: text().primaryKey(), s: text().default(v) });
        await exec.execute(createTableSql(t));
        const row = await db.insertInto(t).values({ id: "x" }).returning("s").executeTakeFirst();
        assert.deepEqual(row, { s: v });
      },
    ),
    { numRuns: 25 },
  );
});
