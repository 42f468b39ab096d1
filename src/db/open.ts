/**
 * Open the application's database from configuration: `database.url` when
 * set, else the embedded PGlite in `database.embeddedDir` (persistent), both
 * through the same postgres.js path. The first connection is retried with
 * exponential backoff and jitter (`connectRetries`); then the pool's minimum
 * is opened and, when configured, migrations run.
 */

import type { AppConfig } from "../config/mod.ts";
import { DatabaseError } from "../errors.ts";
import { type Clock, type Logger, noopLogger, systemClock } from "../util/mod.ts";
import { backoffDelayMs } from "./backoff.ts";
import { Database, type QueryGuard } from "./database.ts";
import {
  EMBEDDED_MAX_CONNECTIONS,
  type EmbeddedDatabase,
  startEmbeddedDatabase,
} from "./embedded.ts";
import { migrate, type Migration, type MigrationReport } from "./migrations.ts";
import { PROJECT_MIGRATIONS } from "./migrations/mod.ts";
import { createQueryGuard } from "./query_guard.ts";
import type { DbSecurityEventSink } from "../security/mod.ts";

/** What {@linkcode openDatabase} needs from the configuration. */
export type DatabaseSettings = Pick<AppConfig, "database" | "cache" | "orm">;

/** Options for {@linkcode openDatabase}. */
export interface OpenDatabaseOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Screens statements. @default {@linkcode createQueryGuard} from the configuration */
  readonly guard?: QueryGuard;
  /** Receives the default guard's `SQLInjectionAttempt` / `ORMQueryFlood` events. */
  readonly onSecurityEvent?: DbSecurityEventSink;
  /** Migrations to apply when `database.migrateOnStart`. @default the project's own */
  readonly migrations?: readonly Migration[];
  /** Sleep between connect attempts (inject for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** An open database and, when embedded, the server behind it. */
export interface OpenedDatabase {
  readonly db: Database;
  /** Present when the embedded database is in use. */
  readonly embedded: EmbeddedDatabase | undefined;
  /** What start-up migration applied (undefined when it did not run). */
  readonly migrations: MigrationReport | undefined;
  /** Close the pool, then the embedded database. */
  close(): Promise<void>;
}

/**
 * See module doc.
 * @throws {DatabaseError} `DB_UNAVAILABLE` when every connect attempt failed
 * (the message names the target without its password), `DB_MIGRATION_FAILED`.
 */
export async function openDatabase(
  settings: DatabaseSettings,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase> {
  const logger = options.logger ?? noopLogger;
  const c = settings.database;
  let embedded: EmbeddedDatabase | undefined;
  let url = c.url;
  if (!url) {
    embedded = await startEmbeddedDatabase({ dataDir: c.embeddedDir });
    url = embedded.url;
    logger.info("embedded database started", { dir: c.embeddedDir, port: embedded.port });
  }
  const clock = options.clock ?? systemClock;
  const guard = options.guard ??
    createQueryGuard(c, { clock, onEvent: options.onSecurityEvent });
  const db = new Database({
    url,
    database: c,
    cache: settings.cache,
    orm: settings.orm,
    maxConnections: embedded ? EMBEDDED_MAX_CONNECTIONS : undefined,
    guard,
    clock,
    logger,
  });
  const close = async () => {
    await db.close();
    await embedded?.close();
  };
  try {
    await connectWithRetries(db, c.connectRetries, redactUrl(url), logger, options.sleep);
    await db.warmUp(embedded ? EMBEDDED_MAX_CONNECTIONS : c.minConnections);
    const report = c.migrateOnStart
      ? await migrate(db, options.migrations ?? PROJECT_MIGRATIONS, { logger })
      : undefined;
    return { db, embedded, migrations: report, close };
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
}

async function connectWithRetries(
  db: Database,
  retries: number,
  target: string,
  logger: Logger,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await db.ping();
      return;
    } catch (e) {
      if (attempt >= retries) {
        throw new DatabaseError(
          "DB_UNAVAILABLE",
          `Cannot connect to the database at ${target} after ${attempt + 1} attempt(s): ${
            (e as Error).message
          }`,
          { cause: e },
        );
      }
      const wait = backoffDelayMs(attempt);
      logger.warn("database not reachable, retrying", {
        target,
        attempt: attempt + 1,
        waitMs: wait,
      });
      await sleep(wait);
    }
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}
