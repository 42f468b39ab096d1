import assert from "node:assert/strict";
import { sql } from "../../src/orm/mod.ts";
import { db, posts, users } from "./_schema.ts";

const where = (
  build: (q: ReturnType<typeof base>) => { compile(): { sql: string; params: readonly unknown[] } },
) => {
  const c = build(base()).compile();
  return { sql: c.sql.slice(PREFIX.length), params: c.params };
};
const base = () => db.selectFrom(users).select("id");
const PREFIX = 'SELECT "users"."id" FROM "users" WHERE ';

Deno.test("every comparison operator maps to its SQL", () => {
  const cases = [
    ["=", "="],
    ["!=", "<>"],
    ["<>", "<>"],
    ["<", "<"],
    ["<=", "<="],
    [">", ">"],
    [">=", ">="],
    ["is distinct from", "IS DISTINCT FROM"],
    ["is not distinct from", "IS NOT DISTINCT FROM"],
  ] as const;
  for (const [op, text] of cases) {
    const c = where((q) => q.where("age", op, 7));
    assert.equal(c.sql, `"users"."age" ${text} $1`, op);
    assert.deepEqual(c.params, [7]);
  }
  for (
    const [op, text] of [
      ["like", "LIKE"],
      ["not like", "NOT LIKE"],
      ["ilike", "ILIKE"],
      ["not ilike", "NOT ILIKE"],
    ] as const
  ) {
    const c = where((q) => q.where("name", op, "%a%"));
    assert.equal(c.sql, `"users"."name" ${text} $1`, op);
    assert.deepEqual(c.params, ["%a%"]);
  }
});

Deno.test("in / not in with values", () => {
  assert.deepEqual(where((q) => q.where("id", "in", [1, 2n, 3])), {
    sql: '"users"."id" IN ($1, $2, $3)',
    params: [1, 2n, 3],
  });
  assert.deepEqual(where((q) => q.where("name", "not in", ["a", "b"])), {
    sql: '"users"."name" NOT IN ($1, $2)',
    params: ["a", "b"],
  });
});

Deno.test("an empty IN list is FALSE and an empty NOT IN list is TRUE", () => {
  assert.deepEqual(where((q) => q.where("id", "in", [])), { sql: "1 = 0", params: [] });
  assert.deepEqual(where((q) => q.where("id", "not in", [])), { sql: "1 = 1", params: [] });
  assert.deepEqual(
    where((q) => q.where((eb) => eb.or([eb.cmp("id", "in", []), eb.cmp("age", "=", 1)]))),
    { sql: '1 = 0 OR "users"."age" = $1', params: [1] },
  );
});

Deno.test("between / not between", () => {
  assert.deepEqual(where((q) => q.where("age", "between", [18, 65])), {
    sql: '"users"."age" BETWEEN $1 AND $2',
    params: [18, 65],
  });
  assert.deepEqual(where((q) => q.where("age", "not between", [1, 2])), {
    sql: '"users"."age" NOT BETWEEN $1 AND $2',
    params: [1, 2],
  });
});

Deno.test("is null / is not null / is true / is not false", () => {
  assert.equal(where((q) => q.where("email", "is null")).sql, '"users"."email" IS NULL');
  assert.equal(where((q) => q.where("email", "is not null")).sql, '"users"."email" IS NOT NULL');
  assert.equal(where((q) => q.where("email", "is", null)).sql, '"users"."email" IS NULL');
  assert.equal(where((q) => q.where("email", "is not", null)).sql, '"users"."email" IS NOT NULL');
  const p = db.selectFrom(posts).select("id").where("published", "is", true).where(
    "published",
    "is not",
    false,
  ).compile();
  assert.equal(
    p.sql,
    'SELECT "posts"."id" FROM "posts" WHERE "posts"."published" IS TRUE AND "posts"."published" ' +
      "IS NOT FALSE",
  );
  assert.deepEqual(p.params, []);
});

Deno.test("nested and / or / not are parenthesized", () => {
  const c = where((q) =>
    q.where(({ and, or, not, cmp }) =>
      or([
        and([cmp("age", ">", 18), cmp("name", "like", "a%")]),
        not(or([cmp("email", "is null"), cmp("age", "<", 3)])),
        cmp("id", "=", 5),
      ])
    )
  );
  assert.equal(
    c.sql,
    '("users"."age" > $1 AND "users"."name" LIKE $2) OR NOT ("users"."email" IS NULL OR ' +
      '"users"."age" < $3) OR "users"."id" = $4',
  );
  assert.deepEqual(c.params, [18, "a%", 3, 5]);
});

Deno.test("empty and() is TRUE, empty or() is FALSE, single items are unwrapped", () => {
  assert.equal(where((q) => q.where((eb) => eb.and([]))).sql, "TRUE");
  assert.equal(where((q) => q.where((eb) => eb.or([]))).sql, "FALSE");
  assert.equal(
    where((q) => q.where((eb) => eb.and([eb.cmp("age", "=", 1)]))).sql,
    '"users"."age" = $1',
  );
});

Deno.test("a where callback ANDed with an earlier where keeps the OR grouped", () => {
  const c = where((q) =>
    q.where("age", ">", 1).where((eb) => eb.or([eb.cmp("id", "=", 1), eb.cmp("id", "=", 2)]))
  );
  assert.equal(c.sql, '"users"."age" > $1 AND ("users"."id" = $2 OR "users"."id" = $3)');
});

Deno.test("arithmetic operands are parenthesized inside comparisons", () => {
  const c = where((q) =>
    q.where((eb) => eb.cmp(eb.op(eb.op("age", "+", 1), "*", 2), ">", eb.ref("id")))
  );
  assert.equal(c.sql, '(("users"."age" + $1) * $2) > "users"."id"');
  assert.deepEqual(c.params, [1, 2]);
  for (const op of ["+", "-", "*", "/", "%", "||"] as const) {
    assert.equal(
      where((q) => q.where((eb) => eb.cmp(eb.op("age", op, 1), "=", 0))).sql,
      `("users"."age" ${op} $1) = $2`,
    );
  }
});

Deno.test("compare with expressions: columns, functions, scalar subqueries", () => {
  assert.equal(
    where((q) => q.where((eb) => eb.cmp(eb.lower("name"), "=", eb.lower("email")))).sql,
    'lower("users"."name") = lower("users"."email")',
  );
  assert.equal(
    where((q) => q.where("age", "=", db.selectFrom(users).select((eb) => [eb.max("age").as("m")])))
      .sql,
    '"users"."age" = (SELECT max("users"."age") AS "m" FROM "users")',
  );
  assert.equal(
    where((q) => q.where((eb) => eb.cmp(eb.coalesce("age", eb.val(0)), ">=", eb.abs("id")))).sql,
    'coalesce("users"."age", $1) >= abs("users"."id")',
  );
  assert.equal(
    where((q) => q.where((eb) => eb.cmp(eb.length("name"), ">", 2))).sql,
    'length("users"."name") > $1',
  );
  assert.equal(
    where((q) => q.where((eb) => eb.cmp("created_at", "<", eb.now()))).sql,
    '"users"."created_at" < now()',
  );
  assert.equal(
    where((q) => q.whereRef("users.age", ">=", "id")).sql,
    '"users"."age" >= "users"."id"',
  );
});

Deno.test("raw sql fragments: strings go to rawText, values to params, parenthesized in AND", () => {
  const c = base().where(sql`lower(${db.sql`name`}) = ${"bob"}`).where("age", ">", 2).compile();
  assert.equal(c.sql, PREFIX + '(lower(name) = $1) AND "users"."age" > $2');
  assert.deepEqual(c.params, ["bob", 2]);
  assert.deepEqual(c.rawText, ["lower(", "name", ") = ", ""]);
});

Deno.test("raw sql in OR is parenthesized", () => {
  const c = where((q) => q.where((eb) => eb.or([sql`a OR b`, eb.cmp("id", "=", 1)])));
  assert.equal(c.sql, '(a OR b) OR "users"."id" = $1');
});

Deno.test("a raw statement: operation raw, values as params, builders compiled inline", () => {
  const q = sql<{ n: number }>`select ${1}::int + ${2}::int as n, (${
    db.selectFrom(users).select("id").where("name", "=", "x").limit(1)
  })`.compile();
  assert.equal(
    q.sql,
    'select $1::int + $2::int as n, ((SELECT "users"."id" FROM "users" WHERE "users"."name" = $3 LIMIT $4))',
  );
  assert.deepEqual(q.params, [1, 2, "x", 1]);
  assert.equal(q.operation, "raw");
  assert.deepEqual(q.rawText, ["select ", "::int + ", "::int as n, (", ")"]);
  assert.deepEqual(q.reads, ["users"]);
});

Deno.test("sql values: arrays, objects, null stay single parameters", () => {
  const q = sql`select ${[1, 2]}, ${{ a: 1 }}, ${null}`.compile();
  assert.equal(q.sql, "select $1, $2, $3");
  assert.deepEqual(q.params, [[1, 2], { a: 1 }, null]);
});

Deno.test("selecting a value and a raw expression needs an alias", () => {
  const q = db.selectFrom(users).select((eb) => [eb.val(1).as("one"), sql<number>`2`.as("two")])
    .compile();
  assert.equal(q.sql, 'SELECT $1 AS "one", 2 AS "two" FROM "users"');
});
