/**
 * The embedded PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly) with
 * its data in a directory, served on a loopback port by
 * `@electric-sql/pglite-socket`, so that the application talks to it through
 * postgres.js exactly as it talks to a real server.
 *
 * PGlite is one PostgreSQL backend: every socket connection shares its one
 * session. Two connections would therefore interleave inside each other's
 * transactions, so the pool in front of it must hold a single connection
 * ({@linkcode EMBEDDED_MAX_CONNECTIONS}) and the socket server accepts one.
 */

import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { DatabaseError } from "../errors.ts";

/** Pool size for the embedded database (see module doc). */
export const EMBEDDED_MAX_CONNECTIONS = 1;

/** A running embedded database. */
export interface EmbeddedDatabase {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The data directory, or undefined for an in-memory database. */
  readonly dataDir: string | undefined;
  /** Stop serving and close the database (flushes it to disk). Idempotent. */
  close(): Promise<void>;
}

/** Options for {@linkcode startEmbeddedDatabase}. */
export interface EmbeddedDatabaseOptions {
  /** Data directory (created if missing); omit for a throwaway in-memory database. */
  readonly dataDir?: string;
  /** Loopback port; 0 (default) picks a free one. */
  readonly port?: number;
}

/**
 * Start PGlite on `dataDir` and serve it on 127.0.0.1.
 * @throws {DatabaseError} `DB_UNAVAILABLE` if the directory cannot be used
 * (e.g. another process holds it) or the port cannot be bound.
 */
export async function startEmbeddedDatabase(
  options: EmbeddedDatabaseOptions = {},
): Promise<EmbeddedDatabase> {
  const dataDir = options.dataDir;
  let db: PGlite;
  try {
    if (dataDir) await Deno.mkdir(dataDir, { recursive: true });
    db = await PGlite.create(dataDir);
  } catch (cause) {
    throw new DatabaseError(
      "DB_UNAVAILABLE",
      `Cannot open the embedded database${dataDir ? ` in ${dataDir}` : ""}: ${message(cause)}`,
      { cause },
    );
  }
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: options.port ?? 0,
    maxConnections: EMBEDDED_MAX_CONNECTIONS,
  });
  try {
    await server.start();
  } catch (cause) {
    await db.close().catch(() => {});
    throw new DatabaseError(
      "DB_UNAVAILABLE",
      `Cannot serve the embedded database: ${message(cause)}`,
      { cause },
    );
  }
  const [host, portText] = server.getServerConn().split(":");
  const port = Number(portText);
  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    host,
    port,
    dataDir,
    close() {
      closing ??= (async () => {
        await server.stop().catch(() => {});
        await db.close();
      })();
      return closing;
    },
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
