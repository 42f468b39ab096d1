/**
 * Where the ORM path's per-call latency goes, in one process, one statement
 * at a time, alternating the sides call by call (so this VM's speed drift
 * hits every side alike): postgres.js tagged template, postgres.js `unsafe`
 * with the ORM's SQL text, `Database.execute` of a precompiled query, and
 * builder + compile + execute. Prints p50 and mean per side. POOL sets the
 * pool size of both clients (default 1).
 *
 *     deno run -A bench/experiments/orm_layers.ts [URL]   # CALLS=20000 by default
 *
 * @module
 */
import postgres from "postgres";
import { CONFIG_DEFAULTS } from "../../src/config/mod.ts";
import { Database, PG_TYPES } from "../../src/db/mod.ts";
import { createQueryBuilder } from "../../src/orm/mod.ts";
import { books } from "../orm_bench.ts";

const url = Deno.args[0] ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = "orm_layers";
const c = CONFIG_DEFAULTS.database;
const POOL = Number(Deno.env.get("POOL") ?? 1);
const admin = postgres(url, { onnotice: () => {} });
await admin.unsafe(`drop schema if exists ${schema} cascade`);
await admin.unsafe(`create schema ${schema}`);
await admin.unsafe(
  `create table ${schema}.books (id bigserial primary key, author_id int8 not null,
   isbn text unique not null, title text not null, year int not null, price numeric)`,
);
await admin.unsafe(
  `insert into ${schema}.books (author_id, isbn, title, year, price)
   select i % 50 + 1, 'isbn-' || i, 'Title ' || i, 1900 + i % 120, 9.99 from generate_series(1, 3000) i`,
);
// The options Database gives postgres.js, on one connection.
const raw = postgres(url, {
  max: POOL,
  connect_timeout: Math.max(1, Math.ceil(c.connectionTimeoutMs / 1000)),
  idle_timeout: Math.max(1, Math.round(c.idleTimeoutMs / 1000)),
  max_lifetime: Math.max(1, Math.round(c.maxLifetimeMs / 1000)),
  prepare: true,
  connection: { statement_timeout: c.queryTimeoutMs, search_path: schema },
  onnotice: () => {},
  types: PG_TYPES,
});
const db = new Database({
  url,
  database: c,
  cache: { ...CONFIG_DEFAULTS.cache, enableQueryCache: false },
  orm: CONFIG_DEFAULTS.orm,
  maxConnections: POOL,
  searchPath: schema,
});
const qb = createQueryBuilder(db);
const build = (id: bigint) =>
  qb.selectFrom(books).select("id", "title", "year", "price").where("id", "=", id);
const compiled = build(1n).compile();

const sides: Record<string, (id: bigint) => Promise<unknown>> = {
  tagged: async (id) => (await raw`select id, title, year, price from books where id = ${id}`)[0],
  unsafe: async (id) => (await raw.unsafe(compiled.sql, [id], { prepare: true }))[0],
  execute: async (id) => (await db.execute({ ...compiled, params: [id] }))[0],
  builder: (id) => build(id).executeTakeFirst(),
};
const names = Object.keys(sides);
const latencies: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
const CALLS = Number(Deno.env.get("CALLS") ?? 20000);
const WARMUP = 2000;
for (let i = 0; i < CALLS + WARMUP; i++) {
  for (let j = 0; j < names.length; j++) {
    const k = names[(i + j) % names.length];
    const t0 = performance.now();
    await sides[k](BigInt(1 + (i * 7) % 3000));
    if (i >= WARMUP) latencies[k].push(performance.now() - t0);
  }
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const base = median(latencies.tagged);
for (const k of names) {
  const p50 = median(latencies[k]);
  console.log(
    `${k.padEnd(8)} p50 ${(p50 * 1000).toFixed(1)} µs (${(p50 / base).toFixed(3)}×)` +
      `  mean ${(mean(latencies[k]) * 1000).toFixed(1)} µs`,
  );
}
await db.close();
await raw.end();
await admin.unsafe(`drop schema ${schema} cascade`);
await admin.end();
