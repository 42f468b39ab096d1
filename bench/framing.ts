/**
 * The baseline's framing over TLS: SomnyToo's frame envelope without the
 * crypto, `0xAB 0xCD || u16 length || type || u32 request_id || payload`
 * (`length` counts the bytes after itself). Plus the two I/O helpers both
 * TLS ends share: {@linkcode FrameReader} (every complete frame of one read)
 * and {@linkcode CoalescingWriter} (everything written in one turn of the
 * event loop goes out in one write, as SomnyToo's Outbox does).
 *
 * @module
 */

/** magic (2) + length (2) + type (1) + request id (4). */
export const PLAIN_HEADER_BYTES = 9;
const MAGIC_0 = 0xab;
const MAGIC_1 = 0xcd;
/** Largest frame: 4 bytes + a u16 length. */
export const MAX_PLAIN_FRAME = 4 + 0xffff;
/** Largest payload. */
export const MAX_PLAIN_PAYLOAD = MAX_PLAIN_FRAME - PLAIN_HEADER_BYTES;

/** A decoded frame; `payload` is a view valid until the next read. */
export interface PlainFrame {
  readonly type: number;
  readonly requestId: number;
  readonly payload: Uint8Array;
}

/** Encode one frame into a new buffer. */
export function encodePlainFrame(type: number, requestId: number, payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_PLAIN_PAYLOAD) throw new RangeError("payload too large");
  const out = new Uint8Array(PLAIN_HEADER_BYTES + payload.length);
  const length = out.length - 4;
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = length >>> 8;
  out[3] = length & 0xff;
  out[4] = type;
  out[5] = requestId >>> 24;
  out[6] = (requestId >>> 16) & 0xff;
  out[7] = (requestId >>> 8) & 0xff;
  out[8] = requestId & 0xff;
  out.set(payload, PLAIN_HEADER_BYTES);
  return out;
}

/** First read buffer size; it grows (to twice the largest frame seen) only when needed. */
const INITIAL_READ_BUFFER = 32 * 1024;

/** Reads frames from a connection into one reused buffer. */
export class FrameReader {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(INITIAL_READ_BUFFER);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Every complete frame of the next read (at least one), or null at EOF.
   * The frames' payloads are views into the buffer: use them before the next call.
   * @throws {Error} on a malformed frame.
   */
  async next(): Promise<PlainFrame[] | null> {
    for (;;) {
      this.#makeRoom();
      const n = await this.#conn.read(this.#buf.subarray(this.#end));
      if (n === null) return null;
      this.#end += n;
      const frames = this.#parse();
      if (frames.length > 0) return frames;
    }
  }

  // Move the partial frame to the front; grow if it cannot fit.
  #makeRoom(): void {
    const held = this.#end - this.#start;
    const buf = this.#buf;
    const total = held >= 4 ? 4 + ((buf[this.#start + 2] << 8) | buf[this.#start + 3]) : 0;
    if (total > buf.length) {
      const bigger = new Uint8Array(2 * total);
      bigger.set(buf.subarray(this.#start, this.#end));
      this.#buf = bigger;
    } else if (this.#start > 0) {
      buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = held;
  }

  #parse(): PlainFrame[] {
    const buf = this.#buf;
    const frames: PlainFrame[] = [];
    let p = this.#start;
    while (this.#end - p >= PLAIN_HEADER_BYTES) {
      if (buf[p] !== MAGIC_0 || buf[p + 1] !== MAGIC_1) throw new Error("bad magic");
      const total = 4 + ((buf[p + 2] << 8) | buf[p + 3]);
      if (total < PLAIN_HEADER_BYTES) throw new Error("bad length");
      if (this.#end - p < total) break;
      frames.push({
        type: buf[p + 4],
        requestId: ((buf[p + 5] << 24) | (buf[p + 6] << 16) | (buf[p + 7] << 8) | buf[p + 8]) >>> 0,
        payload: buf.subarray(p + PLAIN_HEADER_BYTES, p + total),
      });
      p += total;
    }
    this.#start = p;
    return frames;
  }
}

/** Writes every buffer queued in one turn with one `write` (in order, all bytes). */
export class CoalescingWriter {
  readonly #conn: Deno.Conn;
  #queue: Uint8Array[] = [];
  #busy = false;
  /** The first write error, if any (the connection is then unusable). */
  error: unknown;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Queue `bytes`; the caller must not modify them afterwards. */
  write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    if (!this.#busy) {
      this.#busy = true;
      queueMicrotask(() => this.#drain());
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const q = this.#queue;
        this.#queue = [];
        let out = q[0];
        if (q.length > 1) {
          let n = 0;
          for (const b of q) n += b.length;
          out = new Uint8Array(n);
          let o = 0;
          for (const b of q) {
            out.set(b, o);
            o += b.length;
          }
        }
        for (let o = 0; o < out.length;) o += await this.#conn.write(out.subarray(o));
      }
    } catch (e) {
      this.error ??= e;
      this.#queue = [];
    } finally {
      this.#busy = false;
    }
  }
}
