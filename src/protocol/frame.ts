/**
 * Frame envelope codec (protocol-v1 §1): `0xAB 0xCD || u16 length || type || body`.
 *
 * {@linkcode FrameDecoder} is incremental: feed it reads of any size; it
 * returns every complete frame. Each frame is checked from its first 5 bytes
 * (magic, length, type, and the body size the connection's state allows)
 * before a single byte of body is buffered, so a hostile length never costs
 * an allocation.
 */

import { ProtocolError } from "../errors.ts";
import {
  CLIENT_HELLO_MIN_BODY,
  HEADER_BYTES,
  HELLO_MAX_BODY,
  MAGIC_0,
  MAGIC_1,
  SERVER_HELLO_MIN_BODY,
  TRANSPORT_MAX_BODY,
  TRANSPORT_MIN_BODY,
} from "./constants.ts";
import { isTransportType, PacketType } from "./packet.ts";

/** One decoded frame. `header`, `body` and `bytes` are views into the same memory. */
export interface Frame {
  /** Frame type code. */
  readonly type: number;
  /** The 5 header bytes (the AAD of transport frames). */
  readonly header: Uint8Array;
  /** The body (length − 1 bytes). */
  readonly body: Uint8Array;
  /** The whole frame: header || body. */
  readonly bytes: Uint8Array;
}

/** Which side of the connection a decoder serves. */
export type Role = "server" | "client";

/** Options for {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The side that reads: a server first expects a ClientHello, a client a
   * ServerHello. With `"transport"` the decoder starts after the handshake.
   */
  readonly expect: Role | "transport";
}

/** Write a frame header for `type` with a body of `bodyLength` bytes at `offset`. */
export function writeHeader(
  out: Uint8Array,
  offset: number,
  type: number,
  bodyLength: number,
): void {
  const length = bodyLength + 1;
  if (length > 0xffff) {
    throw new RangeError(`Cannot encode frame: body of ${bodyLength} bytes exceeds 65534`);
  }
  out[offset] = MAGIC_0;
  out[offset + 1] = MAGIC_1;
  out[offset + 2] = length >>> 8;
  out[offset + 3] = length & 0xff;
  out[offset + 4] = type;
}

/** Encode one frame into a new buffer. */
export function encodeFrame(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(out, 0, type, body.length);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Body size bounds for `type` in the given phase, or undefined if the type is not allowed. */
function bodyBounds(
  phase: Role | "transport",
  type: number,
): readonly [number, number] | undefined {
  if (phase === "server") {
    return type === PacketType.ClientHello ? [CLIENT_HELLO_MIN_BODY, HELLO_MAX_BODY] : undefined;
  }
  if (phase === "client") {
    return type === PacketType.ServerHello ? [SERVER_HELLO_MIN_BODY, HELLO_MAX_BODY] : undefined;
  }
  return isTransportType(type) ? [TRANSPORT_MIN_BODY, TRANSPORT_MAX_BODY] : undefined;
}

/**
 * Incremental frame decoder with contract limits applied before allocation.
 * After the first (hello) frame it switches to the transport rules by itself.
 * Once it has thrown, it stays failed: the connection must be closed.
 */
export class FrameDecoder {
  #phase: Role | "transport";
  #failed = false;
  // A partial frame: its header is known (and valid), `#partial` has exact size.
  #partial: Uint8Array | undefined;
  #partialFill = 0;
  // Fewer than HEADER_BYTES bytes of the next frame.
  #head = new Uint8Array(HEADER_BYTES);
  #headFill = 0;

  constructor(options: FrameDecoderOptions) {
    this.#phase = options.expect;
  }

  /** Bytes held for an incomplete frame (bounded by one frame). */
  get bufferedBytes(): number {
    return this.#partial ? this.#partialFill : this.#headFill;
  }

  /**
   * Decode every complete frame in `chunk`.
   * @throws {ProtocolError} on a wrong magic, zero length, or a type or body
   * size not allowed in the current phase; the decoder is then failed.
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw new ProtocolError("TRANSPORT_STATE", "Cannot decode: decoder failed");
    const frames: Frame[] = [];
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.#partial) {
        const need = this.#partial.length - this.#partialFill;
        const take = Math.min(need, n - pos);
        this.#partial.set(chunk.subarray(pos, pos + take), this.#partialFill);
        this.#partialFill += take;
        pos += take;
        if (this.#partialFill === this.#partial.length) {
          frames.push(this.#frame(this.#partial));
          this.#partial = undefined;
          this.#partialFill = 0;
        }
        continue;
      }
      if (this.#headFill > 0 || n - pos < HEADER_BYTES) {
        // Assemble a header that straddles reads; check each byte as it arrives.
        const take = Math.min(HEADER_BYTES - this.#headFill, n - pos);
        this.#head.set(chunk.subarray(pos, pos + take), this.#headFill);
        this.#headFill += take;
        pos += take;
        this.#checkPrefix(this.#head, 0, this.#headFill);
        if (this.#headFill < HEADER_BYTES) continue;
        const total = this.#checkHeader(this.#head, 0);
        this.#headFill = 0;
        const buf = new Uint8Array(total);
        buf.set(this.#head);
        if (total === HEADER_BYTES) {
          frames.push(this.#frame(buf));
        } else {
          this.#partial = buf;
          this.#partialFill = HEADER_BYTES;
        }
        continue;
      }
      const total = this.#checkHeader(chunk, pos);
      if (n - pos >= total) {
        // Whole frame in this read: zero-copy view.
        frames.push(this.#frame(chunk.subarray(pos, pos + total)));
        pos += total;
      } else {
        const buf = new Uint8Array(total);
        const take = n - pos;
        buf.set(chunk.subarray(pos, n));
        this.#partial = buf;
        this.#partialFill = take;
        pos = n;
      }
    }
    return frames;
  }

  #frame(bytes: Uint8Array): Frame {
    const type = bytes[4];
    if (this.#phase !== "transport") this.#phase = "transport";
    return {
      type,
      header: bytes.subarray(0, HEADER_BYTES),
      body: bytes.subarray(HEADER_BYTES),
      bytes,
    };
  }

  #fail(
    code: "FRAME_BAD_MAGIC" | "FRAME_BAD_LENGTH" | "FRAME_BAD_TYPE" | "FRAME_BAD_BODY_SIZE",
    msg: string,
  ): never {
    this.#failed = true;
    this.#partial = undefined;
    throw new ProtocolError(code, `Cannot decode frame: ${msg}`);
  }

  // Checks what is known of a header with only `fill` bytes present.
  #checkPrefix(b: Uint8Array, off: number, fill: number): void {
    if (fill >= 1 && b[off] !== MAGIC_0) this.#fail("FRAME_BAD_MAGIC", "wrong magic");
    if (fill >= 2 && b[off + 1] !== MAGIC_1) this.#fail("FRAME_BAD_MAGIC", "wrong magic");
    if (fill >= 4 && b[off + 2] === 0 && b[off + 3] === 0) {
      this.#fail("FRAME_BAD_LENGTH", "zero length");
    }
  }

  // Validates a complete header at b[off..off+5]; returns the whole frame size.
  #checkHeader(b: Uint8Array, off: number): number {
    this.#checkPrefix(b, off, HEADER_BYTES);
    const length = (b[off + 2] << 8) | b[off + 3];
    const type = b[off + 4];
    const bounds = bodyBounds(this.#phase, type);
    if (!bounds) this.#fail("FRAME_BAD_TYPE", `type 0x${type.toString(16)} not allowed here`);
    const body = length - 1;
    if (body < bounds[0] || body > bounds[1]) {
      this.#fail("FRAME_BAD_BODY_SIZE", `body of ${body} bytes outside ${bounds[0]}–${bounds[1]}`);
    }
    return HEADER_BYTES + body;
  }
}
