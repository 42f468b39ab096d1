/**
 * Web Streams over a socket's `read`/`write`, sized for many mostly-idle
 * connections. (`Deno.Conn.readable` keeps a 64 KiB buffer in every pending
 * read; an idle session here holds a `minReadBytes` buffer, and the buffer
 * grows only while reads keep filling it.) The sink records when its current
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
  let size = min;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(size);
      const n = await socket.read(buf);
      if (n === null) {
        controller.close();
        return;
      }
      if (n === size) size = Math.min(max, size * 2);
      else if (n < size >> 2) size = Math.max(min, size >> 1);
      controller.enqueue(n === buf.length ? buf : buf.subarray(0, n));
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
