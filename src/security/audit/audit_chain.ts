/**
 * The audit log's tamper evidence, pure (no I/O): the canonical byte
 * encoding of a record and the HMAC-SHA256 chain over it.
 *
 * `mac(n) = HMAC-SHA256(key, prev_mac(n) || encodeAuditRecord(n))`, with
 * `prev_mac(n) = mac(n − 1)` and `prev_mac(1) = 32 zero bytes` (the
 * genesis). The encoding (version 1) is length-prefixed, so no two distinct
 * records share bytes:
 *
 * ```
 * u8   version = 1
 * u64  seq                    (big-endian)
 * i64  occurred_at, ms epoch  (big-endian, two's complement)
 * u32  len, kind              (UTF-8)
 * u8   0 | 1, then if 1: u32 len, ip     (UTF-8; 0 = NULL)
 * u8   0 | 1, then if 1: u32 len, actor  (UTF-8; 0 = NULL)
 * u32  len, details           (UTF-8 of the canonical JSON text)
 * ```
 *
 * Details are MAC'd as the exact text stored in the `details` column
 * (`text`, not `jsonb`: jsonb reorders keys and renormalises numbers and
 * escapes, so re-serialising it would not be byte-stable across servers
 * and versions). That text is produced once, by {@linkcode canonicalJson},
 * when the event is recorded; verification hashes the stored text as is.
 *
 * @module
 */

import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { timingSafeEqual, toHex, utf8 } from "../../util/mod.ts";

/**
 * Length of every MAC in the chain (HMAC-SHA256).
 *
 * @example
 * ```ts
 * import { AUDIT_MAC_BYTES, genesisMac } from "./mod.ts";
 * console.assert(genesisMac().length === AUDIT_MAC_BYTES);
 * ```
 */
export const AUDIT_MAC_BYTES = 32;

/**
 * Version byte at the start of {@linkcode encodeAuditRecord}'s output.
 *
 * @example
 * ```ts
 * import { AUDIT_ENCODING_VERSION, encodeAuditRecord } from "./mod.ts";
 * const bytes = encodeAuditRecord({ seq: 1, occurredAtMs: 0, kind: "ban", ip: null, actor: null, details: "{}" });
 * console.assert(bytes[0] === AUDIT_ENCODING_VERSION);
 * ```
 */
export const AUDIT_ENCODING_VERSION = 1;

// Domain separation between the record chain and the retention anchor's MAC.
const ANCHOR_LABEL = utf8("somnytoo-audit-anchor-v1\0");

/**
 * The genesis `prev_mac` of the first record: 32 zero bytes (a fresh copy).
 *
 * @example
 * ```ts
 * import { genesisMac } from "./mod.ts";
 * console.assert(genesisMac().every((b) => b === 0));
 * ```
 */
export function genesisMac(): Uint8Array {
  return new Uint8Array(AUDIT_MAC_BYTES);
}

/**
 * One record as it is MAC'd and stored (without its MACs).
 *
 * @example
 * ```ts
 * import type { AuditRecordFields } from "./mod.ts";
 * const r: AuditRecordFields = { seq: 1, occurredAtMs: 1_700_000_000_000, kind: "ban", ip: "192.0.2.1", actor: null, details: "{}" };
 * void r;
 * ```
 */
export interface AuditRecordFields {
  /** Position in the chain, from 1, consecutive. */
  readonly seq: number;
  /** When the event was recorded, integer ms since the Unix epoch. */
  readonly occurredAtMs: number;
  /** An `AuditEventKind` or `audit_dropped`. */
  readonly kind: string;
  /** Source address, or null. */
  readonly ip: string | null;
  /** Who acted, or null. */
  readonly actor: string | null;
  /** The canonical JSON text of the details ({@linkcode canonicalJson}). */
  readonly details: string;
}

/**
 * The HMAC key, imported once (raw bytes are copied; never logged).
 *
 * @example
 * ```ts
 * import { type AuditKey, importAuditKey } from "./mod.ts";
 * const key: AuditKey = importAuditKey(new Uint8Array(32));
 * void key;
 * ```
 */
export type AuditKey = KeyObject;

/**
 * Import a 32-byte HMAC key.
 * @throws {RangeError} when `raw` is not 32 bytes (the message never contains the key)
 *
 * @example
 * ```ts
 * import { importAuditKey } from "./mod.ts";
 * const key = importAuditKey(crypto.getRandomValues(new Uint8Array(32)));
 * void key;
 * ```
 */
export function importAuditKey(raw: Uint8Array): AuditKey {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new RangeError("Audit HMAC key must be 32 bytes");
  }
  return createSecretKey(Uint8Array.from(raw));
}

/**
 * The canonical bytes of a record (see the module doc for the layout).
 *
 * @example
 * ```ts
 * import { encodeAuditRecord } from "./mod.ts";
 * const bytes = encodeAuditRecord({ seq: 1, occurredAtMs: 0, kind: "ban", ip: null, actor: null, details: "{}" });
 * console.assert(bytes.length === 1 + 8 + 8 + 4 + 3 + 1 + 1 + 4 + 2);
 * ```
 */
export function encodeAuditRecord(r: AuditRecordFields): Uint8Array {
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) throw new RangeError(`Bad seq: ${r.seq}`);
  if (!Number.isSafeInteger(r.occurredAtMs)) {
    throw new RangeError(`Bad occurredAtMs: ${r.occurredAtMs}`);
  }
  const kind = utf8(r.kind);
  const ip = r.ip === null ? undefined : utf8(r.ip);
  const actor = r.actor === null ? undefined : utf8(r.actor);
  const details = utf8(r.details);
  const n = 1 + 8 + 8 + 4 + kind.length + 1 + (ip ? 4 + ip.length : 0) + 1 +
    (actor ? 4 + actor.length : 0) + 4 + details.length;
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  let o = 0;
  out[o++] = AUDIT_ENCODING_VERSION;
  view.setBigUint64(o, BigInt(r.seq));
  o += 8;
  view.setBigInt64(o, BigInt(r.occurredAtMs));
  o += 8;
  const put = (b: Uint8Array): void => {
    view.setUint32(o, b.length);
    out.set(b, o + 4);
    o += 4 + b.length;
  };
  const putOpt = (b: Uint8Array | undefined): void => {
    out[o++] = b ? 1 : 0;
    if (b) put(b);
  };
  put(kind);
  putOpt(ip);
  putOpt(actor);
  put(details);
  return out;
}

/**
 * `HMAC-SHA256(key, prevMac || encodeAuditRecord(fields))`.
 *
 * @example
 * ```ts
 * import { computeAuditMac, genesisMac, importAuditKey } from "./mod.ts";
 * const key = importAuditKey(new Uint8Array(32));
 * const fields = { seq: 1, occurredAtMs: 0, kind: "ban", ip: null, actor: null, details: "{}" };
 * const mac1 = computeAuditMac(key, genesisMac(), fields);
 * const mac2 = computeAuditMac(key, mac1, { ...fields, seq: 2 });
 * console.assert(mac1.length === 32 && mac2.length === 32);
 * ```
 */
export function computeAuditMac(
  key: AuditKey,
  prevMac: Uint8Array,
  fields: AuditRecordFields,
): Uint8Array {
  const h = createHmac("sha256", key);
  h.update(prevMac);
  h.update(encodeAuditRecord(fields));
  return new Uint8Array(h.digest());
}

/**
 * MAC of the retention anchor: `HMAC-SHA256(key, "somnytoo-audit-anchor-v1\0"
 * || u64 firstSeq || prevMac)`. It binds "the chain now starts at
 * `firstSeq`, linked to `prevMac`", so the anchor cannot be moved forward
 * (hiding purged-looking deletions) without the key.
 *
 * @example
 * ```ts
 * import { computeAnchorMac, genesisMac, importAuditKey } from "./mod.ts";
 * const mac = computeAnchorMac(importAuditKey(new Uint8Array(32)), 101, genesisMac());
 * console.assert(mac.length === 32);
 * ```
 */
export function computeAnchorMac(
  key: AuditKey,
  firstSeq: number,
  prevMac: Uint8Array,
): Uint8Array {
  const seq = new Uint8Array(8);
  new DataView(seq.buffer).setBigUint64(0, BigInt(firstSeq));
  const h = createHmac("sha256", key);
  h.update(ANCHOR_LABEL);
  h.update(seq);
  h.update(prevMac);
  return new Uint8Array(h.digest());
}

/**
 * Constant-time MAC comparison (time depends only on the lengths).
 *
 * @example
 * ```ts
 * import { macsEqual } from "./mod.ts";
 * console.assert(macsEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
 * console.assert(!macsEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
 * ```
 */
export function macsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return timingSafeEqual(a, b);
}

/**
 * Options for {@linkcode canonicalJson}.
 *
 * @example
 * ```ts
 * import { canonicalJson, type CanonicalJsonOptions } from "./mod.ts";
 * const options: CanonicalJsonOptions = { maxChars: 20 };
 * console.assert(canonicalJson({ s: "x".repeat(50) }, options) === '{"$truncated":true,"limit":20}');
 * ```
 */
export interface CanonicalJsonOptions {
  /**
   * Output longer than this (UTF-16 code units) is replaced by
   * `{"$truncated":true,"limit":N}`. @default 8192
   */
  readonly maxChars?: number;
  /** Nesting deeper than this becomes the string `"[depth]"`. @default 16 */
  readonly maxDepth?: number;
}

class TooLong extends Error {}

/**
 * Canonical JSON text of any value; never throws. Object keys are sorted
 * by UTF-16 code units and numbers use JavaScript's shortest round-trip
 * form (as RFC 8785), with no whitespace. Values JSON cannot hold are
 * encoded, not rejected:
 *
 * | value                               | encoded as                                   |
 * | ----------------------------------- | -------------------------------------------- |
 * | `bigint`                            | decimal string (`12n` → `"12"`)              |
 * | `NaN`, `±Infinity`                  | string (`"NaN"`, `"Infinity"`, `"-Infinity"`) |
 * | `-0`                                | `0`                                          |
 * | `undefined`, function, symbol       | property omitted; `null` in an array         |
 * | `Date`                              | ISO string (`"Invalid Date"` when invalid)   |
 * | `Uint8Array` / other typed arrays   | lowercase hex string / array of numbers      |
 * | `Map` / `Set`                       | object of `String(key)` → value / array      |
 * | `Error`                             | `{"message":…,"name":…}`                     |
 * | cycle / too deep                    | `"[circular]"` / `"[depth]"`                 |
 * | other objects (classes included)    | their own enumerable string keys             |
 * | U+0000, lone surrogates in strings  | U+FFFD (so the text is valid for `jsonb`)    |
 *
 * `toJSON` methods are not called (they could throw or lie); getters that
 * throw make the property `"[unreadable]"`. Output above `maxChars` is
 * replaced by `{"$truncated":true,"limit":maxChars}`.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./mod.ts";
 * console.assert(canonicalJson({ b: 1n, a: [NaN, undefined] }) === '{"a":["NaN",null],"b":"1"}');
 * ```
 */
export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): string {
  const maxChars = options.maxChars ?? 8192;
  const maxDepth = options.maxDepth ?? 16;
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    length += s.length;
    if (length > maxChars) throw new TooLong();
    parts.push(s);
  };
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): void => {
    switch (typeof v) {
      case "string":
        // Refuse before copying a huge string.
        if (v.length > maxChars) throw new TooLong();
        return emit(jsonString(v));
      case "number":
        if (Number.isFinite(v)) return emit(Object.is(v, -0) ? "0" : String(v));
        return emit(jsonString(String(v)));
      case "bigint":
        return emit(jsonString(v.toString()));
      case "boolean":
        return emit(v ? "true" : "false");
      case "undefined":
      case "function":
      case "symbol":
        return emit("null");
    }
    if (v === null) return emit("null");
    const o = v as object;
    if (seen.has(o)) return emit('"[circular]"');
    if (depth >= maxDepth) return emit('"[depth]"');
    seen.add(o);
    try {
      walkObject(o, depth);
    } finally {
      seen.delete(o);
    }
  };
  const walkEntries = (entries: [string, unknown][], depth: number): void => {
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    emit("{");
    let first = true;
    for (const [k, val] of entries) {
      if (isOmitted(val)) continue;
      if (!first) emit(",");
      first = false;
      emit(jsonString(k));
      emit(":");
      walk(val, depth + 1);
    }
    emit("}");
  };
  const emitHex = (b: Uint8Array): void => {
    if (b.length * 2 > maxChars) throw new TooLong();
    emit(`"${toHex(b)}"`);
  };
  const walkArray = (items: ArrayLike<unknown>, depth: number): void => {
    if (items.length > maxChars) throw new TooLong();
    emit("[");
    for (let i = 0; i < items.length; i++) {
      if (i > 0) emit(",");
      walk(items[i], depth + 1);
    }
    emit("]");
  };
  const walkObject = (o: object, depth: number): void => {
    if (o instanceof Uint8Array) return emitHex(o);
    if (ArrayBuffer.isView(o)) {
      if (o instanceof DataView) {
        return emitHex(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
      }
      return walkArray(o as unknown as ArrayLike<number | bigint>, depth);
    }
    if (Array.isArray(o)) return walkArray(o, depth);
    if (o instanceof Date) {
      const t = o.getTime();
      return emit(jsonString(Number.isNaN(t) ? "Invalid Date" : o.toISOString()));
    }
    if ((o instanceof Map || o instanceof Set) && o.size > maxChars) throw new TooLong();
    if (o instanceof Map) {
      const entries: [string, unknown][] = [];
      for (const [k, val] of o) entries.push([safeString(k), val]);
      return walkEntries(entries, depth);
    }
    if (o instanceof Set) return walkArray([...o], depth);
    if (o instanceof Error) {
      return walkEntries([["name", safeString(o.name)], ["message", safeString(o.message)]], depth);
    }
    const entries: [string, unknown][] = [];
    for (const k of Object.keys(o)) {
      let val: unknown;
      try {
        val = (o as Record<string, unknown>)[k];
      } catch {
        val = "[unreadable]";
      }
      entries.push([k, val]);
    }
    walkEntries(entries, depth);
  };
  try {
    walk(value, 0);
    return parts.join("");
  } catch (e) {
    // TooLong, or anything exotic (a Proxy that throws on ownKeys).
    return e instanceof TooLong
      ? `{"$truncated":true,"limit":${maxChars}}`
      : '{"$unencodable":true}';
  }
}

function isOmitted(v: unknown): boolean {
  return v === undefined || typeof v === "function" || typeof v === "symbol";
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return "[unreadable]";
  }
}

/** JSON string literal with U+0000 and lone surrogates replaced by U+FFFD. */
function jsonString(s: string): string {
  return JSON.stringify(wellFormedText(s));
}

/**
 * `s` with U+0000 and lone surrogates replaced by U+FFFD: text PostgreSQL
 * accepts in a `text` column (and in `jsonb`).
 *
 * @example
 * ```ts
 * import { wellFormedText } from "./mod.ts";
 * console.assert(wellFormedText("a\u0000b\uD800") === "a\uFFFDb\uFFFD");
 * ```
 */
export function wellFormedText(s: string): string {
  // deno-lint-ignore no-control-regex
  const noNul = s.includes("\u0000") ? s.replace(/\u0000/g, "\uFFFD") : s;
  return noNul.isWellFormed() ? noNul : noNul.toWellFormed();
}
