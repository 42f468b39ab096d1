/**
 * Web Streams over a socket's `read`/`write`, sized for many mostly-idle
 * connections. (`Deno.Conn.readable` allocates a 64 KiB buffer for every
 * read; here a connection reuses one buffer that starts at `minReadBytes`,
 * grows only while reads keep filling it and shrinks when they do not.) The sink records when its current
 * write started, so an owner can spot a peer that stopped reading without a
 * timer per write.
 */

/** What the streams need from a socket (`Deno.Conn` fits). */
export interface Socket {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Options for {@linkcode socketReadable}. */
export interface SocketReadableOptions {
  /** Buffer for a read when traffic is light. @default 4096 */
  readonly minReadBytes?: number;
  /** Largest read buffer, reached while reads keep filling the buffer. @default 65536 */
  readonly maxReadBytes?: number;
}

/**
 * A byte stream reading `socket`. It reads only when its consumer asks
 * (highWaterMark 0), so a stalled pipeline stops reading the socket and TCP
 * flow control pushes back on the peer. EOF closes the stream; a read error
 * errors it.
 */
export function socketReadable(
  socket: Socket,
  options: SocketReadableOptions = {},
): ReadableStream<Uint8Array> {
  const min = options.minReadBytes ?? 4096;
  const max = options.maxReadBytes ?? 65536;
  // One buffer per connection, reused for every read; each chunk handed on is
  // an exact-size copy. Allocating n bytes (plus a memcpy) per read costs far
  // less than a fresh max-size buffer per read, which the GC must then reclaim.
  let buf = new Uint8Array(min);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const n = await socket.read(buf);
      if (n === null) {
        controller.close();
        return;
      }
      controller.enqueue(buf.slice(0, n));
      if (n === buf.length && buf.length < max) buf = new Uint8Array(buf.length * 2);
      else if (n < buf.length >> 3 && buf.length > min) buf = new Uint8Array(buf.length >> 1);
    },
  }, { highWaterMark: 0 });
}

/** A sink that writes every chunk fully to a socket and tells how long the current write has waited. */
export class SocketSink {
  /** The stream to pipe into. */
  readonly writable: WritableStream<Uint8Array>;
  #since = -1;

  /** @param now monotonic milliseconds (inject a clock's `monotonic`) */
  constructor(socket: Socket, now: () => number) {
    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        this.#since = now();
        let off = 0;
        while (off < chunk.length) {
          off += await socket.write(off === 0 ? chunk : chunk.subarray(off));
        }
        this.#since = -1;
      },
    });
  }

  /**
   * Milliseconds the current write has been waiting for the socket, or 0
   * when no write is pending.
   */
  stalledFor(now: number): number {
    return this.#since < 0 ? 0 : now - this.#since;
  }
}
