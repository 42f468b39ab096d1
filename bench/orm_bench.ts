/**
 * The ORM suite: four queries written twice, through the ORM builder run by
 * `Database` (builder → compile → Database.execute, the path the server's
 * handlers take) and hand-written as postgres.js tagged templates on a
 * client with the same options, measured in one process against a real
 * PostgreSQL; and the builder's compile cost. Run by `orm_process.ts`.
 *
 * - Data: a schema of its own (`bench_orm_<random>`, dropped at the end)
 *   with authors ← books ← reviews, seeded with a few thousand rows.
 * - Queries: point select by primary key; INSERT … RETURNING id; upsert
 *   (INSERT … ON CONFLICT (isbn) DO UPDATE … RETURNING id); a 3-table join
 *   with a WHERE and LIMIT 10. The hand-written SQL binds the same values
 *   as the ORM (LIMIT too), so the server does the same work for both.
 * - Clients: `Database` (result cache off, no guard) and a postgres.js
 *   client with the options Database gives its own (`types: PG_TYPES`,
 *   prepare, same pool size, statement_timeout, search_path).
 * - Method: a closed loop of `concurrency` outstanding calls; first, per
 *   query, load at pool size on each side (every connection prepares the
 *   statement); per cell a warm-up of each side, then rounds ORM, raw, raw,
 *   ORM, … (ABBA cancels linear drift); latency of every call with
 *   performance.now(); CPU of this process (per call), of local postgres
 *   processes, and of anything else (noise).
 *
 * @module
 */

import process from "node:process";
import postgres from "postgres";
import { CONFIG_DEFAULTS } from "../src/config/mod.ts";
import { Database, PG_TYPES } from "../src/db/mod.ts";
import {
  createQueryBuilder,
  createTableSql,
  type EmptyRow,
  excluded,
  int4,
  int8,
  numeric,
  type QueryCreator,
  table,
  text,
} from "../src/orm/mod.ts";
import { type CellResult, ORM_QUERIES, type OrmQuery, type OrmSide } from "./cells.ts";
import { cpuSeconds, machineBusySeconds } from "./procs.ts";
import { latencySummary, round, Samples } from "./stats.ts";

/** Durations and sizes of one ORM run. */
export interface OrmTiming {
  /** Calls outstanding (closed loop), one cell per value. */
  readonly concurrency: readonly number[];
  /** Pool size of both clients. */
  readonly poolSize: number;
  /** Load on each side, per query, before its first cell (prepares on every connection). */
  readonly primeMs: number;
  /** Load on each side before a cell's rounds. */
  readonly warmupMs: number;
  /**
   * Measured rounds per side and cell (even: ABBA order). Short rounds: the
   * (virtual) machine's speed drifts within seconds, by up to 1.5×.
   */
  readonly rounds: number;
  readonly roundMs: number;
  /** Builder compiles timed per query (after as many for warm-up), in 5 batches. */
  readonly compileIterations: number;
}

/** About 25 s with the database on this machine. */
export const ORM_FULL: OrmTiming = {
  concurrency: [1, 8],
  poolSize: 8,
  primeMs: 300,
  warmupMs: 150,
  rounds: 24,
  roundMs: 50,
  compileIterations: 20_000,
};

/** `--quick`: every code path, numbers not meaningful. */
export const ORM_QUICK: OrmTiming = {
  concurrency: [1, 8],
  poolSize: 8,
  primeMs: 100,
  warmupMs: 50,
  rounds: 2,
  roundMs: 100,
  compileIterations: 2_000,
};

export const authors = table("authors", {
  id: int8().primaryKey().generatedByDefault(),
  name: text(),
  country: text(),
});

export const books = table("books", {
  id: int8().primaryKey().generatedByDefault(),
  author_id: int8().references(authors, "id"),
  isbn: text().unique(),
  title: text(),
  year: int4(),
  price: numeric(10, 2),
});

export const reviews = table("reviews", {
  id: int8().primaryKey().generatedByDefault(),
  book_id: int8().references(books, "id", { onDelete: "cascade" }),
  rating: int4(),
  body: text(),
});

const AUTHORS = 500;
const BOOKS = 3000;
const REVIEWS = 6000;

type Sql = postgres.Sql<{ bigint: bigint; bytea: Uint8Array }>;

/** A call's arguments, drawn from one random number (the same draws on both sides). */
const bookId = (r: number) => 1 + (r % BOOKS);
const authorId = (r: number) => 1 + (r % AUTHORS);
const isbn = (r: number) => `isbn-${r % BOOKS}`;
const rating = (r: number) => 1 + (r % 5);
const price = (r: number) => `${10 + (r % 90)}.50`;
const REVIEW_BODY = "A fine read, would recommend to anyone who likes benchmarks.";

/** The ORM builders, built afresh per call as a handler would. */
export function ormBuilders(qb: QueryCreator<EmptyRow>) {
  return {
    "point select": (r: number) =>
      qb.selectFrom(books).select("id", "title", "year", "price").where("id", "=", bookId(r)),
    "insert returning": (r: number) =>
      qb.insertInto(reviews).values({ book_id: bookId(r), rating: rating(r), body: REVIEW_BODY })
        .returning("id"),
    "upsert": (r: number) =>
      qb.insertInto(books).values({
        author_id: authorId(r),
        isbn: isbn(r),
        title: "Upserted title",
        year: 2024,
        price: price(r),
      }).onConflict((oc) =>
        oc.columns("isbn").doUpdateSet({ title: excluded("title"), price: excluded("price") })
      ).returning("id"),
    "3-table join": (r: number) =>
      qb.selectFrom(reviews.as("r"))
        .innerJoin(books.as("b"), "b.id", "r.book_id")
        .innerJoin(authors.as("a"), "a.id", "b.author_id")
        .select("r.id", "r.rating", "b.title", "a.name")
        .where("a.id", "=", authorId(r)).where("r.rating", ">=", 2)
        .limit(10),
  } satisfies Record<OrmQuery, unknown>;
}

/** The same statements hand-written for postgres.js (parameters where the ORM has them). */
function rawQueries(sql: Sql): Record<OrmQuery, (r: number) => Promise<unknown>> {
  return {
    "point select": async (r) =>
      (await sql`select id, title, year, price from books where id = ${bookId(r)}`)[0],
    "insert returning": async (r) =>
      (await sql`insert into reviews (book_id, rating, body)
        values (${bookId(r)}, ${rating(r)}, ${REVIEW_BODY}) returning id`)[0],
    "upsert": async (r) =>
      (await sql`insert into books (author_id, isbn, title, year, price)
        values (${authorId(r)}, ${isbn(r)}, ${"Upserted title"}, ${2024}, ${price(r)})
        on conflict (isbn) do update set title = excluded.title, price = excluded.price
        returning id`)[0],
    "3-table join": (r) =>
      sql`select r.id, r.rating, b.title, a.name from reviews r
        join books b on b.id = r.book_id join authors a on a.id = b.author_id
        where a.id = ${authorId(r)} and r.rating >= ${2} limit ${10}`,
  };
}

/** The ORM side: build, compile, `Database.execute`; first row where one is expected. */
function ormQueries(qb: QueryCreator<EmptyRow>): Record<OrmQuery, (r: number) => Promise<unknown>> {
  const b = ormBuilders(qb);
  return {
    "point select": (r) => b["point select"](r).executeTakeFirst(),
    "insert returning": (r) => b["insert returning"](r).executeTakeFirst(),
    "upsert": (r) => b["upsert"](r).executeTakeFirst(),
    "3-table join": (r) => b["3-table join"](r).execute(),
  };
}

/** A small xorshift generator: cheap and the same on both sides. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

let sink = 0;

/** µs per builder + compile() for each query: the median of 5 batches, after a warm-up. */
export function compileCost(iterations: number): Record<OrmQuery, number> {
  const b = ormBuilders(createQueryBuilder());
  const next = rng(7);
  const out = {} as Record<OrmQuery, number>;
  for (const q of ORM_QUERIES) {
    const build = b[q];
    for (let i = 0; i < iterations; i++) sink += build(next()).compile().sql.length;
    const batch = Math.max(1, Math.floor(iterations / 5));
    const us: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) sink += build(next()).compile().sql.length;
      us.push(((performance.now() - t0) * 1000) / batch);
    }
    out[q] = us.sort((x, y) => x - y)[2];
  }
  if (sink < 0) console.error(sink); // keeps the results observable
  return out;
}

/** Options of {@linkcode OrmBench}. */
export interface OrmBenchOptions {
  readonly url: string;
  readonly timing: OrmTiming;
  /** Seed of the argument draws. */
  readonly seed?: number;
}

/** CPU readings around a measured round. */
interface CpuMark {
  self: number;
  db: number;
  machine: number;
  at: number;
}

/** One side of one cell while it is measured. */
interface SideAcc {
  samples: Samples;
  calls: number;
  errors: number;
  ms: number;
  selfCpu: number;
  dbCpu: number;
  otherCpu: number;
}

/** PIDs of local `postgres` processes (the server's backends), to tell their CPU from noise. */
function postgresPids(): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/comm`).trim() === "postgres") {
        pids.push(Number(e.name));
      }
    } catch { /* gone */ }
  }
  return pids;
}

/**
 * The database side of the suite: schema, clients, measured cells. `open`
 * fails when the database is unreachable or refuses the schema.
 */
export class OrmBench {
  readonly schema = `bench_orm_${Math.random().toString(16).slice(2, 10)}`;
  readonly #o: OrmBenchOptions;
  readonly #admin: Sql;
  #db: Database | undefined;
  #raw: Sql | undefined;
  #connected = false;
  #schemaMade = false;
  #pgPids: number[] = [];

  constructor(options: OrmBenchOptions) {
    this.#o = options;
    this.#admin = postgres(options.url, {
      max: 1,
      connect_timeout: 3,
      connection: { search_path: this.schema },
      onnotice: () => {},
      types: PG_TYPES,
    }) as unknown as Sql;
  }

  /** Connect, create and seed the schema, open both clients with `poolSize` connections each. */
  async open(): Promise<void> {
    const a = this.#admin;
    // postgres.js's connect_timeout does not fire in Deno for an unroutable host.
    await withTimeout(a`select 1`, 5000, "no answer within 5 s");
    this.#connected = true;
    const s = `"${this.schema}"`;
    await a.unsafe(`create schema ${s}`);
    this.#schemaMade = true;
    for (const t of [authors, books, reviews]) await a.unsafe(createTableSql(t).sql);
    await a.unsafe(`create index on ${s}.books (author_id)`);
    await a.unsafe(`create index on ${s}.reviews (book_id)`);
    await a.unsafe(
      `insert into ${s}.authors (name, country)
       select 'Author ' || i, (array['NO', 'FI', 'FR', 'JP'])[1 + i % 4]
       from generate_series(1, ${AUTHORS}) i`,
    );
    await a.unsafe(
      `insert into ${s}.books (author_id, isbn, title, year, price)
       select 1 + (i - 1) % ${AUTHORS}, 'isbn-' || (i - 1), 'Title ' || i, 1950 + i % 70,
              (i % 90) + 0.99
       from generate_series(1, ${BOOKS}) i`,
    );
    await a.unsafe(
      `insert into ${s}.reviews (book_id, rating, body)
       select 1 + (i - 1) % ${BOOKS}, 1 + i % 5, 'Review ' || i
       from generate_series(1, ${REVIEWS}) i`,
    );
    await a.unsafe(`analyze ${s}.authors, ${s}.books, ${s}.reviews`);

    const c = CONFIG_DEFAULTS.database;
    const pool = this.#o.timing.poolSize;
    this.#db = new Database({
      url: this.#o.url,
      database: c,
      cache: { ...CONFIG_DEFAULTS.cache, enableQueryCache: false },
      orm: CONFIG_DEFAULTS.orm,
      maxConnections: pool,
      searchPath: this.schema,
    });
    // The options Database gives postgres.js (src/db/database.ts).
    this.#raw = postgres(this.#o.url, {
      max: pool,
      connect_timeout: Math.max(1, Math.ceil(c.connectionTimeoutMs / 1000)),
      idle_timeout: Math.max(1, Math.round(c.idleTimeoutMs / 1000)),
      max_lifetime: Math.max(1, Math.round(c.maxLifetimeMs / 1000)),
      prepare: c.enablePreparedStatements,
      connection: { statement_timeout: c.queryTimeoutMs, search_path: this.schema },
      onnotice: () => {},
      types: PG_TYPES,
    }) as unknown as Sql;
    await this.#db.warmUp(pool);
    const held = await Promise.all(Array.from({ length: pool }, () => this.#raw!.reserve()));
    for (const r of held) r.release();
  }

  /**
   * Measure `query` at each concurrency of the timing; `onPair` gets the ORM
   * and the postgres.js cell of each.
   */
  async measureQuery(
    query: OrmQuery,
    onPair: (orm: CellResult, raw: CellResult) => void,
  ): Promise<void> {
    const t = this.#o.timing;
    const ops: Record<OrmSide, (r: number) => Promise<unknown>> = {
      "orm": ormQueries(createQueryBuilder(this.#db!))[query],
      "postgres.js": rawQueries(this.#raw!)[query],
    };
    const next = rng(this.#o.seed ?? 1);
    // Every connection of both pools prepares the statement; the JIT warms up.
    for (const side of ["orm", "postgres.js"] as const) {
      await this.#loop(ops[side], t.poolSize, t.primeMs, next);
    }
    this.#pgPids = postgresPids();
    for (const concurrency of t.concurrency) {
      for (const side of ["orm", "postgres.js"] as const) {
        await this.#loop(ops[side], concurrency, t.warmupMs, next);
      }
      const acc: Record<OrmSide, SideAcc> = {
        "orm": newAcc(),
        "postgres.js": newAcc(),
      };
      for (let r = 0; r < t.rounds; r++) {
        const order: OrmSide[] = r % 2 === 0 ? ["orm", "postgres.js"] : ["postgres.js", "orm"];
        for (const side of order) {
          const a = acc[side];
          const m0 = this.#cpuMark();
          const n = await this.#loop(ops[side], concurrency, t.roundMs, next, a);
          const m1 = this.#cpuMark();
          a.calls += n.calls;
          a.errors += n.errors;
          a.ms += m1.at - m0.at;
          a.selfCpu += m1.self - m0.self;
          a.dbCpu += m1.db - m0.db;
          a.otherCpu += Math.max(
            0,
            (m1.machine - m0.machine) - (m1.self - m0.self) - (m1.db - m0.db),
          );
        }
      }
      onPair(
        toCell(query, "orm", concurrency, acc["orm"]),
        toCell(query, "postgres.js", concurrency, acc["postgres.js"]),
      );
    }
  }

  /** Closed loop of `concurrency` callers for `ms`; latencies into `acc` when given. */
  async #loop(
    op: (r: number) => Promise<unknown>,
    concurrency: number,
    ms: number,
    next: () => number,
    acc?: SideAcc,
  ): Promise<{ calls: number; errors: number }> {
    const end = performance.now() + ms;
    let calls = 0, errors = 0;
    let firstError: unknown;
    const worker = async () => {
      while (performance.now() < end) {
        const r = next();
        const t0 = performance.now();
        try {
          await op(r);
        } catch (e) {
          errors++;
          firstError ??= e;
          continue;
        }
        acc?.samples.push(performance.now() - t0);
        calls++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (firstError !== undefined && calls === 0) throw firstError;
    if (firstError !== undefined && !acc) console.error(`orm: error while warming up:`, firstError);
    return { calls, errors };
  }

  #cpuMark(): CpuMark {
    let db = 0;
    for (const pid of this.#pgPids) {
      try {
        db += cpuSeconds(pid);
      } catch { /* exited */ }
    }
    // Our own CPU in µs (the /proc ticks of cpuSeconds are 10 ms: too coarse for 150 ms rounds).
    const u = process.cpuUsage();
    return {
      self: (u.user + u.system) / 1e6,
      db,
      machine: machineBusySeconds(),
      at: performance.now(),
    };
  }

  /** Close the clients and drop the schema. */
  async close(): Promise<void> {
    await this.#db?.close();
    await this.#raw?.end({ timeout: 5 });
    try {
      if (this.#schemaMade) await this.#admin.unsafe(`drop schema "${this.schema}" cascade`);
    } finally {
      // Without a connection there is nothing to wait for (and a connect attempt may hang).
      const ms = this.#connected ? 6000 : 200;
      await withTimeout(this.#admin.end({ timeout: 5 }), ms, "closing timed out").catch(() => {});
    }
  }
}

/** `p`, or a rejection after `ms`. */
function withTimeout<T>(p: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function newAcc(): SideAcc {
  return { samples: new Samples(), calls: 0, errors: 0, ms: 0, selfCpu: 0, dbCpu: 0, otherCpu: 0 };
}

function toCell(query: OrmQuery, side: OrmSide, concurrency: number, a: SideAcc): CellResult {
  const secs = a.ms / 1000;
  const { p50_ms, p99_ms } = latencySummary(a.samples);
  return {
    suite: "orm",
    transport: side,
    query,
    payload: 0,
    connections: concurrency,
    pipeline: 1,
    rps: round(a.calls / secs, 1),
    p50_ms: round(p50_ms, 4),
    p99_ms: round(p99_ms, 4),
    samples: a.samples.count,
    load_cpu: round(a.selfCpu / secs, 3),
    db_cpu: round(a.dbCpu / secs, 3),
    other_cpu: round(a.otherCpu / secs, 3),
    // CPU of this process per call: where the ORM's overhead shows first.
    client_us_per_op: a.calls > 0 ? round((a.selfCpu / a.calls) * 1e6, 1) : undefined,
    errors: a.errors,
  };
}

/** The `--json` record of a query's compile cost. */
export function compileCell(query: OrmQuery, us: number): CellResult {
  return {
    suite: "orm_compile",
    transport: "orm",
    query,
    payload: 0,
    connections: 0,
    pipeline: 1,
    rps: 0,
    p50_ms: 0,
    p99_ms: 0,
    compile_us: round(us, 2),
  };
}
