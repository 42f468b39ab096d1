/**
 * A tour of the ORM's query builder against the embedded database (PGlite),
 * on the demo tables from migration 2 (demo_authors, demo_books,
 * demo_reviews): inserts, filters, joins, aggregates, subqueries, CTEs,
 * upserts, updates, deletes, raw SQL and the injection guard, transactions
 * with savepoints, the result cache and per-query metrics. Each step prints
 * a heading and the rows it returned (int8 values print as strings).
 *
 *   deno run -A examples/orm_examples.ts [--data-dir DIR]
 *
 * Without `--data-dir` (or the DATA_DIR env) it uses a fresh temporary
 * directory and deletes it at the end; with one, the database is kept in
 * `DIR/db`. Every run starts by emptying the demo tables.
 */
import { CONFIG_DEFAULTS } from "../src/config/mod.ts";
import { openDatabase } from "../src/db/mod.ts";
import { SomnyError } from "../src/errors.ts";
import {
  createQueryBuilder,
  excluded,
  int2,
  int4,
  int8,
  jsonb,
  numeric,
  table,
  text,
} from "../src/orm/mod.ts";

// The demo tables, declared exactly as migration 2 creates them.
const authors = table("demo_authors", {
  id: int8().primaryKey().generatedByDefault(),
  name: text().unique(),
  country: text().nullable(),
});
const books = table("demo_books", {
  id: int8().primaryKey().generatedByDefault(),
  author_id: int8().references(authors, "id", { onDelete: "cascade" }),
  title: text(),
  year: int4().nullable(),
  price: numeric(10, 2).nullable(), // exact decimal → string
  tags: text().array().default([]),
});
const reviews = table("demo_reviews", {
  id: int8().primaryKey().generatedByDefault(),
  book_id: int8().references(books, "id", { onDelete: "cascade" }),
  stars: int2(),
  body: jsonb<{ by?: string; text?: string }>().default({}),
});

const flag = Deno.args.indexOf("--data-dir");
const keptDir = (flag >= 0 ? Deno.args[flag + 1] : undefined) ||
  Deno.env.get("DATA_DIR") || undefined;
const dataDir = keptDir ?? await Deno.makeTempDir({ prefix: "orm_examples_" });

const json = (v: unknown) => JSON.stringify(v, (_k, x) => typeof x === "bigint" ? String(x) : x);
function show(title: string, rows: readonly unknown[] | unknown): void {
  console.log(`\n== ${title}`);
  for (const row of Array.isArray(rows) ? rows : [rows]) console.log(`  ${json(row)}`);
}
const describe = (e: unknown) =>
  e instanceof SomnyError ? `${e.name} ${e.code}: ${e.message}` : String(e);

const { db, close } = await openDatabase({
  database: { ...CONFIG_DEFAULTS.database, url: undefined, embeddedDir: `${dataDir}/db` },
  cache: CONFIG_DEFAULTS.cache,
  orm: CONFIG_DEFAULTS.orm,
});
const q = createQueryBuilder(db);

try {
  // A clean slate, ids from 1 again: raw SQL through the `sql` tag. (A raw
  // statement other than a plain SELECT empties the result cache.)
  await q.sql`TRUNCATE demo_reviews, demo_books, demo_authors RESTART IDENTITY`.execute();

  // ---- INSERT: several rows at once, generated ids through RETURNING.
  const ids = await q.insertInto(authors).values([
    { name: "Ursula K. Le Guin", country: "US" },
    { name: "Stanisław Lem", country: "PL" },
    { name: "Italo Calvino", country: "IT" },
    { name: "Anonymous" }, // country defaults to NULL; no books
  ]).returning("id", "name").execute();
  show("insert authors … returning id, name", ids);
  const [leGuin, lem, calvino] = ids.map((r) => r.id);

  const inserted = await q.insertInto(books).values([
    { author_id: leGuin, title: "A Wizard of Earthsea", year: 1968, price: 8.99 },
    { author_id: leGuin, title: "The Dispossessed", year: 1974, price: "12.50", tags: ["sf"] },
    { author_id: lem, title: "Solaris", year: 1961, price: "10.00", tags: ["sf", "classic"] },
    { author_id: lem, title: "The Cyberiad", year: 1965, price: 9.25, tags: ["sf", "humor"] },
    { author_id: calvino, title: "Invisible Cities", year: 1972, price: "11.00" },
    { author_id: calvino, title: "If on a winter's night a traveler", year: 1979 },
  ]).returningAll().execute();
  show("insert books … returningAll (price numeric → string, tags text[])", inserted);
  const bookId = Object.fromEntries(inserted.map((b) => [b.title, b.id]));

  await q.insertInto(reviews).values([
    { book_id: bookId["Solaris"], stars: 5, body: { by: "ann", text: "Oceanic." } },
    { book_id: bookId["Solaris"], stars: 4, body: { by: "bob" } },
    { book_id: bookId["The Dispossessed"], stars: 5, body: { by: "cid", text: "Ambiguous." } },
    { book_id: bookId["The Cyberiad"], stars: 3 }, // body defaults to {}
  ]).execute();
  show("reviews (jsonb body)", await q.selectFrom(reviews).selectAll().orderBy("id").execute());

  // ---- SELECT: where, order by, limit/offset; what the compiler writes.
  const page = q.selectFrom(books).select("title", "year").where("year", ">=", 1965)
    .orderBy("year", "desc").limit(2).offset(1);
  show("compiled SQL and params", { sql: page.compile().sql, params: page.compile().params });
  show("books since 1965, newest first, page 2 of size 2", await page.execute());

  // ---- Operators: in, between, like, ilike, is null, and/or/not.
  const titles = q.selectFrom(books).select("title").orderBy("title");
  show("year in (1961, 1972)", await titles.where("year", "in", [1961, 1972]).execute());
  show("year between 1965 and 1974", await titles.where("year", "between", [1965, 1974]).execute());
  show("title like 'The %'", await titles.where("title", "like", "The %").execute());
  show("title ilike '%CITIES%'", await titles.where("title", "ilike", "%CITIES%").execute());
  show("price is null", await titles.where("price", "is null").execute());
  show(
    "expressions: coalesce, lower, length",
    await q.selectFrom(books).select((eb) => [
      eb.lower("title").as("lower"),
      eb.length("title").as("len"),
      eb.coalesce("price", eb.val("0.00")).as("price"),
    ]).where("author_id", "=", calvino).orderBy("len").execute(),
  );
  show(
    "(price < 10 or year < 1962) and not title like '%Wizard%'",
    await titles.where(({ and, or, not, cmp }) =>
      and([
        or([cmp("price", "<", "10"), cmp("year", "<", 1962)]),
        not(cmp("title", "like", "%Wizard%")),
      ])
    ).execute(),
  );

  // ---- Joins.
  const byAuthor = q.selectFrom(authors.as("a"));
  show(
    "inner join ON: book with its author",
    await byAuthor.innerJoin(books.as("b"), "b.author_id", "a.id")
      .select("a.name", "b.title").orderBy("b.title").execute(),
  );
  show(
    "left join: every author, books or not (Anonymous has none)",
    await byAuthor.leftJoin(books.as("b"), "b.author_id", "a.id")
      .select((eb) => ["a.name", eb.count("b.id").as("books")]).groupBy("a.name")
      .orderBy("a.name").execute(),
  );
  show(
    "right join with an ON callback: reviews of 5 stars, every book kept",
    await q.selectFrom(reviews.as("r")).rightJoin(
      books.as("b"),
      (eb) => eb.and([eb.cmpRef("r.book_id", "=", "b.id"), eb.cmp("r.stars", "=", 5)]),
    ).select("b.title", "r.stars").orderBy("b.title").execute(),
  );
  show(
    "full join, rows unmatched on one side (Anonymous has no books)",
    await byAuthor.fullJoin(books.as("b"), "b.author_id", "a.id").select("a.name", "b.title")
      .where("b.title", "is null").execute(),
  );
  // A derived table whose `author_id` is the only column it shares with demo_books.
  const named = q.selectFrom(authors).select("id as author_id", "name").as("n");
  show(
    "join USING (author_id)",
    await q.selectFrom(books).innerJoin(named, { using: ["author_id"] })
      .select("n.name", "title").where("year", "<", 1966).orderBy("title").execute(),
  );
  show(
    "natural join (same-named columns: author_id)",
    await q.selectFrom(books).naturalJoin(named).select("n.name", "title")
      .where("year", ">", 1975).execute(),
  );
  show(
    "cross join: every author × every review",
    await q.selectFrom(authors).crossJoin(reviews).select((eb) => [
      eb.count().as("pairs"),
      eb.countDistinct("demo_reviews.book_id").as("reviewed_books"),
    ]).execute(),
  );

  // ---- Aggregates, group by, having, distinct.
  show(
    "per author: count, sum, avg, min, max; having count >= 2",
    await q.selectFrom(books).innerJoin(authors, "demo_authors.id", "demo_books.author_id")
      .select((eb) => [
        "demo_authors.name",
        eb.count().as("n"),
        eb.sum("price").as("total"),
        eb.avg("price").as("mean"),
        eb.min("year").as("first"),
        eb.max("year").as("last"),
      ])
      .groupBy("demo_authors.name").having((eb) => eb.cmp(eb.count(), ">=", 2))
      .orderBy("demo_authors.name").execute(),
  );
  show(
    "distinct stars",
    await q.selectFrom(reviews).select("stars").distinct().orderBy("stars").execute(),
  );
  show(
    "distinct on (author_id): each author's latest book",
    await q.selectFrom(books).select("author_id", "title").distinctOn("author_id")
      .orderBy("author_id").orderBy("year", "desc").execute(),
  );

  // ---- Subqueries: IN, EXISTS, scalar, derived table.
  const fiveStars = q.selectFrom(reviews).select("book_id").where("stars", "=", 5);
  const fiveStarAuthors = q.selectFrom(books).select("author_id").where("id", "in", fiveStars);
  show(
    "authors with a 5-star book (nested IN subqueries)",
    await q.selectFrom(authors).select("name").where("id", "in", fiveStarAuthors).orderBy("name")
      .execute(),
  );
  show(
    "books without reviews (correlated NOT EXISTS)",
    await q.selectFrom(books).select("title").where((eb) =>
      eb.notExists(eb.selectFrom(reviews).select("id").whereRef("book_id", "=", "demo_books.id"))
    ).orderBy("title").execute(),
  );
  show(
    "scalar subquery in the select list",
    await q.selectFrom(books).select((eb) => [
      "title",
      eb.selectFrom(reviews).select((e) => [e.count().as("n")])
        .whereRef("demo_reviews.book_id", "=", "demo_books.id").as("reviews"),
    ]).where("author_id", "=", lem).orderBy("title").execute(),
  );
  const perBook = q.selectFrom(reviews).select((eb) => ["book_id", eb.avg("stars").as("score")])
    .groupBy("book_id").as("s");
  show(
    "derived table joined to books",
    await q.selectFrom(perBook).innerJoin(books, "demo_books.id", "s.book_id")
      .select("title", "s.score").orderBy("title").execute(),
  );

  // ---- CTEs: chained WITH, and a data-modifying CTE.
  show(
    "with sf as (…), cheap as (select from sf …)",
    await q.with("sf", (qb) => qb.selectFrom(books).select("title", "price", "tags"))
      .with("cheap", (qb) => qb.selectFrom("sf").select("title").where("price", "<", "10"))
      .selectFrom("cheap").select("title").orderBy("title").execute(),
  );

  // ---- Upserts: ON CONFLICT … DO NOTHING / DO UPDATE SET with excluded.
  show(
    "insert existing author, on conflict (name) do nothing → no row",
    await q.insertInto(authors).values({ name: "Stanisław Lem", country: "??" })
      .onConflict((oc) => oc.columns("name").doNothing()).returning("id").execute(),
  );
  show(
    "upsert author: on conflict (name) do update set country = excluded.country",
    await q.insertInto(authors).values({ name: "Anonymous", country: "XX" })
      .onConflict((oc) => oc.columns("name").doUpdateSet({ country: excluded("country") }))
      .returning("id", "name", "country").execute(),
  );
  show(
    "upsert book by id (where price < 11.50): price from excluded, title by an expression",
    await q.insertInto(books).values({
      id: bookId["Solaris"],
      author_id: lem,
      title: "Solaris",
      price: "11.50",
    }).onConflict((oc) =>
      oc.columns("id").doUpdateSet({
        price: excluded("price"),
        title: (eb) => eb.op("demo_books.title", "||", " (2nd ed.)"),
      }).where("demo_books.price", "<", "11.50")
    ).returning("id", "title", "price").execute(),
  );

  // ---- UPDATE and DELETE.
  show(
    "update … set price = price * 2 where title = … returning",
    await q.updateTable(books).set({ price: (eb) => eb.op("price", "*", 2) })
      .where("title", "=", "The Cyberiad").returning("title", "price").execute(),
  );
  show(
    "update … from authors (tag every Calvino book)",
    await q.updateTable(books.as("b")).from(authors.as("a"))
      .set({ tags: ["fiction", "oulipo"] }).whereRef("b.author_id", "=", "a.id")
      .where("a.name", "=", "Italo Calvino").returning("b.title", "b.tags").execute(),
  );
  try {
    await q.deleteFrom(reviews).execute();
  } catch (e) {
    show("delete without where is refused", describe(e));
  }
  show(
    "delete … where stars < 4 returning",
    await q.deleteFrom(reviews).where("stars", "<", 4).returning("id", "stars").execute(),
  );

  // A data-modifying CTE (here, after the delete, so its rows stay).
  show(
    "data-modifying CTE: insert … select 4-star reviews for Calvino, read back joined",
    await q.with("added", (qb) =>
      qb.insertInto(reviews).fromSelect(
        ["book_id", "stars"],
        qb.selectFrom(books).select((eb) => ["id", eb.val(4).as("stars")])
          .where("author_id", "=", calvino),
      ).returning("book_id", "stars"))
      .selectFrom("added").innerJoin(books, "demo_books.id", "added.book_id")
      .select("title", "added.stars").orderBy("title").execute(),
  );

  // ---- Raw SQL: values are parameters; the text is screened by the guard.
  show(
    "raw sql accepted (a value and a builder interpolated)",
    await q.sql<{ title: string; tags: string }>`SELECT title, array_to_string(tags, '/') AS tags
      FROM demo_books WHERE year = ${1961} AND author_id IN (${
      q.selectFrom(authors).select("id").where("country", "=", "PL")
    })`.execute(),
  );
  try {
    await q.sql`SELECT title FROM demo_books WHERE id = 1; DROP TABLE demo_books`.execute();
    show("raw sql injection attempt", "NOT refused (unexpected)");
  } catch (e) {
    show("raw sql injection attempt refused", describe(e));
  }

  // ---- Transactions: commit, rollback, and a savepoint that rolls back alone.
  try {
    await db.transaction(async (tx) => {
      await createQueryBuilder(tx).insertInto(authors).values({ name: "Ghost" }).execute();
      throw new Error("abandon the transaction");
    });
  } catch (e) {
    // The body's own error comes back unchanged, after the rollback.
    show("transaction threw", describe(e));
  }
  const ghosts = q.selectFrom(authors).select((eb) => [eb.count().as("n")]).where(
    "name",
    "=",
    "Ghost",
  );
  show("after the rollback, authors named Ghost", await ghosts.execute());
  const outcome = await db.transaction(async (tx) => {
    const t = createQueryBuilder(tx);
    await t.selectFrom(books).select("id").where("id", "=", bookId["Solaris"]).forUpdate()
      .execute();
    await t.insertInto(reviews).values({ book_id: bookId["Solaris"], stars: 3 }).execute();
    let savepoint = "committed";
    try {
      await tx.transaction(async (sp) => {
        await createQueryBuilder(sp).insertInto(reviews)
          .values({ book_id: bookId["Solaris"], stars: 2 }).execute();
        await createQueryBuilder(sp).insertInto(reviews)
          .values({ book_id: bookId["Solaris"], stars: 9 }).execute(); // CHECK fails
      });
    } catch (e) {
      savepoint = `rolled back: ${describe(e)}`;
    }
    return savepoint;
  }, { isolation: "serializable", timeoutMs: 10_000, retries: 2 });
  show("transaction with a savepoint: savepoint", outcome);
  show(
    "Solaris reviews after commit (3 kept, 2 and 9 rolled back)",
    await q.selectFrom(reviews).select("stars").where("book_id", "=", bookId["Solaris"])
      .orderBy("stars", "desc").execute(),
  );

  // ---- The result cache: the same select twice is served from memory.
  const before = db.stats().cache;
  const cached = q.selectFrom(authors).select("name", "country").where("country", "is not null")
    .orderBy("name");
  await cached.execute();
  const rows = await cached.execute();
  const after = db.stats().cache;
  show("cached select (run twice)", rows);
  show("cache", {
    hits: after.hits - before.hits,
    misses: after.misses - before.misses,
    totalHits: after.hits,
  });
  await q.updateTable(authors).set({ country: "USA" }).where("country", "=", "US").execute();
  await cached.execute();
  show("after a write to demo_authors, the same select", {
    missesAgain: db.stats().cache.misses - after.misses,
    invalidations: db.stats().cache.invalidations,
  });

  // ---- Per-query metrics.
  const metrics = db.stats().queries.queries.filter((f) => f.table.startsWith("demo_"))
    .map((f) => ({ operation: f.operation, table: f.table, statements: f.duration.count }))
    .sort((a, b) => `${a.operation}${a.table}`.localeCompare(`${b.operation}${b.table}`));
  show("statements run per operation and table (db.stats().queries)", metrics);
  show("errors by code", db.stats().queries.errorsByCode);
} finally {
  await close();
  if (!keptDir) await Deno.remove(dataDir, { recursive: true });
}
console.log("\ndone");
