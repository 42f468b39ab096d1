import assert from "node:assert/strict";
import { OrmError } from "../../src/errors.ts";
import {
  createQueryBuilder,
  excluded,
  int4,
  type QueryExecutor,
  ref,
  sql,
  table,
  text,
} from "../../src/orm/mod.ts";
import { allTypes, counters, db, posts, profiles, users } from "./_schema.ts";

function refuses(
  fn: () => unknown,
  code: "ORM_INVALID_QUERY" | "ORM_UNSAFE_QUERY",
  message?: RegExp,
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OrmError, `expected OrmError, got ${e}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}
const invalid = (fn: () => unknown, message?: RegExp) => refuses(fn, "ORM_INVALID_QUERY", message);
// deno-lint-ignore no-explicit-any
const loose = db as any;

Deno.test("unknown column in select, where, order by, group by", () => {
  // deno-lint-ignore no-explicit-any
  const q = db.selectFrom(users) as any;
  invalid(() => q.select("nope").compile(), /unknown column "nope"/);
  invalid(() => q.select("id").where("nope", "=", 1).compile(), /unknown column "nope"/);
  invalid(() => q.select("id").orderBy("nope").compile(), /unknown column "nope"/);
  invalid(() => q.select("id").groupBy("nope").compile(), /unknown column "nope"/);
  invalid(() => q.select("users.nope").compile(), /unknown column "nope" in "users"/);
  invalid(() => q.select("other.id").compile(), /unknown table "other"/);
});

Deno.test("joins are validated: ON columns, USING columns in both tables, aliases", () => {
  // deno-lint-ignore no-explicit-any
  const q = db.selectFrom(users) as any;
  invalid(() => q.innerJoin(posts, "posts.nope", "users.id").select("users.id").compile(), /nope/);
  invalid(
    () => q.innerJoin(posts, { using: ["title"] }).select("users.id").compile(),
    /USING column "title" must exist in both/,
  );
  invalid(
    () => q.innerJoin(posts, { using: ["nope"] }).select("users.id").compile(),
    /USING column "nope"/,
  );
  invalid(() => q.innerJoin(posts, { using: [] }), /USING needs/);
  invalid(
    () => q.innerJoin(users, "users.id", "users.id").select("id").compile(),
    /more than once/,
  );
  invalid(() => q.innerJoin(posts, "user_id").compile(), /a join needs/);
  invalid(() => q.innerJoin("not a table", "a", "b"), /invalid CTE name/);
  invalid(() => q.innerJoin({ name: "users" }, "a", "b"), /invalid source/);
});

Deno.test("an unqualified column present in two joined tables is ambiguous", () => {
  invalid(
    () => db.selectFrom(users).innerJoin(posts, "posts.user_id", "users.id").select("id").compile(),
    /column "id" is ambiguous/,
  );
});

Deno.test("invalid identifiers are refused wherever a name is taken", () => {
  const bad = "users; drop table x";
  invalid(() => table(bad, { id: int4() }), /invalid table name/);
  invalid(() => table("ok", { [bad]: int4() }), /invalid column name/);
  invalid(() => users.as(bad), /invalid alias name/);
  invalid(() => loose.selectFrom(users).select(bad), /invalid column name/);
  invalid(() => loose.selectFrom(users).select(`id as ${bad}`), /invalid alias name/);
  invalid(() => loose.selectFrom(users).select(`"id"`), /invalid column name/);
  invalid(() => loose.selectFrom(users).where(`id = 1 or 1`, "=", 1), /invalid column name/);
  invalid(() => loose.selectFrom(bad), /invalid CTE name/);
  invalid(() => db.with(bad, (qb) => qb.selectFrom(users).select("id")), /invalid CTE name/);
  invalid(() => loose.selectFrom(users).selectAll(bad), /invalid table name/);
  invalid(() => ref(bad), /invalid column name/);
  invalid(() => excluded(bad), /invalid column name/);
  invalid(
    () => db.insertInto(users).onConflict((oc) => oc.constraint(bad).doNothing()),
    /invalid constraint name/,
  );
  invalid(() => loose.insertInto(users).values({ [bad]: 1 }), /invalid column name/);
  invalid(() => loose.updateTable(users).set({ [bad]: 1 }), /invalid column name/);
  invalid(() => db.selectFrom(users).select((eb) => [eb.count().as(bad)]), /invalid alias name/);
  invalid(() => db.selectFrom(users).select("id").as(bad), /invalid alias name/);
  invalid(() => table("x".repeat(64), { id: int4() }), /invalid table name/);
  invalid(() => table("1abc", { id: int4() }), /invalid table name/);
});

Deno.test("operators are a closed set", () => {
  const q = loose.selectFrom(users).select("id");
  for (const op of ["==", "; drop", "LIKE", "in ", "regexp", "", "is nul"]) {
    invalid(() => q.where("age", op, 1), /operator/);
  }
  invalid(() => q.whereRef("age", "in", "id"), /comparison operator/);
  invalid(
    () => q.where((eb: { op: (...a: unknown[]) => unknown }) => eb.op("age", "^", 1)),
    /arithmetic operator/,
  );
  invalid(() => q.orderBy("id", "sideways"), /sort direction/);
  invalid(() => q.orderBy("id", "asc", "middle"), /nulls ordering/);
  invalid(() => q.naturalJoin(profiles, "outer"), /natural join type/);
});

Deno.test("operator argument shapes are checked", () => {
  const q = loose.selectFrom(users).select("id");
  invalid(() => q.where("id", "in", 3), /needs an array or a subquery/);
  invalid(() => q.where("age", "between", [1]), /\[low, high\]/);
  invalid(() => q.where("age", "is", 1), /null, true or false/);
  invalid(() => q.where("age", "is null", 1), /takes no value/);
  invalid(() => q.where("age", "="), /needs a value/);
  invalid(() => q.where("age", "=", undefined), /undefined/);
  invalid(() => q.where("id", "in", [1, undefined]), /undefined/);
  invalid(() => q.where("age", "=", () => 1), /invalid value/);
  invalid(() => q.where(42), /condition must be an expression/);
  invalid(() => q.where(() => "age > 1"), /condition must be an expression/);
  invalid(() => q.where(1, 2, 3, 4), /1 to 3 arguments/);
  invalid(() => q.where({ raw: "1=1" }, "=", 1), /invalid operand/);
});

Deno.test("limit and offset must be non-negative integers", () => {
  const q = loose.selectFrom(users).select("id");
  for (const n of [-1, 1.5, NaN, Infinity, "10", -1n]) {
    invalid(() => q.limit(n), /limit must be a non-negative integer/);
    invalid(() => q.offset(n), /offset must be a non-negative integer/);
  }
});

Deno.test("UPDATE and DELETE without WHERE are unsafe unless allowed", () => {
  refuses(
    () => db.updateTable(users).set({ name: "x" }).compile(),
    "ORM_UNSAFE_QUERY",
    /UPDATE users has no WHERE/,
  );
  refuses(
    () => db.deleteFrom(users).compile(),
    "ORM_UNSAFE_QUERY",
    /DELETE FROM users has no WHERE/,
  );
  refuses(
    () => db.deleteFrom(users).where((eb) => eb.and([])).compile(),
    "ORM_UNSAFE_QUERY",
  );
  refuses(
    () =>
      db.with("x", (qb) => qb.deleteFrom(posts).returning("id")).selectFrom("x").select("id")
        .compile(),
    "ORM_UNSAFE_QUERY",
  );
  assert.doesNotThrow(() => db.deleteFrom(users).allowAllRows().compile());
});

Deno.test("inserts: empty, unknown columns, missing required columns, generated always", () => {
  invalid(() => db.insertInto(users).values([]), /empty insert/);
  invalid(() => loose.insertInto(users).values({}), /empty insert/);
  invalid(() => loose.insertInto(users).values({ name: undefined }), /empty insert/);
  invalid(() => loose.insertInto(users).compile(), /empty insert/);
  invalid(
    () => loose.insertInto(users).values({ name: "a", nope: 1 }).compile(),
    /unknown column "nope"/,
  );
  invalid(
    () => loose.insertInto(users).values({ email: "a" }).compile(),
    /required column users\.name/,
  );
  invalid(
    () => loose.insertInto(users).values([{ name: "a" }, { email: "b" }]).compile(),
    /required column users\.name/,
  );
  invalid(() => loose.insertInto(allTypes).values({ id: 1 }).compile(), /GENERATED ALWAYS/);
  invalid(() => loose.insertInto(users).values("name"), /must be an object/);
  invalid(() => loose.insertInto(users).values([null]), /must be an object/);
  invalid(
    () => loose.insertInto(users).fromSelect([], db.selectFrom(users).select("id")),
    /column list/,
  );
  invalid(() => loose.insertInto(users).fromSelect(["name"], {}), /select query/);
  invalid(
    () =>
      loose.insertInto(users).fromSelect(["email"], db.selectFrom(users).select("email")).compile(),
    /required column users\.name/,
  );
  invalid(() => loose.insertInto("users"), /invalid target/);
});

Deno.test("on conflict: needs an action; DO UPDATE needs a target; columns are checked", () => {
  const base = db.insertInto(counters).values({ key: "k" });
  invalid(() => base.onConflict((oc) => oc.columns("key")), /needs an action/);
  invalid(
    () => base.onConflict((oc) => oc.doUpdateSet({ n: 1 })).compile(),
    /needs conflict columns/,
  );
  invalid(
    () => base.onConflict((oc) => oc.columns("key").where("n", ">", 1)),
    /doUpdateSet\(\) first/,
  );
  invalid(() => base.onConflict((oc) => oc.columns("key").doUpdateSet({})), /at least one column/);
  invalid(
    // deno-lint-ignore no-explicit-any
    () => base.onConflict((oc: any) => oc.columns("nope").doNothing()).compile(),
    /unknown conflict column "nope"/,
  );
  invalid(
    // deno-lint-ignore no-explicit-any
    () => base.onConflict((oc: any) => oc.columns("key").doUpdateSet({ nope: 1 })).compile(),
    /unknown column "nope"/,
  );
  // deno-lint-ignore no-explicit-any
  invalid(() => base.onConflict((() => ({})) as any), /must return the conflict builder/);
});

Deno.test("updates: unknown, duplicate-free and writable columns; non-empty set", () => {
  invalid(
    () => loose.updateTable(users).set({ nope: 1 }).where("id", "=", 1).compile(),
    /unknown column "nope"/,
  );
  invalid(() => loose.updateTable(users).where("id", "=", 1).compile(), /nothing to set/);
  invalid(() => loose.updateTable(users).set({ name: undefined }), /set\(\) got no columns/);
  invalid(
    () => loose.updateTable(allTypes).set({ id: 2 }).allowAllRows().compile(),
    /GENERATED ALWAYS/,
  );
  invalid(() => loose.updateTable(users).set("name = 1"), /object of column/);
  invalid(() => loose.updateTable(users).set({ name: () => "x" }), /must return an expression/);
});

Deno.test("selected expressions need an alias; unknown CTEs and tables are refused", () => {
  invalid(
    () => loose.selectFrom(users).select((eb: { count(): unknown }) => [eb.count()]),
    /needs an alias/,
  );
  invalid(() => loose.selectFrom("missing").selectAll().compile(), /unknown CTE "missing"/);
  invalid(() => loose.selectFrom(users).selectAll("posts").compile(), /unknown table "posts"/);
  invalid(
    () => loose.selectFrom(users).select("id").forUpdate({ of: ["posts"] }).compile(),
    /FOR … OF/,
  );
  invalid(
    () => loose.selectFrom(users).select("id").forUpdate({ skipLocked: true, noWait: true }),
    /one of skipLocked and noWait/,
  );
  invalid(() => loose.selectFrom(users).distinctOn(), /at least one column/);
  invalid(() => loose.selectFrom(users).groupBy(), /at least one column/);
  invalid(() => loose.selectFrom(users).select(42), /invalid select item/);
  invalid(() => loose.selectFrom(users).select(() => "id"), /must return an array/);
  invalid(
    () =>
      db.with("a", (qb) => qb.selectFrom(users).select("id")).with(
        "a",
        (qb) => qb.selectFrom(users).select("id"),
      ),
    /used more than once/,
  );
  invalid(() => loose.with("a", () => "select 1"), /needs a query builder/);
});

Deno.test("a subquery's output columns are checked when used as a source", () => {
  const sub = db.selectFrom(users).select("id").as("s");
  invalid(() => loose.selectFrom(sub).select("s.name").compile(), /unknown column "name" in "s"/);
  const cte = db.with("c", (qb) => qb.selectFrom(users).select("name"));
  invalid(
    () => (cte as typeof loose).selectFrom("c").select("id").compile(),
    /unknown column "id"/,
  );
  const mod = db.with("m", (qb) => qb.insertInto(counters).values({ key: "k" }));
  invalid(
    () => (mod as typeof loose).selectFrom("m").select("key").compile(),
    /unknown column "key"/,
  );
});

Deno.test("sql must be used as a tagged template", () => {
  // deno-lint-ignore no-explicit-any
  const tag = sql as any;
  invalid(() => tag(["select 1"], 2), /tagged template/);
  invalid(() => tag("select 1"), /tagged template/);
  invalid(() => sql`select ${undefined}`, /undefined/);
});

Deno.test("executing without an executor rejects", async () => {
  await assert.rejects(
    () => db.selectFrom(users).select("id").execute(),
    (e: unknown) => e instanceof OrmError && e.code === "ORM_INVALID_QUERY",
  );
  await assert.rejects(() => sql`select 1`.execute(), OrmError);
});

Deno.test("a refused query never reaches the executor", async () => {
  let calls = 0;
  const executor: QueryExecutor = {
    execute<R>(): Promise<R[]> {
      calls++;
      return Promise.resolve([]);
    },
  };
  const q = createQueryBuilder(executor);
  await assert.rejects(() => q.deleteFrom(users).execute(), OrmError);
  // deno-lint-ignore no-explicit-any
  await assert.rejects(() => (q as any).selectFrom(users).select("nope").execute(), OrmError);
  assert.equal(calls, 0);
  await q.selectFrom(users).select("id").execute();
  assert.equal(calls, 1);
});

Deno.test("schema declarations are validated", () => {
  invalid(() => table("t", {}), /has no columns/);
  invalid(() => table("t", { a: "text" as never }), /not a column declaration/);
  invalid(() => text().primaryKey().nullable(), /primary key column cannot be nullable/);
  invalid(() => text().nullable().primaryKey(), /primary key column cannot be nullable/);
  invalid(() => text().generatedByDefault(), /identity column must be int2, int4 or int8/);
  invalid(() => int4().nullable().generatedAlways(), /identity column cannot be nullable/);
  invalid(() => int4().default(1).generatedAlways(), /cannot have a default/);
  invalid(() => int4().generatedAlways().default(1), /cannot have a default/);
  invalid(() => text().defaultNow(), /defaultNow\(\) needs/);
  invalid(() => text().defaultRandom(), /defaultRandom\(\) needs/);
  invalid(() => int4().default(1.5), /does not fit a int4/);
  invalid(() => int4().default("1" as never), /does not fit/);
  invalid(() => text().default(null as never), /DEFAULT NULL needs a nullable column/);
  invalid(() => text().default("a\0b"), /does not fit/);
  invalid(() => int4().default(1).array(), /before default/);
  invalid(() => int4().array().default([1, 1.5]), /does not fit/);
  invalid(() => text().references("users; x", "id"), /invalid table name/);
  invalid(
    () => text().references("users", "id", { onDelete: "drop" as never }),
    /referential action/,
  );
  invalid(
    () => table("t", { a: int4(), b: int4() }, { primaryKey: ["a", "c" as "a"] }),
    /unknown column c/,
  );
  invalid(
    () => table("t", { a: int4().primaryKey(), b: int4() }, { primaryKey: ["b"] }),
    /both a column and a composite primary key/,
  );
  invalid(() => table("t", { a: int4().primaryKey(), b: int4().primaryKey() }), /several/);
  invalid(() => table("t", { a: int4().nullable() }, { primaryKey: ["a"] }), /is nullable/);
  invalid(() => table("t", { a: int4() }, { unique: [[]] }), /is empty/);
});
