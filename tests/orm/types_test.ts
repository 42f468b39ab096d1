/**
 * Compile-time checks of the inferred row types: `deno check` (and so
 * `deno test`) fails if an inference changes or a `@ts-expect-error` line
 * starts to type-check.
 */
import assert from "node:assert/strict";
import type { InsertRow, SelectRow, UpdateRow } from "../../src/orm/mod.ts";
import { excluded } from "../../src/orm/mod.ts";
import { allTypes, counters, db, posts, profiles, users } from "./_schema.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_ok?: T): void {}
type RowOf<Q extends { execute(): Promise<unknown[]> }> = Awaited<ReturnType<Q["execute"]>>[number];

Deno.test("row types of a table", () => {
  expectType<
    Equal<SelectRow<typeof users>, {
      id: bigint;
      name: string;
      email: string | null;
      age: number | null;
      meta: { tags: string[] };
      created_at: Date;
    }>
  >();
  expectType<
    Equal<InsertRow<typeof users>, {
      name: string;
      id?: bigint | number;
      email?: string | null;
      age?: number | null;
      meta?: { tags: string[] };
      created_at?: Date | string;
    }>
  >();
  expectType<
    Equal<UpdateRow<typeof counters>, { key?: string; n?: number; note?: string | null }>
  >();
  expectType<
    Equal<SelectRow<typeof allTypes>, {
      id: number;
      i2: number | null;
      i8: bigint | null;
      num: string | null;
      f4: number | null;
      f8: number | null;
      vc: string;
      b: boolean | null;
      ts: Date | null;
      tsn: Date | null;
      d: Date | null;
      jb: { a: number } | null;
      j: number[] | null;
      by: Uint8Array | null;
      u: string;
      arr: number[];
      tarr: string[] | null;
    }>
  >();
  // generatedAlways columns cannot be written
  expectType<Equal<"id" extends keyof InsertRow<typeof allTypes> ? 1 : 0, 0>>();
  expectType<Equal<"id" extends keyof UpdateRow<typeof allTypes> ? 1 : 0, 0>>();
  assert.ok(true);
});

Deno.test("select result types: columns, aliases, joins, aggregates", () => {
  const q = db.selectFrom(users.as("u")).leftJoin(posts.as("p"), "p.user_id", "u.id")
    .select("u.id", "p.title", "name as n").select((eb) => [eb.count("p.id").as("c")]);
  expectType<Equal<RowOf<typeof q>, { id: bigint; title: string | null; n: string; c: bigint }>>();

  const r = db.selectFrom(posts).rightJoin(users, "users.id", "posts.user_id").select(
    "posts.title",
    "users.name",
  );
  expectType<Equal<RowOf<typeof r>, { title: string | null; name: string }>>();

  const f = db.selectFrom(posts).fullJoin(users, "users.id", "posts.user_id").select(
    "posts.title",
    "users.name",
  );
  expectType<Equal<RowOf<typeof f>, { title: string | null; name: string | null }>>();

  const all = db.selectFrom(users).selectAll();
  expectType<Equal<RowOf<typeof all>, SelectRow<typeof users>>>();
  const allP = db.selectFrom(users).innerJoin(profiles, { using: ["id"] }).selectAll("profiles");
  expectType<Equal<RowOf<typeof allP>, SelectRow<typeof profiles>>>();

  const agg = db.selectFrom(posts).select((eb) => [
    eb.min("score").as("lo"),
    eb.sum<bigint>("score").as("total"),
    eb.lower("title").as("t"),
  ]);
  expectType<Equal<RowOf<typeof agg>, { lo: number | null; total: bigint | null; t: string }>>();
  assert.ok(true);
});

Deno.test("subquery, CTE and returning result types", () => {
  const sub = db.selectFrom(db.selectFrom(users).select("id", "age").as("s")).select("s.age");
  expectType<Equal<RowOf<typeof sub>, { age: number | null }>>();

  const cte = db.with("a", (qb) => qb.selectFrom(users).select("id", "name")).selectFrom("a")
    .select("name");
  expectType<Equal<RowOf<typeof cte>, { name: string }>>();

  const scalar = db.selectFrom(users).select((eb) => [
    eb.selectFrom(posts).select((e) => [e.count().as("n")]).as("n"),
  ]);
  expectType<Equal<RowOf<typeof scalar>, { n: bigint | null }>>();

  const ins = db.insertInto(users).values({ name: "x" }).returning("id", "email as e");
  expectType<Equal<RowOf<typeof ins>, { id: bigint; e: string | null }>>();
  const upd = db.updateTable(counters).set({ n: 1 }).where("key", "=", "k").returningAll();
  expectType<Equal<RowOf<typeof upd>, SelectRow<typeof counters>>>();
  const del = db.deleteFrom(posts).where("id", "=", 1).returning("title");
  expectType<Equal<RowOf<typeof del>, { title: string }>>();
  const none = db.deleteFrom(posts).where("id", "=", 1);
  // deno-lint-ignore ban-types
  expectType<Equal<RowOf<typeof none>, {}>>();
  assert.ok(true);
});

Deno.test("misuse is a type error", () => {
  const fail = () => {
    // @ts-expect-error unknown column
    db.selectFrom(users).select("nope");
    // @ts-expect-error unknown qualified column
    db.selectFrom(users).select("users.nope");
    // @ts-expect-error join on a column the joined table lacks
    db.selectFrom(users).innerJoin(posts, "posts.nope", "users.id");
    // @ts-expect-error USING a column not in both tables
    db.selectFrom(users).innerJoin(posts, { using: ["title"] });
    // @ts-expect-error not an operator
    db.selectFrom(users).where("age", "===", 1);
    // @ts-expect-error wrong value type
    db.selectFrom(users).where("age", "=", "x");
    // @ts-expect-error IN needs an array
    db.selectFrom(users).where("age", "in", 1);
    // @ts-expect-error BETWEEN needs a pair
    db.selectFrom(users).where("age", "between", [1]);
    // @ts-expect-error "is null" takes no value
    db.selectFrom(users).where("age", "is null", 1);
    // @ts-expect-error missing required column
    db.insertInto(users).values({ email: "x" });
    // @ts-expect-error unknown column in insert
    db.insertInto(users).values({ name: "x", nope: 1 });
    // @ts-expect-error generatedAlways column
    db.insertInto(allTypes).values({ id: 1 });
    // @ts-expect-error unknown column in update
    db.updateTable(users).set({ nope: 1 });
    // @ts-expect-error wrong type in update
    db.updateTable(users).set({ age: "x" });
    // @ts-expect-error unknown conflict column
    db.insertInto(users).values({ name: "x" }).onConflict((oc) => oc.columns("nope").doNothing());
    // @ts-expect-error unknown CTE
    db.selectFrom("nope");
    // @ts-expect-error selectAll of a table not in FROM
    db.selectFrom(users).selectAll("posts");
    // @ts-expect-error a select expression without alias
    db.selectFrom(users).select((eb) => [eb.count()]);
  };
  void fail;
  // These type-check:
  const ok = () => {
    db.selectFrom(users).where("id", "in", [1, 2n]).where("age", "between", [1, 2])
      .where("email", "is null").where("name", "ilike", "%a%").where(
        "created_at",
        "<",
        "2024-01-01",
      );
    db.insertInto(users).values({ name: "x" }).onConflict((oc) =>
      oc.columns("email").doUpdateSet({
        name: (eb) => eb.ref("excluded.name"),
        age: excluded("age"),
      })
    );
    db.selectFrom(users).innerJoin(profiles, { using: ["id"] });
  };
  void ok;
  assert.ok(true);
});
