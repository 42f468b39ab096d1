/**
 * A client {@linkcode Socket} over `node:net`, for what `Deno.connect`
 * cannot do: bind the local (source) address. Used by `connect()` when
 * `localAddress` is set, e.g. a multi-homed host choosing its interface, or
 * tests that speak from several loopback addresses of 127.0.0.0/8.
 *
 * Reads are pulled: received chunks wait in a queue bounded by
 * `HIGH_WATER_BYTES` (the socket is paused above it and resumed once the
 * reader has drained it), so a slow reader cannot make this buffer grow
 * without bound.
 *
 * @module
 */

import net from "node:net";
import { SessionError } from "../errors.ts";
import type { Socket } from "../util/mod.ts";

/** Bytes queued before the socket is paused. */
const HIGH_WATER_BYTES = 256 * 1024;

/** Where to connect from and to. */
export interface NodeSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Local address to bind before connecting (e.g. "127.0.0.2"). */
  readonly localAddress: string;
}

/** Connect with `node:net`, TCP_NODELAY on, bound to `localAddress`. */
export function connectNodeSocket(options: NodeSocketOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
      noDelay: true,
    });
    const onError = (e: Error) => {
      s.destroy();
      reject(e);
    };
    s.once("error", onError);
    s.once("connect", () => {
      s.off("error", onError);
      resolve(new NodeSocket(s));
    });
  });
}

class NodeSocket implements Socket {
  readonly #s: net.Socket;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(s: net.Socket) {
    this.#s = s;
    s.setNoDelay(true);
    s.on("data", (chunk: Uint8Array) => {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued > HIGH_WATER_BYTES) s.pause();
      this.#notify();
    });
    s.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    s.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    s.on("error", (e: Error) => {
      this.#error ??= e;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#queue.length === 0) {
      if (this.#error) {
        throw new SessionError("CONNECTION_CLOSED", this.#error.message, { cause: this.#error });
      }
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const head = this.#queue[0];
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n === head.length) this.#queue.shift();
    else this.#queue[0] = head.subarray(n);
    this.#queued -= n;
    if (this.#queued <= HIGH_WATER_BYTES / 2 && this.#s.isPaused()) this.#s.resume();
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#error || this.#s.destroyed) {
      return Promise.reject(new SessionError("CONNECTION_CLOSED", "Socket is closed"));
    }
    return new Promise((resolve, reject) => {
      // node:net may keep the buffer until it is written: hand it a copy.
      this.#s.write(p.slice(), (e?: Error | null) => {
        if (e) reject(new SessionError("CONNECTION_CLOSED", e.message, { cause: e }));
        else resolve(p.length);
      });
    });
  }

  close(): void {
    this.#ended = true;
    this.#s.destroy();
    this.#notify();
  }
}
