/**
 * Versioned schema migrations. Each {@linkcode Migration} is a list of SQL
 * statements written in this repository (trusted text, not caller input).
 * `migrate` applies the pending ones in version order inside ONE
 * transaction that first takes a transaction-level advisory lock, so:
 * two instances starting together never migrate at once (the second waits,
 * then finds nothing to do); a failing migration leaves no trace (DDL is
 * transactional in PostgreSQL); an applied migration whose text was later
 * edited is refused (checksum mismatch) instead of silently diverging.
 */

import { DatabaseError } from "../errors.ts";
import type { CompiledQuery } from "../orm/mod.ts";
import { type Logger, noopLogger, toHex, utf8 } from "../util/mod.ts";
import type { Database, Transaction } from "./database.ts";

/** One schema change. */
export interface Migration {
  /** Positive, unique, applied in ascending order. */
  readonly version: number;
  /** Short snake_case description. */
  readonly name: string;
  /** Statements run in order (no parameters). */
  readonly statements: readonly string[];
}

/** What `migrate` did. */
export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  readonly applied: readonly { readonly version: number; readonly name: string }[];
  /** Highest version now applied (0 for none). */
  readonly current: number;
}

/** Table that records applied migrations. */
export const MIGRATIONS_TABLE = "somnytoo_schema_migrations";
// pg_advisory_xact_lock key: "SomnyToo" in ASCII, as an int8.
const LOCK_KEY = "6012857361893879663";

function trusted(sql: string, params: unknown[] = []): CompiledQuery {
  return { sql, params, operation: "raw", reads: [], writes: [], rawText: [] };
}

/** SHA-256 over a migration's statements. */
export async function migrationChecksum(m: Migration): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    utf8(m.statements.join("\n;\n")) as Uint8Array<ArrayBuffer>,
  );
  return toHex(new Uint8Array(digest));
}

/**
 * Apply every pending migration (see module doc).
 * @throws {DatabaseError} `DB_MIGRATION_FAILED` naming the migration that failed
 * or whose checksum changed; nothing of this call is applied then.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[],
  options: { logger?: Logger; timeoutMs?: number } = {},
): Promise<MigrationReport> {
  const logger = options.logger ?? noopLogger;
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i];
    if (!Number.isInteger(m.version) || m.version < 1) {
      throw new RangeError(`Migration version must be a positive integer: ${m.version}`);
    }
    if (i > 0 && sorted[i - 1].version === m.version) {
      throw new RangeError(`Duplicate migration version ${m.version}`);
    }
  }
  const sums = await Promise.all(sorted.map(migrationChecksum));
  try {
    return await db.transaction(async (tx) => {
      await tx.execute(trusted(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`));
      await tx.execute(trusted(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version integer PRIMARY KEY, ` +
          `name text NOT NULL, checksum text NOT NULL, ` +
          `applied_at timestamptz NOT NULL DEFAULT now())`,
      ));
      const rows = await tx.execute<{ version: number; name: string; checksum: string }>(
        trusted(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`),
      );
      const done = new Map(rows.map((r) => [r.version, r]));
      const applied: { version: number; name: string }[] = [];
      for (let i = 0; i < sorted.length; i++) {
        const m = sorted[i];
        const prior = done.get(m.version);
        if (prior) {
          if (prior.checksum !== sums[i]) {
            throw new DatabaseError(
              "DB_MIGRATION_FAILED",
              `Migration ${m.version} (${m.name}) was changed after it was applied`,
            );
          }
          continue;
        }
        await applyOne(tx, m, sums[i]);
        applied.push({ version: m.version, name: m.name });
        logger.info("migration applied", { version: m.version, name: m.name });
      }
      const current = Math.max(0, ...rows.map((r) => r.version), ...applied.map((a) => a.version));
      return { applied, current };
    }, { timeoutMs: options.timeoutMs ?? 120_000 });
  } catch (e) {
    if (e instanceof DatabaseError && e.code === "DB_MIGRATION_FAILED") throw e;
    throw new DatabaseError(
      "DB_MIGRATION_FAILED",
      `Migrations failed and were rolled back: ${(e as Error).message}`,
      { cause: e, sqlState: e instanceof DatabaseError ? e.sqlState : undefined },
    );
  }
}

async function applyOne(tx: Transaction, m: Migration, checksum: string): Promise<void> {
  for (const statement of m.statements) {
    try {
      await tx.execute(trusted(statement));
    } catch (e) {
      throw new DatabaseError(
        "DB_MIGRATION_FAILED",
        `Migration ${m.version} (${m.name}) failed: ${(e as Error).message}`,
        { cause: e, sqlState: e instanceof DatabaseError ? e.sqlState : undefined },
      );
    }
  }
  await tx.execute(trusted(
    `INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`,
    [m.version, m.name, checksum],
  ));
}
