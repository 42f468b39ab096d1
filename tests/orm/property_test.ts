import assert from "node:assert/strict";
import fc from "fast-check";
import { OrmError } from "../../src/errors.ts";
import { selectNodeOf } from "../../src/orm/builders/expression.ts";
import { IDENTIFIER_PATTERN } from "../../src/orm/identifier.ts";
import { type CompiledQuery, int4, ref, sql, table, text } from "../../src/orm/mod.ts";
import { counters, db, posts, users } from "./_schema.ts";

/** Strings built to look dangerous: quotes, backslashes, comments, keywords, placeholders, unicode. */
const nasty = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }).map((s) => s.replaceAll("\0", "")),
  fc.array(
    fc.constantFrom(
      "'",
      '"',
      "\\",
      "`",
      ";",
      "--",
      "/*",
      "*/",
      "$1",
      "$$",
      "$tag$",
      "E'",
      "DROP TABLE users",
      "OR 1=1",
      "SELECT",
      "users",
      "id",
      " ",
      "\n",
      "ü",
      "😀",
      "\u2028",
    ),
    { maxLength: 12 },
  ).map((parts) => parts.join("")),
);

type Build = (v: string) => { compile(): CompiledQuery };

const builds: Record<string, Build> = {
  "where =": (v) => db.selectFrom(users).select("id").where("name", "=", v),
  "where like": (v) => db.selectFrom(users).select("id").where("name", "ilike", v),
  "where in": (v) => db.selectFrom(users).select("id").where("name", "in", [v, "x", v]),
  "where between": (v) => db.selectFrom(users).select("id").where("name", "between", [v, v]),
  "where callback": (v) =>
    db.selectFrom(users).select("id").where((eb) =>
      eb.or([eb.cmp("name", "=", v), eb.not(eb.cmp("email", "!=", v))])
    ),
  "having": (v) =>
    db.selectFrom(users).select("name").groupBy("name").having((eb) => eb.cmp("name", ">", v)),
  "select val": (v) => db.selectFrom(users).select((eb) => [eb.val(v).as("x")]),
  "insert": (v) => db.insertInto(users).values([{ name: v, email: v }, { name: v }]),
  "insert jsonb": (v) => db.insertInto(users).values({ name: "n", meta: { tags: [v] } }),
  "upsert": (v) =>
    db.insertInto(counters).values({ key: v }).onConflict((oc) =>
      oc.columns("key").doUpdateSet({ note: v }).where("counters.note", "!=", v)
    ).returning("key"),
  "update": (v) =>
    db.updateTable(users).set({ name: v, email: (eb) => eb.op("email", "||", v) }).where(
      "name",
      "=",
      v,
    ),
  "delete": (v) => db.deleteFrom(posts).where("title", "like", v).returningAll(),
  "subquery": (v) =>
    db.selectFrom(users).select("id").where(
      "id",
      "in",
      db.selectFrom(posts).select("user_id").where("title", "=", v),
    ),
  "cte": (v) =>
    db.with("c", (qb) => qb.selectFrom(users).select("id").where("name", "=", v)).selectFrom("c")
      .select("id"),
  "sql value": (v) => sql`select ${v} as x`,
};

Deno.test("property: arbitrary values only ever reach params, never the SQL text", () => {
  for (const [name, build] of Object.entries(builds)) {
    const reference = build("x").compile().sql;
    fc.assert(
      fc.property(nasty, (v) => {
        const q = build(v).compile();
        assert.equal(q.sql, reference, `${name}: SQL text changed with the value`);
        assert.ok(q.params.length > 0);
        const marked = `'\u0007${v}`;
        assert.ok(!build(marked).compile().sql.includes(marked), `${name}: value in SQL text`);
        assert.ok(
          q.params.some((p) => p === v || JSON.stringify(p) === JSON.stringify({ tags: [v] })),
          `${name}: value not in params`,
        );
      }),
      { numRuns: 150 },
    );
  }
});

Deno.test("property: placeholders are $1…$n, in order, one per parameter", () => {
  const op = fc.constantFrom(
    "=",
    "<",
    ">=",
    "!=",
    "like",
    "in",
    "between",
    "is null",
  ) as fc.Arbitrary<string>;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(op, nasty), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      (conds, n) => {
        // deno-lint-ignore no-explicit-any
        let q: any = db.selectFrom(users).select("id");
        for (const [o, v] of conds) {
          q = o === "in"
            ? q.where("name", "in", [v, v])
            : o === "between"
            ? q.where("name", "between", [v, v])
            : o === "is null"
            ? q.where("email", "is null")
            : q.where("name", o, v);
        }
        const c: CompiledQuery = q.limit(n).compile();
        const seen = [...c.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
        assert.deepEqual(seen, Array.from({ length: c.params.length }, (_, i) => i + 1));
        assert.equal(c.params[c.params.length - 1], n);
      },
    ),
  );
});

const notIdentifier = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.string().map((s) => `1${s}`),
  fc.string({ minLength: 1 }).map((s) => `a b${s}`),
  fc.constantFrom("users; drop table x", 'a"b', "a.b.c", "", "a-b", "ä", "x".repeat(64), "a\0"),
).filter((s) => !IDENTIFIER_PATTERN.test(s));

function throwsInvalid(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof OrmError && e.code === "ORM_INVALID_QUERY");
}

Deno.test("property: names that fail identifier validation always throw", () => {
  // deno-lint-ignore no-explicit-any
  const loose = db as any;
  fc.assert(
    fc.property(notIdentifier, (name) => {
      throwsInvalid(() => table(name, { id: int4() }));
      throwsInvalid(() => table("t", { [name]: int4() }));
      throwsInvalid(() => users.as(name));
      // A qualified form, so a dotted name cannot pass as `table.column`.
      throwsInvalid(() => ref(`${name}.x`));
      throwsInvalid(() => ref(`x.${name}`));
      throwsInvalid(() => loose.selectFrom(users).select(`id as ${name}`));
      throwsInvalid(() =>
        loose.selectFrom(users).select((
          eb: { val(v: number): { as(a: string): unknown } },
        ) => [eb.val(1).as(name)])
      );
      throwsInvalid(() => loose.selectFrom(users).select("id").as(name));
      throwsInvalid(() => loose.with(name, () => db.selectFrom(users).select("id")));
      throwsInvalid(() => loose.insertInto(users).values({ name: "x", [name]: 1 }));
      throwsInvalid(() => loose.updateTable(users).set({ [name]: 1 }));
      throwsInvalid(() => text().references(name, "id"));
      throwsInvalid(() =>
        loose.insertInto(users).onConflict((oc: { constraint(n: string): unknown }) =>
          oc.constraint(name)
        )
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: valid identifiers are accepted and always appear double-quoted", () => {
  const ident = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
  fc.assert(
    fc.property(ident, ident, ident, (t, c, a) => {
      fc.pre(c !== a);
      const tbl = table(t, { [c]: int4() });
      // deno-lint-ignore no-explicit-any
      const q = (db as any).selectFrom(tbl.as(a)).select(`${a}.${c} as ${c}x`).compile();
      assert.equal(q.sql, `SELECT "${a}"."${c}" AS "${c}x" FROM "${t}" AS "${a}"`);
    }),
  );
});

Deno.test("property: builders are immutable; branches from one base are independent", () => {
  type Step = (q: ReturnType<typeof start>) => ReturnType<typeof start>;
  const start = () => db.selectFrom(users).select("users.id", "users.name");
  const step: fc.Arbitrary<Step> = fc.oneof(
    nasty.map((v): Step => (q) => q.where("name", "=", v)),
    fc.integer({ min: 0, max: 100 }).map((n): Step => (q) => q.where("age", ">", n)),
    fc.nat().map((n): Step => (q) => q.limit(n)),
    fc.nat().map((n): Step => (q) => q.offset(n)),
    fc.constantFrom<Step>(
      (q) => q.orderBy("name", "desc"),
      (q) => q.distinct(),
      (q) => q.where("email", "is null"),
      (q) => q.forUpdate(),
      (q) => q.innerJoin(posts, "posts.user_id", "users.id") as unknown as ReturnType<typeof start>,
    ),
  );
  fc.assert(
    fc.property(
      fc.array(step, { maxLength: 4 }),
      fc.array(step, { minLength: 1, maxLength: 4 }),
      fc.array(step, { minLength: 1, maxLength: 4 }),
      (common, left, right) => {
        // A compiled query, or the refusal (joining posts twice is refused).
        const outcome = (q: ReturnType<typeof start>) => {
          try {
            return q.compile();
          } catch (e) {
            return String(e);
          }
        };
        const base = common.reduce((q, s) => s(q), start());
        const before = outcome(base);
        const a = left.reduce((q, s) => s(q), base);
        const b = right.reduce((q, s) => s(q), base);
        assert.deepEqual(outcome(base), before);
        // Each branch equals the same steps applied to a fresh base.
        const freshA = [...common, ...left].reduce((q, s) => s(q), start());
        const freshB = [...common, ...right].reduce((q, s) => s(q), start());
        assert.deepEqual(outcome(a), outcome(freshA));
        assert.deepEqual(outcome(b), outcome(freshB));
        assert.ok(Object.isFrozen(selectNodeOf(a)));
      },
    ),
  );
});

Deno.test("compiled queries are frozen", () => {
  const q = db.selectFrom(users).select("id").where("id", "=", 1).compile();
  assert.ok(Object.isFrozen(q));
  assert.ok(Object.isFrozen(q.params));
  assert.ok(Object.isFrozen(q.reads));
  assert.ok(Object.isFrozen(selectNodeOf(db.selectFrom(users))));
});
