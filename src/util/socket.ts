/**
 * Reading and writing a socket, sized for many mostly-idle connections.
 *
 * `Deno.Conn.readable` allocates a 64 KiB buffer for every read; a
 * {@linkcode SocketReader} reuses one buffer per connection that starts at
 * `minReadBytes`, grows only while reads keep filling it and shrinks when they
 * do not. A {@linkcode SocketSink} records when its current write started, so
 * an owner can spot a peer that stopped reading without a timer per write.
 */

/** What the reader and sink need from a socket (`Deno.Conn` fits). */
export interface Socket {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Options for {@linkcode SocketReader}. */
export interface SocketReaderOptions {
  /** Buffer for a read when traffic is light. @default 4096 */
  readonly minReadBytes?: number;
  /** Largest read buffer, reached while reads keep filling the buffer. @default 65536 */
  readonly maxReadBytes?: number;
}

/** Reads a socket into one reused, adaptively sized buffer. */
export class SocketReader {
  readonly #socket: Socket;
  readonly #min: number;
  readonly #max: number;
  #buf: Uint8Array;

  constructor(socket: Socket, options: SocketReaderOptions = {}) {
    this.#socket = socket;
    this.#min = options.minReadBytes ?? 4096;
    this.#max = options.maxReadBytes ?? 65536;
    this.#buf = new Uint8Array(this.#min);
  }

  /**
   * The next bytes as a view into the reused buffer, valid only until the
   * next call (copy what must outlive it), or `null` at EOF.
   */
  async read(): Promise<Uint8Array | null> {
    const buf = this.#buf;
    const n = await this.#socket.read(buf);
    if (n === null) return null;
    // Grow while reads fill the buffer; shrink when they use under an eighth.
    if (n === buf.length && buf.length < this.#max) this.#buf = new Uint8Array(buf.length * 2);
    else if (n < buf.length >> 3 && buf.length > this.#min) {
      this.#buf = new Uint8Array(buf.length >> 1);
    }
    return buf.subarray(0, n);
  }
}

/** Writes whole chunks to a socket and tells how long the current write has waited. */
export class SocketSink {
  readonly #socket: Socket;
  readonly #now: () => number;
  #since = -1;

  /** @param now monotonic milliseconds (inject a clock's `monotonic`) */
  constructor(socket: Socket, now: () => number) {
    this.#socket = socket;
    this.#now = now;
  }

  /** Write all of `chunk`. Writes must not overlap: await each one. */
  async write(chunk: Uint8Array): Promise<void> {
    this.#since = this.#now();
    try {
      let off = 0;
      while (off < chunk.length) {
        off += await this.#socket.write(off === 0 ? chunk : chunk.subarray(off));
      }
    } finally {
      this.#since = -1;
    }
  }

  /**
   * A new WritableStream over {@linkcode write}. Closing it leaves the socket
   * open, so an owner can end one stream and start another on the same socket.
   * @param onWritten called after each chunk has been fully written
   */
  writable(onWritten?: () => void): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await this.write(chunk);
        onWritten?.();
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
