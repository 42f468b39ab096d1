/** Payload codecs of the control messages (protocol-v1 §4). */

import { decodeUtf8Strict, utf8 } from "../util/mod.ts";

/** A decoded Error payload. */
export interface ErrorPayload {
  readonly code: number;
  readonly retryAfterMs: number;
  readonly message: string;
}

/** A decoded GoAway payload. */
export interface GoAwayPayload {
  readonly reason: number;
  readonly message: string;
}

// Keep control messages short: they are diagnostics, not data.
const MAX_MESSAGE_BYTES = 1024;

function clip(message: string): Uint8Array {
  const b = utf8(message);
  if (b.length <= MAX_MESSAGE_BYTES) return b;
  // Cut on a character boundary.
  let end = MAX_MESSAGE_BYTES;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/** `code (u16) || retry_after_ms (u32) || UTF-8 message`. */
export function encodeErrorPayload(
  code: number,
  retryAfterMs: number,
  message: string,
): Uint8Array {
  const m = clip(message);
  const out = new Uint8Array(6 + m.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, code);
  dv.setUint32(2, Math.max(0, Math.min(0xffff_ffff, Math.round(retryAfterMs))));
  out.set(m, 6);
  return out;
}

/** Decode an Error payload; undefined when it is malformed. */
export function decodeErrorPayload(p: Uint8Array): ErrorPayload | undefined {
  if (p.length < 6) return undefined;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const message = decodeUtf8Strict(p.subarray(6));
  if (message === undefined) return undefined;
  return { code: dv.getUint16(0), retryAfterMs: dv.getUint32(2), message };
}

/** `reason (u16) || UTF-8 message`. */
export function encodeGoAwayPayload(reason: number, message: string): Uint8Array {
  const m = clip(message);
  const out = new Uint8Array(2 + m.length);
  out[0] = reason >>> 8;
  out[1] = reason & 0xff;
  out.set(m, 2);
  return out;
}

/** Decode a GoAway payload; undefined when it is malformed. */
export function decodeGoAwayPayload(p: Uint8Array): GoAwayPayload | undefined {
  if (p.length < 2) return undefined;
  const message = decodeUtf8Strict(p.subarray(2));
  if (message === undefined) return undefined;
  return { reason: (p[0] << 8) | p[1], message };
}

/** Heartbeat payload: `timestamp_ms (u64)`. */
export function encodeHeartbeatPayload(timestampMs: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, Math.trunc(timestampMs))));
  return out;
}
