/**
 * The key-value service's payloads (docs/PROTOCOL.md §8): UTF-8 JSON
 * requests parsed and checked, responses built so they never exceed the
 * frame limit. A Put's value is kept as the exact bytes the client sent for
 * it (its span in the request), so a Get returns it byte for byte; parsing
 * and re-serializing would reorder keys and rewrite numbers and escapes.
 */

import { MAX_PAYLOAD_BYTES, WireErrorCode } from "../../protocol/mod.ts";
import { HandlerError } from "../dispatcher.ts";

/** Longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 256;
/** Largest page of a List. */
export const MAX_LIST_LIMIT = 1000;
/** Page size of a List without `limit`. */
export const DEFAULT_LIST_LIMIT = 100;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A Put request: the key's UTF-8 and the value's JSON text as sent. */
export interface PutRequest {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly value: Uint8Array;
}

/** A Get or Delete request. */
export interface KeyRequest {
  readonly key: string;
  readonly keyBytes: Uint8Array;
}

/** A List request. */
export interface ListRequest {
  readonly prefix: Uint8Array;
  readonly after: Uint8Array | undefined;
  readonly limit: number;
}

function malformed(why: string): HandlerError {
  return new HandlerError(WireErrorCode.MalformedRequest, why);
}

/** Parse the payload as a JSON object; Error 2 if it is not one. */
function parseObject(payload: Uint8Array): { text: string; obj: Record<string, unknown> } {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    throw malformed("payload is not valid UTF-8");
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw malformed("payload is not valid JSON");
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw malformed("payload must be a JSON object");
  }
  return { text, obj: obj as Record<string, unknown> };
}

function keyField(obj: Record<string, unknown>, field: string, min: number): Uint8Array {
  const v = obj[field];
  if (typeof v !== "string") throw malformed(`"${field}" must be a string`);
  // A lone surrogate (from a \ud800 escape) has no UTF-8 form.
  if (!v.isWellFormed()) throw malformed(`"${field}" is not valid Unicode`);
  const bytes = encoder.encode(v);
  if (bytes.length < min || bytes.length > MAX_KEY_BYTES) {
    throw malformed(`"${field}" must be ${min}–${MAX_KEY_BYTES} bytes of UTF-8`);
  }
  return bytes;
}

/** Parse a Get or Delete payload `{"key"}`. */
export function parseKeyRequest(payload: Uint8Array): KeyRequest {
  const { obj } = parseObject(payload);
  const keyBytes = keyField(obj, "key", 1);
  return { key: obj.key as string, keyBytes };
}

/**
 * Parse a Put payload `{"key", "value"}`.
 * @throws {HandlerError} Error 2 when malformed, Error 7 when the value is so
 * large that a Get of it could not fit in one frame.
 */
export function parsePutRequest(payload: Uint8Array): PutRequest {
  const { text, obj } = parseObject(payload);
  const keyBytes = keyField(obj, "key", 1);
  if (!Object.hasOwn(obj, "value")) throw malformed(`"value" is missing`);
  const span = memberSpan(text, "value")!; // present: JSON.parse saw it
  const value = encoder.encode(text.slice(span[0], span[1]));
  const key = obj.key as string;
  if (getResponseBytes(key, value.length) > MAX_PAYLOAD_BYTES) {
    throw new HandlerError(
      WireErrorCode.RequestTooLarge,
      `value too large: a Get of it must fit in one frame (${MAX_PAYLOAD_BYTES} bytes)`,
    );
  }
  return { key, keyBytes, value };
}

/** Parse a List payload `{"prefix", "after"?, "limit"?}`. */
export function parseListRequest(payload: Uint8Array): ListRequest {
  const { obj } = parseObject(payload);
  const prefix = keyField(obj, "prefix", 0);
  // A null `after` (the last page's `next`) means "from the start", like an absent one.
  const after = obj.after === undefined || obj.after === null
    ? undefined
    : keyField(obj, "after", 1);
  let limit = DEFAULT_LIST_LIMIT;
  if (obj.limit !== undefined) {
    const l = obj.limit;
    if (typeof l !== "number" || !Number.isInteger(l) || l < 1 || l > MAX_LIST_LIMIT) {
      throw malformed(`"limit" must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    }
    limit = l;
  }
  return { prefix, after, limit };
}

/** The smallest byte string greater than every string starting with `prefix`, or undefined (no bound). */
export function prefixUpperBound(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const upper = prefix.slice(0, end);
  upper[end - 1]++;
  return upper;
}

const q = (s: string) => JSON.stringify(s);
const bytesOf = (s: string) => encoder.encode(s);

// Size of a Get response with the largest possible version (int8).
function getResponseBytes(key: string, valueBytes: number): number {
  return bytesOf(`{"key":${q(key)},"value":,"version":9223372036854775807}`).length + valueBytes;
}

/** `{"key","version"}` */
export function putResponse(key: string, version: bigint): Uint8Array {
  return bytesOf(`{"key":${q(key)},"version":${version}}`);
}

/** `{"key","value","version"}`; a missing key is `"value": null, "version": 0`. */
export function getResponse(
  key: string,
  found: { value: Uint8Array; version: bigint } | undefined,
): Uint8Array {
  if (!found) return bytesOf(`{"key":${q(key)},"value":null,"version":0}`);
  const head = bytesOf(`{"key":${q(key)},"value":`);
  const tail = bytesOf(`,"version":${found.version}}`);
  const out = new Uint8Array(head.length + found.value.length + tail.length);
  out.set(head);
  out.set(found.value, head.length);
  out.set(tail, head.length + found.value.length);
  return out;
}

/** `{"key","deleted"}` */
export function deleteResponse(key: string, deleted: boolean): Uint8Array {
  return bytesOf(`{"key":${q(key)},"deleted":${deleted}}`);
}

/**
 * `{"items":[{"key","version"}…],"next"}` from up to `limit + 1` rows in key
 * order. `next` is the last key returned when more follow (the row beyond
 * the limit exists, or the page was cut short to fit one frame), else null.
 */
export function listResponse(
  rows: readonly { key: Uint8Array; version: bigint }[],
  limit: number,
): Uint8Array {
  const items: string[] = [];
  let size = bytesOf(`{"items":[],"next":null}`).length;
  let next: string | null = null;
  for (let i = 0; i < rows.length && i < limit; i++) {
    const key = decoder.decode(rows[i].key);
    const item = `{"key":${q(key)},"version":${rows[i].version}}`;
    const itemBytes = bytesOf(item).length;
    // Room for this item, its comma, and a `next` naming the last key kept.
    const grown = size + itemBytes + 1 + bytesOf(q(key)).length;
    if (grown > MAX_PAYLOAD_BYTES) {
      next = items.length > 0 ? decoder.decode(rows[i - 1].key) : null;
      break;
    }
    items.push(item);
    size += itemBytes + (items.length > 1 ? 1 : 0);
    if (i === limit - 1 && rows.length > limit) next = key;
  }
  return bytesOf(`{"items":[${items.join(",")}],"next":${next === null ? "null" : q(next)}}`);
}

/**
 * Start and end (exclusive) of the value of top-level member `name` in the
 * JSON object `text` (already known to be valid JSON). When the name repeats,
 * the last one wins, as in `JSON.parse`.
 */
export function memberSpan(text: string, name: string): [number, number] | undefined {
  let i = skipWs(text, 0);
  if (text[i] !== "{") return undefined;
  i = skipWs(text, i + 1);
  let found: [number, number] | undefined;
  while (text[i] !== "}") {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    i = skipWs(text, i + 1); // ':'
    const end = skipValue(text, i);
    if (key === name) found = [i, end];
    i = skipWs(text, end);
    if (text[i] === ",") i = skipWs(text, i + 1);
  }
  return found;
}

function skipWs(t: string, i: number): number {
  while (i < t.length && (t[i] === " " || t[i] === "\t" || t[i] === "\n" || t[i] === "\r")) i++;
  return i;
}

function skipString(t: string, i: number): number {
  // t[i] is '"'
  for (i++; i < t.length; i++) {
    if (t[i] === "\\") i++;
    else if (t[i] === '"') return i + 1;
  }
  return i;
}

function skipValue(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return skipString(t, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (; i < t.length; i++) {
      const d = t[i];
      if (d === '"') i = skipString(t, i) - 1;
      else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return i;
  }
  // number, true, false, null
  while (i < t.length && !",}] \t\n\r".includes(t[i])) i++;
  return i;
}
