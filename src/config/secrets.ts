/**
 * Key material parsing and redaction. Every error here names the variable or
 * file and line that is wrong, and never contains a key or any part of one.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { decodeUtf8Strict, fromHex, REDACTED, utf8 } from "../util/mod.ts";
import { type AppConfig, CONFIG_FIELDS, KeyRing, type SecretKind } from "./schema.ts";

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** Maximum PSK id length in UTF-8 bytes. */
export const MAX_PSK_ID_BYTES = 64;

/**
 * Parse a 32-byte key written as exactly 64 hex characters (surrounding
 * whitespace is ignored).
 *
 * @param name the variable name used in the error message
 * @param value the hex text
 * @returns the 32 key bytes
 * @throws {ConfigError} `CONFIG_INVALID`, e.g. "PSK_SECRET must be 64 hex characters (32 bytes)"
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHexKey } from "./secrets.ts";
 * const key = parseHexKey("HMAC_SECRET_KEY", "ab".repeat(32));
 * assert.ok(key.length === 32 && key[0] === 0xab);
 * ```
 */
export function parseHexKey(name: string, value: string): Uint8Array {
  const text = value.trim();
  if (!HEX_KEY.test(text)) {
    throw new ConfigError("CONFIG_INVALID", `${name} must be 64 hex characters (32 bytes)`);
  }
  return fromHex(text);
}

function hasControlChars(s: string): boolean {
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u001f\u007f]/.test(s);
}

/**
 * Parse a PSK file: one `id=<64 hex characters>` per line; blank lines and
 * lines starting with `#` are ignored; whitespace around the id and the key
 * is trimmed; the id is everything before the last `=` (0–64 bytes of valid
 * UTF-8, no control characters; `""` is the default id); ids must be unique.
 *
 * @param text the file's contents (bytes are decoded as strict UTF-8)
 * @param fileName shown in error messages
 * @returns id → key, in file order
 * @throws {ConfigError} `CONFIG_INVALID` naming the file and line (never the key)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePskFile } from "./secrets.ts";
 * const ring = parsePskFile(`# ops team\nops=${"11".repeat(32)}\n`, "psks.txt");
 * assert.ok(ring.get("ops")?.length === 32);
 * ```
 */
export function parsePskFile(text: string | Uint8Array, fileName: string): Map<string, Uint8Array> {
  let source: string;
  if (typeof text === "string") {
    source = text;
  } else {
    const decoded = decodeUtf8Strict(text);
    if (decoded === undefined) {
      throw new ConfigError("CONFIG_INVALID", `PSK file ${fileName} is not valid UTF-8`);
    }
    source = decoded;
  }
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  const out = new Map<string, Uint8Array>();
  const firstLine = new Map<string, number>();
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `PSK file ${fileName} line ${lineNo}`;
    const eq = line.lastIndexOf("=");
    if (eq < 0) {
      throw new ConfigError("CONFIG_INVALID", `${where}: expected id=<64 hex characters>`);
    }
    const id = line.slice(0, eq).trim();
    const hex = line.slice(eq + 1).trim();
    if (!id.isWellFormed() || hasControlChars(id)) {
      throw new ConfigError(
        "CONFIG_INVALID",
        `${where}: id must be valid UTF-8 without control characters`,
      );
    }
    if (utf8(id).length > MAX_PSK_ID_BYTES) {
      throw new ConfigError(
        "CONFIG_INVALID",
        `${where}: id must be at most ${MAX_PSK_ID_BYTES} bytes of UTF-8`,
      );
    }
    if (!HEX_KEY.test(hex)) {
      throw new ConfigError("CONFIG_INVALID", `${where}: key must be 64 hex characters (32 bytes)`);
    }
    const first = firstLine.get(id);
    if (first !== undefined) {
      throw new ConfigError(
        "CONFIG_INVALID",
        `${where}: duplicate id ${JSON.stringify(id)} (first defined on line ${first})`,
      );
    }
    firstLine.set(id, lineNo);
    out.set(id, fromHex(hex));
  }
  return out;
}

/** A JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The output of {@linkcode redactConfig}: {@linkcode AppConfig}'s shape, JSON-safe. */
export type RedactedConfig = { [section: string]: JsonValue };

/**
 * Hide the secret parts of a URL. `"dsn"`: the password and password-like
 * query parameters; `"webhook"`: everything after the origin. Unparseable
 * input is redacted whole.
 */
function redactUrl(url: string, kind: "dsn" | "webhook"): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return REDACTED;
  }
  const auth = u.username ? `${u.username}${u.password ? ":" + REDACTED : ""}@` : "";
  if (kind === "webhook") {
    const rest = u.pathname !== "/" || u.search || u.hash ? "/" + REDACTED : "";
    return `${u.protocol}//${auth}${u.host}${rest}`;
  }
  let query = "";
  const params = [...u.searchParams];
  if (params.length > 0) {
    query = "?" +
      params
        .map(([k, v]) =>
          `${encodeURIComponent(k)}=${
            /pass|secret|token|key/i.test(k) ? REDACTED : encodeURIComponent(v)
          }`
        )
        .join("&");
  }
  return `${u.protocol}//${auth}${u.host}${u.pathname}${query}`;
}

function redactValue(value: unknown, kind: SecretKind | undefined): JsonValue {
  if (value === undefined) return null;
  if (kind === undefined) {
    if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined));
    return value as JsonValue;
  }
  switch (kind) {
    case "key":
      if (value instanceof KeyRing || value instanceof Map) {
        const ids: Record<string, JsonValue> = {};
        for (const id of value.keys()) ids[id] = REDACTED;
        return ids;
      }
      return REDACTED;
    case "token":
      return REDACTED;
    case "dsn":
    case "webhook":
      if (Array.isArray(value)) return value.map((v) => redactUrl(String(v), kind));
      return redactUrl(String(value), kind);
  }
}

/**
 * A JSON-safe copy of `config` with every secret replaced by `"[redacted]"`
 * (for `/report` and logs). Key material becomes `"[redacted]"` (the PSK
 * ring becomes `{ id: "[redacted]" }`, so ids stay visible); database URLs
 * keep everything but the password; the alert webhook keeps its origin;
 * unset optional fields are `null`.
 *
 * @param config a loaded configuration
 * @returns a plain object safe to serialize
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig, redactConfig } from "./mod.ts";
 * const config = loadConfig({ env: { DATABASE_URL: "postgres://app:hunter2@db:5432/app" } });
 * const shown = redactConfig(config) as { database: { url: string } };
 * assert.ok(shown.database.url === "postgres://app:[redacted]@db:5432/app");
 * ```
 */
export function redactConfig(config: AppConfig): RedactedConfig {
  const out: Record<string, JsonValue> = {};
  for (const f of CONFIG_FIELDS) {
    const parts = f.path.split(".");
    let src: unknown = config;
    for (const p of parts) src = (src as Record<string, unknown> | undefined)?.[p];
    let node = out;
    for (const p of parts.slice(0, -1)) {
      node = (node[p] ??= {}) as Record<string, JsonValue>;
    }
    node[parts[parts.length - 1]] = redactValue(src, f.secret);
  }
  return out;
}
