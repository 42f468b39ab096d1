/**
 * Secrets generated on first run and kept in the data directory: the default
 * PSK in `${dataDir}/psk` when no `PSK_SECRET` / PSK file is configured, and
 * the audit log's HMAC key in `${dataDir}/hmac_key` when `HMAC_SECRET_KEY`
 * is not set. The only file in config/ that does I/O (Deno APIs).
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { fromHex, toHex, wipe } from "../util/mod.ts";

/** The result of {@linkcode ensureDefaultPsk}. */
export interface DefaultPsk {
  /** The 32-byte key. */
  readonly psk: Uint8Array;
  /** Whether this call generated it (false: it was already there). */
  readonly created: boolean;
  /** Path of the key file. */
  readonly path: string;
}

const FILE_FORMAT = /^([0-9a-fA-F]{64})\r?\n?$/;
const isPosix = () => Deno.build.os !== "windows";

function joinPath(dir: string, name: string): string {
  const trimmed = dir.replace(/[\\/]+$/, "");
  return (trimmed === "" ? dir : trimmed) + "/" + name;
}

async function readExisting(path: string, what: string): Promise<Uint8Array> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new ConfigError(
      "CONFIG_FILE_UNREADABLE",
      `Cannot read ${what} ${path}: ${errName(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!info.isFile) {
    throw new ConfigError("CONFIG_INVALID", `${what} ${path} is not a regular file`);
  }
  if (isPosix() && info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, "0");
    throw new ConfigError(
      "CONFIG_INVALID",
      `${what} ${path} is accessible by group or others (mode ${mode}); ` +
        `restrict it with: chmod 600 ${path}`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(
      "CONFIG_FILE_UNREADABLE",
      `Cannot read ${what} ${path}: ${errName(err)}`,
      {
        cause: err,
      },
    );
  }
  const m = FILE_FORMAT.exec(text);
  if (!m) {
    throw new ConfigError(
      "CONFIG_INVALID",
      `${what} ${path} is malformed: expected 64 hex characters and an optional newline ` +
        `(delete it to generate a new key; ${
          what === PSK_FILE
            ? "clients using the old key must be updated"
            : "audit records written with the old key will no longer verify"
        })`,
    );
  }
  return fromHex(m[1]);
}

function errName(err: unknown): string {
  return err instanceof Error ? err.name : "error";
}

/**
 * Return the default PSK stored in `${dataDir}/psk`, creating it when absent.
 *
 * Reading: the file must hold exactly 64 hex characters plus an optional
 * newline, and on POSIX must not be accessible by group or others (the
 * error says to run `chmod 600`).
 *
 * Creating: `dataDir` is created with mode 0700 if missing; a fresh random
 * key is written to a uniquely named temp file opened with `createNew`
 * (exclusive) and mode 0600, synced, then published with a hard link, which
 * fails instead of overwriting: when two processes race, the loser discards
 * its key and returns the winner's (`created: false`). On file systems
 * without hard links it falls back to `rename` (atomic, but a simultaneous
 * racer could then replace the file).
 *
 * @param dataDir the state directory (`config.server.dataDir`)
 * @returns the key, whether it was created, and the file path
 * @throws {ConfigError} `CONFIG_INVALID` for a malformed or over-permissive
 *   file; `CONFIG_FILE_UNREADABLE` when it cannot be read or written
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureDefaultPsk } from "./psk_store.ts";
 * const dir = await Deno.makeTempDir();
 * const first = await ensureDefaultPsk(dir);
 * const again = await ensureDefaultPsk(dir);
 * assert.ok(first.created && !again.created && again.psk.length === 32);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureDefaultPsk(dataDir: string): Promise<DefaultPsk> {
  const k = await ensureKeyFile(joinPath(dataDir, "psk"), dataDir, PSK_FILE);
  return { psk: k.key, created: k.created, path: k.path };
}

/** The result of {@linkcode ensureDefaultHmacKey}. */
export interface DefaultHmacKey {
  /** The 32-byte key. */
  readonly key: Uint8Array;
  /** Whether this call generated it. */
  readonly created: boolean;
  /** Path of the key file. */
  readonly path: string;
}

/**
 * Return the audit log's HMAC key stored in `${dataDir}/hmac_key`, creating
 * it when absent, with the same file rules as {@linkcode ensureDefaultPsk}.
 * Used when `HMAC_SECRET_KEY` is not set, so the audit chain of a fresh
 * installation is keyed and stays verifiable across restarts.
 *
 * @param dataDir the state directory (`config.server.dataDir`)
 * @returns the key, whether it was created, and the file path
 * @throws {ConfigError} as {@linkcode ensureDefaultPsk}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureDefaultHmacKey } from "./psk_store.ts";
 * const dir = await Deno.makeTempDir();
 * const first = await ensureDefaultHmacKey(dir);
 * const again = await ensureDefaultHmacKey(dir);
 * assert.deepEqual(again.key, first.key);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function ensureDefaultHmacKey(dataDir: string): Promise<DefaultHmacKey> {
  return await ensureKeyFile(joinPath(dataDir, "hmac_key"), dataDir, "HMAC key file");
}

const PSK_FILE = "PSK file";

async function ensureKeyFile(
  path: string,
  dataDir: string,
  what: string,
): Promise<DefaultHmacKey> {
  try {
    await Deno.lstat(path);
    return { key: await readExisting(path, what), created: false, path };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new ConfigError(
        "CONFIG_FILE_UNREADABLE",
        `Cannot read ${what} ${path}: ${errName(err)}`,
        { cause: err },
      );
    }
  }

  const key = crypto.getRandomValues(new Uint8Array(32));
  const suffix = toHex(crypto.getRandomValues(new Uint8Array(8)));
  const tmp = `${path}.${suffix}.tmp`;
  try {
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
    try {
      if (isPosix()) await Deno.chmod(tmp, 0o600);
      const bytes = new TextEncoder().encode(toHex(key) + "\n");
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      wipe(bytes);
      await file.syncData();
    } finally {
      file.close();
    }
    let published = false;
    try {
      await Deno.link(tmp, path);
      published = true;
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        // Lost a race: another process published its key first. Use that one.
        wipe(key);
        return { key: await readExisting(path, what), created: false, path };
      }
    }
    if (!published) await Deno.rename(tmp, path);
    return { key, created: true, path };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      "CONFIG_FILE_UNREADABLE",
      `Cannot create ${what} ${path}: ${errName(err)}`,
      { cause: err },
    );
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}
