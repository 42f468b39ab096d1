/**
 * The last line of defence of the HTTP sub-app: every JSON body passes
 * through {@linkcode redactSecrets} before it is written, whatever produced
 * it (config views are already redacted by `redactConfig`; this catches what
 * a future field or an error detail might leak).
 *
 * What is redacted:
 * - the value of any field whose name looks secret (see
 *   {@linkcode isSecretFieldName}: `token`, `secret`, `password`/`passwd`/`pwd`,
 *   `psk`, `credential`, `authorization`, `cookie`, `private`, `signature`,
 *   or ending in `key`/`keys` other than the bare `key`) becomes
 *   `"[redacted]"`; `null`, `undefined` and booleans are kept (they hold no
 *   secret and say whether one is set). Identifiers (`pskId`, `psk_id`,
 *   names ending in `Id`/`Ids`) are kept: they name a secret, they are not one;
 * - the password of any URL in a string (`scheme://user:password@host`)
 *   becomes `[redacted]`.
 *
 * The bare field `key` is kept: in this API it is a tracking key (an
 * address or IPv6 /64) or an alert's condition name, never key material.
 *
 * @module
 */

/** The replacement text, as `redactConfig` writes it. */
export const REDACTED = "[redacted]";

const SECRET_WORDS =
  /token|secret|passw(?:or)?d|pwd|psk|credential|authori[sz]ation|cookie|private|signature/;
const ENDS_IN_KEY = /keys?$/;
const IDENTIFIER = /(?:id|ids)$/;
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi;

/**
 * Whether a field with this name is redacted by {@linkcode redactSecrets}.
 *
 * @param name a JSON field name
 * @returns true for secret-looking names (case and `_`/`-` insensitive)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSecretFieldName } from "./redact.ts";
 * assert.equal(isSecretFieldName("adminToken"), true);
 * assert.equal(isSecretFieldName("hmac_secret_key"), true);
 * assert.equal(isSecretFieldName("pskId"), false);
 * assert.equal(isSecretFieldName("key"), false);
 * ```
 */
export function isSecretFieldName(name: string): boolean {
  const n = name.toLowerCase().replace(/[_\-\s]/g, "");
  if (n === "key" || IDENTIFIER.test(n)) return false;
  return SECRET_WORDS.test(n) || ENDS_IN_KEY.test(n);
}

/**
 * A JSON-safe copy of `value` with secrets replaced (see the module doc).
 * Dates become ISO strings, bigints strings, functions and symbols are
 * dropped, cycles become `"[circular]"`, and `toJSON()` is honoured.
 *
 * @param value anything about to be sent as JSON
 * @returns the redacted copy
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactSecrets } from "./redact.ts";
 * assert.deepEqual(
 *   redactSecrets({ adminToken: "s3cr3t", url: "postgres://app:hunter2@db/app", on: true }),
 *   { adminToken: "[redacted]", url: "postgres://app:[redacted]@db/app", on: true },
 * );
 * ```
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, new Set());
}

function walk(value: unknown, seen: Set<object>): unknown {
  if (typeof value === "string") return value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return "[circular]";
  const toJson = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJson === "function") return walk(toJson.call(value), seen);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, seen) ?? null);
    if (value instanceof Map) return walk(Object.fromEntries(value), seen);
    if (value instanceof Set) return walk([...value], seen);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return REDACTED;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (isSecretFieldName(k)) {
        out[k] = v === null || v === undefined || typeof v === "boolean" ? v ?? null : REDACTED;
        continue;
      }
      const w = walk(v, seen);
      if (w !== undefined) out[k] = w;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
