/**
 * The client's I/O loop. A client carries one session, so it reads and writes
 * its socket directly (no per-chunk stream machinery): each read is decoded,
 * opened and handed over in one synchronous step when the crypto backend is
 * synchronous, and everything sent in one turn of the event loop leaves as
 * one sealed, coalesced write. The server, which multiplexes thousands of
 * sessions, runs the Web Streams pipeline instead; both share the pure
 * pieces (FrameDecoder, openFrames, sealItems).
 */

import { LimitError } from "../errors.ts";
import { concat, type Socket, SocketReader } from "../util/mod.ts";
import {
  type ClientHandshake,
  FrameDecoder,
  type Message,
  openFrames,
  type Outbound,
  sealItems,
  type SessionKeys,
} from "../protocol/mod.ts";

/** What the loop reports to its session. */
export interface SocketIoHandlers {
  /** The ServerHello authenticated. */
  onEstablished(keys: SessionKeys): void;
  /** Messages of one read, in order. */
  onMessages(messages: Message[]): void;
}

/** See module doc. */
export class ClientSocketIo {
  readonly #conn: Socket;
  readonly #maxQueuedBytes: number;
  #keys: SessionKeys | undefined;
  #queue: Outbound[] = [];
  #queuedBytes = 0;
  #scheduled = false;
  #writing = false;
  #closing = false;
  #closed = false;
  #writeError: ((e: Error) => void) | undefined;

  constructor(conn: Socket, maxQueuedBytes: number) {
    this.#conn = conn;
    this.#maxQueuedBytes = maxQueuedBytes;
  }

  /** The session keys once established (destroyed by `close`). */
  get keys(): SessionKeys | undefined {
    return this.#keys;
  }

  /**
   * Send the ClientHello, then read until EOF. Resolves on a clean EOF;
   * rejects on a read, framing, authentication or write error.
   */
  run(hs: ClientHandshake, on: SocketIoHandlers): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#writeError = reject;
      this.send({ raw: hs.clientHello });
      this.#readLoop(hs, on).then(resolve, reject);
    });
  }

  async #readLoop(hs: ClientHandshake, on: SocketIoHandlers): Promise<void> {
    const decoder = new FrameDecoder({ expect: "client" });
    // One reused read buffer: frames are views into it, but each read is fully
    // decoded and opened (plaintexts are new buffers) before the next read.
    const reader = new SocketReader(this.#conn);
    for (;;) {
      const bytes = await reader.read();
      if (bytes === null || this.#closed) return;
      const frames = decoder.push(bytes);
      if (frames.length === 0) continue;
      let from = 0;
      if (!this.#keys) {
        this.#keys = await hs.finish(frames[0]);
        on.onEstablished(this.#keys);
        from = 1;
      }
      const r = openFrames(this.#keys.receiver, frames, from);
      const messages = r instanceof Promise ? await r : r;
      if (messages.length > 0) on.onMessages(messages);
    }
  }

  /**
   * Queue one item; it leaves with everything else sent in this turn.
   * @throws {LimitError} when more than the limit is queued (the server stopped reading).
   */
  send(item: Outbound): void {
    if (this.#closing) return;
    this.#queue.push(item);
    this.#queuedBytes += "raw" in item ? item.raw.length : item.payload.length + 64;
    if (this.#queuedBytes > this.#maxQueuedBytes) {
      throw new LimitError("LIMIT_EXCEEDED", "Send queue overflow: the server is not reading");
    }
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const items = this.#queue;
        this.#queue = [];
        const s = sealItems(this.#keys?.sender, items);
        const frames = s instanceof Promise ? await s : s;
        const buf = frames.length === 1 ? frames[0] : concat(...frames);
        for (let off = 0; off < buf.length;) {
          off += await this.#conn.write(off === 0 ? buf : buf.subarray(off));
        }
        for (const it of items) {
          this.#queuedBytes -= "raw" in it ? it.raw.length : it.payload.length + 64;
        }
      }
    } catch (e) {
      if (!this.#closed) this.#writeError?.(e as Error);
    } finally {
      this.#writing = false;
      if (this.#closing && this.#queue.length === 0) this.close();
    }
  }

  /** Stop accepting sends; close the socket once what is queued is written. */
  closeAfterFlush(): void {
    this.#closing = true;
    if (!this.#writing && !this.#scheduled) this.close();
  }

  /** Close the socket now and destroy the session keys. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#keys?.sender.destroy();
    this.#keys?.receiver.destroy();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
