import assert from "node:assert/strict";
import { excluded, ref, sql, val } from "../../src/orm/mod.ts";
import { allTypes, counters, db, posts, users } from "./_schema.ts";

Deno.test("insert one row: columns in key order, values as parameters", () => {
  const q = db.insertInto(users).values({ name: "ann", email: "a@x", age: 30 }).compile();
  assert.equal(q.sql, 'INSERT INTO "users" ("name", "email", "age") VALUES ($1, $2, $3)');
  assert.deepEqual(q.params, ["ann", "a@x", 30]);
  assert.equal(q.operation, "insert");
  assert.deepEqual(q.writes, ["users"]);
  assert.deepEqual(q.reads, []);
});

Deno.test("insert several rows with different keys: missing columns are DEFAULT", () => {
  const q = db.insertInto(users).values([
    { name: "a", email: "a@x" },
    { name: "b", age: 2 },
    { name: "c", email: undefined, age: null },
  ]).compile();
  assert.equal(
    q.sql,
    'INSERT INTO "users" ("name", "email", "age") VALUES ($1, $2, DEFAULT), ($3, DEFAULT, $4), ' +
      "($5, DEFAULT, $6)",
  );
  assert.deepEqual(q.params, ["a", "a@x", "b", 2, "c", null]);
});

Deno.test("insert values may be jsonb objects, arrays, dates, bytes and expressions", () => {
  const when = new Date("2024-01-02T03:04:05Z");
  const q = db.insertInto(users).values({
    name: (eb) => eb.upper(eb.val("ann")),
    meta: { tags: ["x", "y"] },
    created_at: when,
  }).compile();
  assert.equal(
    q.sql,
    'INSERT INTO "users" ("name", "meta", "created_at") VALUES (upper($1), $2, $3)',
  );
  assert.deepEqual(q.params, ["ann", { tags: ["x", "y"] }, when]);
  const bytes = new Uint8Array([1, 2]);
  const q2 = db.insertInto(allTypes).values({ by: bytes, arr: [1, 2, 3], vc: sql`'lit'` })
    .compile();
  assert.equal(q2.sql, `INSERT INTO "all_types" ("by", "arr", "vc") VALUES ($1, $2, 'lit')`);
  assert.deepEqual(q2.params, [bytes, [1, 2, 3]]);
  assert.deepEqual(q2.rawText, ["'lit'"]);
});

Deno.test("insert a scalar subquery value", () => {
  const q = db.insertInto(posts).values({
    user_id: db.selectFrom(users).select("id").where("email", "=", "a@x"),
    title: "t",
  }).compile();
  assert.equal(
    q.sql,
    'INSERT INTO "posts" ("user_id", "title") VALUES ((SELECT "users"."id" FROM "users" WHERE ' +
      '"users"."email" = $1), $2)',
  );
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, ["posts"]);
});

Deno.test("insert … returning columns, aliases and *", () => {
  assert.equal(
    db.insertInto(users).values({ name: "a" }).returning("id", "name as n").compile().sql,
    'INSERT INTO "users" ("name") VALUES ($1) RETURNING "users"."id", "users"."name" AS "n"',
  );
  assert.equal(
    db.insertInto(users).values({ name: "a" }).returningAll().compile().sql,
    'INSERT INTO "users" ("name") VALUES ($1) RETURNING *',
  );
  assert.equal(
    db.insertInto(users.as("u")).values({ name: "a" }).returning("u.id").compile().sql,
    'INSERT INTO "users" AS "u" ("name") VALUES ($1) RETURNING "u"."id"',
  );
});

Deno.test("insert default values", () => {
  assert.equal(
    db.insertInto(counters.as("c")).defaultValues().compile().sql,
    'INSERT INTO "counters" AS "c" DEFAULT VALUES',
  );
});

Deno.test("insert … select", () => {
  const q = db.insertInto(posts).fromSelect(
    ["user_id", "title"],
    db.selectFrom(users).select((eb) => ["id", eb.val("hello").as("title")]).where("age", ">", 1),
  ).compile();
  assert.equal(
    q.sql,
    'INSERT INTO "posts" ("user_id", "title") SELECT "users"."id", $1 AS "title" FROM "users" ' +
      'WHERE "users"."age" > $2',
  );
  assert.deepEqual(q.params, ["hello", 1]);
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, ["posts"]);
});

Deno.test("on conflict (columns) do nothing, on constraint, no target", () => {
  const base = db.insertInto(users).values({ name: "a", email: "a@x" });
  assert.equal(
    base.onConflict((oc) => oc.columns("email").doNothing()).compile().sql,
    'INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ("email") DO NOTHING',
  );
  assert.equal(
    base.onConflict((oc) => oc.constraint("users_email_key").doNothing()).compile().sql,
    'INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT ON CONSTRAINT ' +
      '"users_email_key" DO NOTHING',
  );
  assert.equal(
    base.onConflict((oc) => oc.doNothing()).compile().sql,
    'INSERT INTO "users" ("name", "email") VALUES ($1, $2) ON CONFLICT DO NOTHING',
  );
});

Deno.test("on conflict do update set with excluded, expressions and where", () => {
  const q = db.insertInto(counters).values({ key: "k", n: 1 }).onConflict((oc) =>
    oc.columns("key").doUpdateSet({
      n: (eb) => eb.op("n", "+", eb.ref("excluded.n")),
      note: excluded("note"),
    }).where((eb) => eb.cmp("counters.n", "<", 100))
  ).returning("n").compile();
  assert.equal(
    q.sql,
    'INSERT INTO "counters" ("key", "n") VALUES ($1, $2) ON CONFLICT ("key") DO UPDATE SET ' +
      '"n" = "counters"."n" + "excluded"."n", "note" = "excluded"."note" WHERE "counters"."n" < $3 ' +
      'RETURNING "counters"."n"',
  );
  assert.deepEqual(q.params, ["k", 1, 100]);
});

Deno.test("on conflict do update: plain values and constant expressions", () => {
  const q = db.insertInto(counters.as("c")).values({ key: "k" }).onConflict((oc) =>
    oc.constraint("counters_pkey").doUpdateSet({ n: 0, note: val("reset") }).where(
      "c.note",
      "is not null",
    )
  ).compile();
  assert.equal(
    q.sql,
    'INSERT INTO "counters" AS "c" ("key") VALUES ($1) ON CONFLICT ON CONSTRAINT "counters_pkey" ' +
      'DO UPDATE SET "n" = $2, "note" = $3 WHERE "c"."note" IS NOT NULL',
  );
  assert.deepEqual(q.params, ["k", 0, "reset"]);
});

Deno.test("update set values and expressions, where, returning", () => {
  const q = db.updateTable(counters).set({
    n: (eb) => eb.op("n", "*", 2),
    note: "doubled",
  }).where("key", "=", "a").returning("key", "n").compile();
  assert.equal(
    q.sql,
    'UPDATE "counters" SET "n" = "counters"."n" * $1, "note" = $2 WHERE "counters"."key" = $3 ' +
      'RETURNING "counters"."key", "counters"."n"',
  );
  assert.deepEqual(q.params, [2, "doubled", "a"]);
  assert.equal(q.operation, "update");
  assert.deepEqual(q.writes, ["counters"]);
});

Deno.test("update: later set() overrides a key; undefined values are skipped", () => {
  const q = db.updateTable(users).set({ name: "a", age: 1 }).set({ name: "b", email: undefined })
    .where("id", "=", 1n).compile();
  assert.equal(
    q.sql,
    'UPDATE "users" SET "age" = $1, "name" = $2 WHERE "users"."id" = $3',
  );
  assert.deepEqual(q.params, [1, "b", 1n]);
});

Deno.test("update … from another table", () => {
  const q = db.updateTable(posts.as("p")).from(users.as("u")).set({
    title: (eb) => eb.ref("u.name"),
  }).whereRef("p.user_id", "=", "u.id").where("u.age", ">", 10).returning("p.id", "u.name")
    .compile();
  assert.equal(
    q.sql,
    'UPDATE "posts" AS "p" SET "title" = "u"."name" FROM "users" AS "u" WHERE "p"."user_id" = ' +
      '"u"."id" AND "u"."age" > $1 RETURNING "p"."id", "u"."name"',
  );
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, ["posts"]);
});

Deno.test("update … allowAllRows compiles without WHERE", () => {
  assert.equal(
    db.updateTable(posts).set({ published: false }).allowAllRows().compile().sql,
    'UPDATE "posts" SET "published" = $1',
  );
});

Deno.test("delete with where, using and returning", () => {
  const q = db.deleteFrom(posts).using(users).whereRef("posts.user_id", "=", "users.id").where(
    "users.email",
    "is null",
  ).returning("posts.id", "users.name").compile();
  assert.equal(
    q.sql,
    'DELETE FROM "posts" USING "users" WHERE "posts"."user_id" = "users"."id" AND ' +
      '"users"."email" IS NULL RETURNING "posts"."id", "users"."name"',
  );
  assert.equal(q.operation, "delete");
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, ["posts"]);
  assert.equal(
    db.deleteFrom(users.as("u")).where("u.id", "=", 3).returningAll().compile().sql,
    'DELETE FROM "users" AS "u" WHERE "u"."id" = $1 RETURNING *',
  );
  assert.equal(db.deleteFrom(users).allowAllRows().compile().sql, 'DELETE FROM "users"');
});

Deno.test("a ref() helper resolves like a string reference", () => {
  const q = db.updateTable(posts).set({ score: ref("posts.score") }).where("id", "=", 1).compile();
  assert.equal(q.sql, 'UPDATE "posts" SET "score" = "posts"."score" WHERE "posts"."id" = $1');
});
