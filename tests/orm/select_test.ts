import assert from "node:assert/strict";
import { sql } from "../../src/orm/mod.ts";
import { counters, db, posts, profiles, users } from "./_schema.ts";

Deno.test("select lists columns qualified and quoted, with `as` aliases", () => {
  const q = db.selectFrom(users).select("id", "name as n", "users.email").compile();
  assert.equal(q.sql, 'SELECT "users"."id", "users"."name" AS "n", "users"."email" FROM "users"');
  assert.deepEqual(q.params, []);
  assert.equal(q.operation, "select");
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, []);
  assert.deepEqual(q.rawText, []);
});

Deno.test("an alias equal to the column name is not repeated", () => {
  const q = db.selectFrom(users).select("name as name").compile();
  assert.equal(q.sql, 'SELECT "users"."name" FROM "users"');
});

Deno.test("selectAll selects * or alias.*", () => {
  assert.equal(db.selectFrom(users).selectAll().compile().sql, 'SELECT * FROM "users"');
  const q = db.selectFrom(users.as("u")).innerJoin(posts.as("p"), "p.user_id", "u.id")
    .selectAll("p").select("u.name").compile();
  assert.equal(
    q.sql,
    'SELECT "p".*, "u"."name" FROM "users" AS "u" INNER JOIN "posts" AS "p" ON "p"."user_id" = "u"."id"',
  );
});

Deno.test("select callback: aggregates with aliases", () => {
  const q = db.selectFrom(posts).select((eb) => [
    "user_id",
    eb.count().as("n"),
    eb.count("id").as("n_ids"),
    eb.countDistinct("title").as("titles"),
    eb.sum("score").as("total"),
    eb.avg("score").as("mean"),
    eb.min("score").as("lo"),
    eb.max("score").as("hi"),
  ]).groupBy("user_id").compile();
  assert.equal(
    q.sql,
    'SELECT "posts"."user_id", count(*) AS "n", count("posts"."id") AS "n_ids", ' +
      'count(DISTINCT "posts"."title") AS "titles", sum("posts"."score") AS "total", ' +
      'avg("posts"."score") AS "mean", min("posts"."score") AS "lo", max("posts"."score") AS "hi" ' +
      'FROM "posts" GROUP BY "posts"."user_id"',
  );
});

Deno.test("distinct and distinct on", () => {
  assert.equal(
    db.selectFrom(users).select("age").distinct().compile().sql,
    'SELECT DISTINCT "users"."age" FROM "users"',
  );
  assert.equal(
    db.selectFrom(posts).select("user_id", "title").distinctOn("user_id")
      .orderBy("user_id").orderBy("score", "desc").compile().sql,
    'SELECT DISTINCT ON ("posts"."user_id") "posts"."user_id", "posts"."title" FROM "posts" ' +
      'ORDER BY "user_id" ASC, "posts"."score" DESC',
  );
});

Deno.test("where with a value binds a parameter; several wheres are ANDed", () => {
  const q = db.selectFrom(users).select("id").where("age", ">", 18).where("name", "=", "bob")
    .compile();
  assert.equal(
    q.sql,
    'SELECT "users"."id" FROM "users" WHERE "users"."age" > $1 AND "users"."name" = $2',
  );
  assert.deepEqual(q.params, [18, "bob"]);
});

Deno.test("orderBy: direction, nulls, output aliases, expressions", () => {
  const q = db.selectFrom(users).select((eb) => ["age", eb.count().as("n")]).groupBy("age")
    .orderBy("n", "desc").orderBy("age", "asc", "last").orderBy("users.age", "desc", "first")
    .compile();
  assert.equal(
    q.sql,
    'SELECT "users"."age", count(*) AS "n" FROM "users" GROUP BY "users"."age" ' +
      'ORDER BY "n" DESC, "age" ASC NULLS LAST, "users"."age" DESC NULLS FIRST',
  );
  const q2 = db.selectFrom(users).select("id").orderBy(sql`random()`).compile();
  assert.equal(q2.sql, 'SELECT "users"."id" FROM "users" ORDER BY random() ASC');
});

Deno.test("limit and offset are parameters", () => {
  const q = db.selectFrom(users).select("id").limit(10).offset(20n).compile();
  assert.equal(q.sql, 'SELECT "users"."id" FROM "users" LIMIT $1 OFFSET $2');
  assert.deepEqual(q.params, [10, 20n]);
});

Deno.test("group by and having", () => {
  const q = db.selectFrom(posts).select((eb) => ["user_id", eb.sum("score").as("total")])
    .groupBy("user_id").having((eb) => eb.cmp(eb.sum("score"), ">=", 10)).having(
      "user_id",
      "!=",
      3,
    ).compile();
  assert.equal(
    q.sql,
    'SELECT "posts"."user_id", sum("posts"."score") AS "total" FROM "posts" ' +
      'GROUP BY "posts"."user_id" HAVING sum("posts"."score") >= $1 AND "posts"."user_id" <> $2',
  );
  assert.deepEqual(q.params, [10, 3]);
});

Deno.test("group by an output alias that is not an input column", () => {
  const q = db.selectFrom(users).select((eb) => [eb.lower("name").as("lname")]).groupBy("lname")
    .compile();
  assert.equal(q.sql, 'SELECT lower("users"."name") AS "lname" FROM "users" GROUP BY "lname"');
});

Deno.test("joins: inner, left, right, full with ON column = column", () => {
  const base = db.selectFrom(users);
  const cases = [
    [
      base.innerJoin(posts, "posts.user_id", "users.id").select("users.name", "posts.title"),
      "INNER JOIN",
    ],
    [
      base.leftJoin(posts, "posts.user_id", "users.id").select("users.name", "posts.title"),
      "LEFT JOIN",
    ],
    [
      base.rightJoin(posts, "posts.user_id", "users.id").select("users.name", "posts.title"),
      "RIGHT JOIN",
    ],
    [
      base.fullJoin(posts, "posts.user_id", "users.id").select("users.name", "posts.title"),
      "FULL JOIN",
    ],
  ] as const;
  for (const [q, kind] of cases) {
    const c = q.compile();
    assert.equal(
      c.sql,
      `SELECT "users"."name", "posts"."title" FROM "users" ${kind} "posts" ON "posts"."user_id" = "users"."id"`,
    );
    assert.deepEqual(c.reads, ["users", "posts"]);
  }
});

Deno.test("join ON callback with extra conditions", () => {
  const q = db.selectFrom(users.as("u")).leftJoin(
    posts.as("p"),
    (eb) => eb.and([eb.cmpRef("p.user_id", "=", "u.id"), eb.cmp("p.published", "=", true)]),
  ).select("u.id", "p.title").compile();
  assert.equal(
    q.sql,
    'SELECT "u"."id", "p"."title" FROM "users" AS "u" LEFT JOIN "posts" AS "p" ' +
      'ON "p"."user_id" = "u"."id" AND "p"."published" = $1',
  );
  assert.deepEqual(q.params, [true]);
});

Deno.test("join USING, CROSS and NATURAL", () => {
  assert.equal(
    db.selectFrom(users).innerJoin(profiles, { using: ["id"] }).select("name", "bio").compile().sql,
    'SELECT "users"."name", "profiles"."bio" FROM "users" INNER JOIN "profiles" USING ("id")',
  );
  assert.equal(
    db.selectFrom(users).leftJoin(profiles, { using: ["id"] }).select("bio").compile().sql,
    'SELECT "profiles"."bio" FROM "users" LEFT JOIN "profiles" USING ("id")',
  );
  assert.equal(
    db.selectFrom(users).crossJoin(counters).select("name", "key").compile().sql,
    'SELECT "users"."name", "counters"."key" FROM "users" CROSS JOIN "counters"',
  );
  assert.equal(
    db.selectFrom(users).naturalJoin(profiles).select("bio").compile().sql,
    'SELECT "profiles"."bio" FROM "users" NATURAL JOIN "profiles"',
  );
  assert.equal(
    db.selectFrom(users).naturalJoin(profiles, "left").select("bio").compile().sql,
    'SELECT "profiles"."bio" FROM "users" NATURAL LEFT JOIN "profiles"',
  );
  assert.equal(
    db.selectFrom(users).naturalJoin(profiles, "full").select("bio").compile().sql,
    'SELECT "profiles"."bio" FROM "users" NATURAL FULL JOIN "profiles"',
  );
});

Deno.test("a table joined to itself under two aliases", () => {
  const q = db.selectFrom(users.as("a")).innerJoin(users.as("b"), "b.age", "a.age")
    .select("a.name as left_name", "b.name as right_name").whereRef("a.id", "<", "b.id")
    .compile();
  assert.equal(
    q.sql,
    'SELECT "a"."name" AS "left_name", "b"."name" AS "right_name" FROM "users" AS "a" ' +
      'INNER JOIN "users" AS "b" ON "b"."age" = "a"."age" WHERE "a"."id" < "b"."id"',
  );
  assert.deepEqual(q.reads, ["users"]);
});

Deno.test("subquery in WHERE … IN, and NOT IN", () => {
  const published = db.selectFrom(posts).select("user_id").where("published", "=", true);
  const q = db.selectFrom(users).select("id").where("id", "in", published).where(
    "id",
    "not in",
    db.selectFrom(profiles).select("id"),
  ).compile();
  assert.equal(
    q.sql,
    'SELECT "users"."id" FROM "users" WHERE "users"."id" IN ' +
      '(SELECT "posts"."user_id" FROM "posts" WHERE "posts"."published" = $1) AND ' +
      '"users"."id" NOT IN (SELECT "profiles"."id" FROM "profiles")',
  );
  assert.deepEqual(q.params, [true]);
  assert.deepEqual(q.reads, ["users", "posts", "profiles"]);
});

Deno.test("correlated EXISTS / NOT EXISTS through the expression builder", () => {
  const q = db.selectFrom(users).select("name").where((eb) =>
    eb.and([
      eb.exists(eb.selectFrom(posts).select("id").whereRef("posts.user_id", "=", "users.id")),
      eb.notExists(
        eb.selectFrom(profiles).select("id").whereRef("profiles.id", "=", "users.id"),
      ),
    ])
  ).compile();
  assert.equal(
    q.sql,
    'SELECT "users"."name" FROM "users" WHERE EXISTS (SELECT "posts"."id" FROM "posts" ' +
      'WHERE "posts"."user_id" = "users"."id") AND NOT EXISTS (SELECT "profiles"."id" ' +
      'FROM "profiles" WHERE "profiles"."id" = "users"."id")',
  );
});

Deno.test("an unqualified column in a correlated subquery resolves to the inner table first", () => {
  const q = db.selectFrom(users).select("id").where((eb) =>
    eb.exists(
      eb.selectFrom(posts).select("title").where("id", "=", 1).whereRef(
        "user_id",
        "=",
        "users.id",
      ),
    )
  ).compile();
  assert.match(q.sql, /WHERE "posts"\."id" = \$1 AND "posts"\."user_id" = "users"\."id"/);
});

Deno.test("subquery as a FROM source with an alias, and as a scalar column", () => {
  const adults = db.selectFrom(users).select("id", "name").where("age", ">=", 18).as("adults");
  const q = db.selectFrom(adults).select("adults.name").where("id", ">", 5).compile();
  assert.equal(
    q.sql,
    'SELECT "adults"."name" FROM (SELECT "users"."id", "users"."name" FROM "users" ' +
      'WHERE "users"."age" >= $1) AS "adults" WHERE "adults"."id" > $2',
  );
  assert.deepEqual(q.params, [18, 5]);

  const q2 = db.selectFrom(users).select((eb) => [
    "name",
    eb.selectFrom(posts).select((e) => [e.count().as("n")]).whereRef(
      "posts.user_id",
      "=",
      "users.id",
    )
      .as("post_count"),
  ]).compile();
  assert.equal(
    q2.sql,
    'SELECT "users"."name", (SELECT count(*) AS "n" FROM "posts" WHERE "posts"."user_id" = ' +
      '"users"."id") AS "post_count" FROM "users"',
  );
});

Deno.test("derived table selectAll exposes the subquery's columns", () => {
  const inner = db.selectFrom(users).selectAll().as("x");
  const q = db.selectFrom(inner).select("x.email").compile();
  assert.equal(q.sql, 'SELECT "x"."email" FROM (SELECT * FROM "users") AS "x"');
});

Deno.test("CTE: with, select from it, alias it, chain CTEs", () => {
  const q = db.with(
    "adults",
    (qb) => qb.selectFrom(users).select("id", "name").where("age", ">=", 18),
  )
    .with("named", (qb) => qb.selectFrom("adults").select("name").where("name", "like", "a%"))
    .selectFrom("named as n").select("n.name").compile();
  assert.equal(
    q.sql,
    'WITH "adults" AS (SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."age" >= $1), ' +
      '"named" AS (SELECT "adults"."name" FROM "adults" WHERE "adults"."name" LIKE $2) ' +
      'SELECT "n"."name" FROM "named" AS "n"',
  );
  assert.deepEqual(q.params, [18, "a%"]);
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, []);
});

Deno.test("CTE joined to a table", () => {
  const q = db.with(
    "counts",
    (qb) => qb.selectFrom(posts).select((eb) => ["user_id", eb.count().as("n")]).groupBy("user_id"),
  )
    .selectFrom(users).innerJoin("counts", "counts.user_id", "users.id").select("name", "counts.n")
    .compile();
  assert.equal(
    q.sql,
    'WITH "counts" AS (SELECT "posts"."user_id", count(*) AS "n" FROM "posts" GROUP BY ' +
      '"posts"."user_id") SELECT "users"."name", "counts"."n" FROM "users" INNER JOIN "counts" ' +
      'ON "counts"."user_id" = "users"."id"',
  );
  assert.deepEqual(q.reads, ["posts", "users"]);
});

Deno.test("data-modifying CTE lists its target in writes", () => {
  const q = db.with(
    "gone",
    (qb) => qb.deleteFrom(posts).where("published", "=", false).returning("id", "user_id"),
  )
    .selectFrom("gone").select((eb) => [eb.count().as("n")]).compile();
  assert.equal(
    q.sql,
    'WITH "gone" AS (DELETE FROM "posts" WHERE "posts"."published" = $1 RETURNING "posts"."id", ' +
      '"posts"."user_id") SELECT count(*) AS "n" FROM "gone"',
  );
  assert.equal(q.operation, "select");
  assert.deepEqual(q.writes, ["posts"]);
  assert.deepEqual(q.reads, []);
});

Deno.test("CTE before an insert / update / delete", () => {
  const q = db.with("src", (qb) => qb.selectFrom(users).select("id").where("age", "is null"))
    .deleteFrom(posts).where((eb) => eb.cmp("user_id", "in", eb.selectFrom("src").select("id")))
    .compile();
  assert.equal(
    q.sql,
    'WITH "src" AS (SELECT "users"."id" FROM "users" WHERE "users"."age" IS NULL) DELETE FROM ' +
      '"posts" WHERE "posts"."user_id" IN (SELECT "src"."id" FROM "src")',
  );
  assert.deepEqual(q.reads, ["users"]);
  assert.deepEqual(q.writes, ["posts"]);
});

Deno.test("row locks: FOR UPDATE / SHARE with OF, SKIP LOCKED, NOWAIT", () => {
  const base = db.selectFrom(users).select("id").where("id", "=", 1);
  assert.equal(
    base.forUpdate().compile().sql,
    'SELECT "users"."id" FROM "users" WHERE "users"."id" = $1 FOR UPDATE',
  );
  assert.match(base.forUpdate({ skipLocked: true }).compile().sql, / FOR UPDATE SKIP LOCKED$/);
  assert.match(base.forShare({ noWait: true }).compile().sql, / FOR SHARE NOWAIT$/);
  assert.match(base.forNoKeyUpdate().compile().sql, / FOR NO KEY UPDATE$/);
  assert.match(base.forKeyShare().compile().sql, / FOR KEY SHARE$/);
  assert.match(base.forUpdate({ of: ["users"] }).compile().sql, / FOR UPDATE OF "users"$/);
});

Deno.test("full clause order", () => {
  const q = db.selectFrom(users.as("u")).leftJoin(posts.as("p"), "p.user_id", "u.id")
    .select((eb) => ["u.name", eb.count("p.id").as("n")]).distinct().where("u.age", ">", 1)
    .groupBy("u.name").having((eb) => eb.cmp(eb.count("p.id"), ">", 0)).orderBy("n", "desc")
    .limit(5).offset(10).compile();
  assert.equal(
    q.sql,
    'SELECT DISTINCT "u"."name", count("p"."id") AS "n" FROM "users" AS "u" LEFT JOIN "posts" ' +
      'AS "p" ON "p"."user_id" = "u"."id" WHERE "u"."age" > $1 GROUP BY "u"."name" HAVING ' +
      'count("p"."id") > $2 ORDER BY "n" DESC LIMIT $3 OFFSET $4',
  );
  assert.deepEqual(q.params, [1, 0, 5, 10]);
});

Deno.test("an unqualified column found in one joined table is qualified with it", () => {
  const q = db.selectFrom(users).innerJoin(posts, "posts.user_id", "users.id")
    .select("title", "name").compile();
  assert.equal(
    q.sql,
    'SELECT "posts"."title", "users"."name" FROM "users" INNER JOIN "posts" ON "posts"."user_id" = "users"."id"',
  );
});

Deno.test("a column merged by USING or NATURAL may be named unqualified", () => {
  assert.equal(
    db.selectFrom(users).innerJoin(profiles, { using: ["id"] }).select("id", "bio")
      .where("id", ">", 1).compile().sql,
    'SELECT "id", "profiles"."bio" FROM "users" INNER JOIN "profiles" USING ("id") WHERE "id" > $1',
  );
  assert.equal(
    db.selectFrom(users).naturalJoin(profiles).select("id").compile().sql,
    'SELECT "id" FROM "users" NATURAL JOIN "profiles"',
  );
});

Deno.test("a builder reused inside its own CTE query does not repeat the WITH clause", () => {
  const w = db.with("a", (qb) => qb.selectFrom(users).select("id").where("age", ">", 1));
  const q = w.selectFrom("a").select("id").where("id", "in", w.selectFrom("a").select("id"))
    .compile();
  assert.equal(
    q.sql,
    'WITH "a" AS (SELECT "users"."id" FROM "users" WHERE "users"."age" > $1) SELECT "a"."id" ' +
      'FROM "a" WHERE "a"."id" IN (SELECT "a"."id" FROM "a")',
  );
  assert.deepEqual(q.params, [1]);
});

Deno.test("insert … select from a CTE through the callback form", () => {
  const q = db.with("src", (qb) => qb.selectFrom(users).select("id").where("age", "is null"))
    .insertInto(posts).fromSelect(
      ["user_id", "title"],
      (eb) => eb.selectFrom("src").select((e) => ["id as user_id", e.val("t").as("title")]),
    ).compile();
  assert.equal(
    q.sql,
    'WITH "src" AS (SELECT "users"."id" FROM "users" WHERE "users"."age" IS NULL) INSERT INTO ' +
      '"posts" ("user_id", "title") SELECT "src"."id" AS "user_id", $1 AS "title" FROM "src"',
  );
});
