/**
 * The databases every DB test runs against: the embedded PGlite always, and
 * the real PostgreSQL at `TEST_DATABASE_URL` when it is set (on our machines
 * `postgres://postgres@127.0.0.1:5432/test`). Each test gets its own schema
 * (created before, dropped after), so tests never see each other's tables.
 *
 *     dbTest("insert returns the row", async ({ sql, url, schema }) => { … });
 *
 * registers one `Deno.test` per target, named `… [pglite]` / `… [postgres]`.
 * Without `TEST_DATABASE_URL`, the `[postgres]` variants are registered as
 * ignored and one line says so.
 */

import postgres from "postgres";
import { CONFIG_DEFAULTS, type DatabaseConfig } from "../../src/config/mod.ts";
import { createQueryGuard, Database, type QueryGuard } from "../../src/db/mod.ts";
import type { CompiledQuery } from "../../src/orm/mod.ts";
import { systemClock } from "../../src/util/mod.ts";
import { startEmbeddedDatabase } from "../../src/db/embedded.ts";
import type { EmbeddedDatabase } from "../../src/db/embedded.ts";

/** One database a test runs on. */
export interface DbTarget {
  readonly name: "pglite" | "postgres";
  /** URL of the server (the test's schema is not part of it). */
  readonly url: string;
  /** The test's own schema, already first on `sql`'s search_path. */
  readonly schema: string;
  /**
   * A postgres.js client (one connection, opened on first use, closed after
   * the test) whose search_path is the test's schema. Code that opens its
   * own connections passes `connection: { search_path: schema }` (the
   * embedded database already has it for its whole session).
   */
  readonly sql: postgres.Sql;
}

/** `TEST_DATABASE_URL`, if set. */
export const TEST_DATABASE_URL: string | undefined = Deno.env.get("TEST_DATABASE_URL") ||
  undefined;

let embedded: Promise<EmbeddedDatabase> | undefined;
/** The embedded database shared by this test file's tests (started on first use). */
export function sharedEmbedded(): Promise<EmbeddedDatabase> {
  embedded ??= startEmbeddedDatabase();
  return embedded;
}

let announced = false;

/** Options for {@linkcode dbTest}. */
export interface DbTestOptions {
  /** Run only on these targets. */
  readonly only?: DbTarget["name"];
}

/** Register `fn` once per database target. */
export function dbTest(
  name: string,
  fn: (t: DbTarget) => Promise<void>,
  options: DbTestOptions = {},
): void {
  const targets: DbTarget["name"][] = options.only ? [options.only] : ["pglite", "postgres"];
  for (const target of targets) {
    const skip = target === "postgres" && !TEST_DATABASE_URL;
    if (skip && !announced) {
      announced = true;
      console.log("real PostgreSQL tests skipped: TEST_DATABASE_URL is not set");
    }
    Deno.test({
      name: `${name} [${target}]`,
      ignore: skip,
      // The embedded database (a socket server) outlives single tests.
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const url = target === "pglite" ? (await sharedEmbedded()).url : TEST_DATABASE_URL!;
        await withSchema(target, url, fn);
      },
    });
  }
}

/** Run `fn` with a fresh schema on `url`, dropped afterwards. */
export async function withSchema(
  name: DbTarget["name"],
  url: string,
  fn: (t: DbTarget) => Promise<void>,
): Promise<void> {
  const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  // PGlite ignores startup parameters, but all its connections share one
  // session, so a session-level SET reaches every later connection.
  if (name === "pglite") await admin.unsafe(`SET search_path TO ${schema}, public`);
  await admin.end();
  let sql: postgres.Sql | undefined;
  const target: DbTarget = {
    name,
    url,
    schema,
    get sql() {
      // One connection, opened on first use (the embedded server takes one at a time).
      sql ??= postgres(url, {
        max: 1,
        onnotice: () => {},
        connection: { search_path: `${schema},public` },
      });
      return sql;
    },
  };
  try {
    await fn(target);
  } finally {
    await sql?.end({ timeout: 5 });
    const cleanup = postgres(url, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    if (name === "pglite") await cleanup.unsafe(`SET search_path TO public`);
    await cleanup.end();
  }
}

/**
 * A trusted statement (no caller-written raw text), as the database layer
 * sees it; `more` sets the operation and the tables it touches.
 */
export function rawQuery(
  sql: string,
  params: unknown[] = [],
  more: Partial<CompiledQuery> = {},
): CompiledQuery {
  return { sql, params, operation: "raw", reads: [], writes: [], rawText: [], ...more };
}

/** Options for {@linkcode databaseFor}. */
export interface TestDatabaseOptions {
  /** Overrides of the default database settings. */
  readonly database?: Partial<DatabaseConfig>;
  /** Pool size on the real server (the embedded one always takes 1). @default the setting's */
  readonly maxConnections?: number;
  /** A guard, or "config" for the one the settings describe. @default none */
  readonly guard?: QueryGuard | "config";
}

/** A `Database` on the test's target and schema, with the default settings unless overridden. */
export function databaseFor(t: DbTarget, options: TestDatabaseOptions = {}): Database {
  const database = { ...CONFIG_DEFAULTS.database, ...options.database };
  return new Database({
    url: t.url,
    searchPath: `${t.schema},public`,
    database,
    cache: CONFIG_DEFAULTS.cache,
    orm: CONFIG_DEFAULTS.orm,
    maxConnections: t.name === "pglite" ? 1 : options.maxConnections,
    guard: options.guard === "config"
      ? createQueryGuard(database, { clock: systemClock })
      : options.guard,
  });
}
