/**
 * A client session that survives its connection: when the server sends
 * GoAway or the connection drops, the next request opens a new connection,
 * with exponential backoff and full jitter between failed attempts.
 * Requests that were in flight on a dying connection are not replayed (they
 * may have been processed), except those the server refused unprocessed
 * (Error 6, shutting down).
 */

import { SessionError } from "../errors.ts";
import { type Clock, systemClock } from "../util/mod.ts";
import type {
  ClientConnection,
  ClientSession,
  RequestOptions,
  SessionDetails,
  SessionOptions,
} from "./client.ts";
import { type CloseInfo, NotSentError, RemoteError } from "./errors.ts";

/** Backoff settings. */
export interface ReconnectOptions {
  /** First delay. @default 100 */
  readonly baseDelayMs?: number;
  /** Largest delay. @default 10 000 */
  readonly maxDelayMs?: number;
  /** Consecutive failed attempts before giving up. @default 10 */
  readonly maxAttempts?: number;
  /** Random source in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
}

/** Opens one connection (injected so tests can count attempts). */
export type Opener<O> = (options: O) => Promise<ClientConnection>;

/** See module doc. */
export class ReconnectingClient<O extends SessionOptions> implements ClientSession {
  readonly #options: O;
  readonly #r: Required<ReconnectOptions>;
  readonly #open: Opener<O>;
  readonly #clock: Clock;
  #current: ClientConnection | undefined;
  #connecting: Promise<ClientConnection> | undefined;
  #closed = false;
  #resolveClosed!: (i: CloseInfo) => void;
  /** Settles after close() or when reconnecting gives up. */
  readonly closed: Promise<CloseInfo>;
  /** Resolves when the first connection is up. */
  readonly ready: Promise<void>;
  /** Connections opened so far. */
  connections = 0;

  constructor(options: O, reconnect: ReconnectOptions, open: Opener<O>) {
    this.#options = options;
    this.#open = open;
    this.#clock = options.clock ?? systemClock;
    this.#r = {
      baseDelayMs: reconnect.baseDelayMs ?? 100,
      maxDelayMs: reconnect.maxDelayMs ?? 10_000,
      maxAttempts: reconnect.maxAttempts ?? 10,
      random: reconnect.random ?? Math.random,
    };
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.ready = this.#session().then(() => {});
  }

  get details(): SessionDetails | undefined {
    return this.#current?.details;
  }

  async request(type: number, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array> {
    for (let attempt = 0;; attempt++) {
      const s = await this.#session();
      try {
        return await s.request(type, payload, options);
      } catch (e) {
        // Safe to resend: it never left, or the server refused it unprocessed.
        const retryable = e instanceof NotSentError ||
          (e instanceof RemoteError && e.wireCode === 6);
        if (retryable && attempt < 3 && !this.#closed) continue;
        throw e;
      }
    }
  }

  send(type: number, payload: Uint8Array): number {
    if (!this.#current?.isOpen) {
      throw new SessionError("CONNECTION_CLOSED", "Not connected; use request() to reconnect");
    }
    return this.#current.send(type, payload);
  }

  async ping(payload?: Uint8Array, options?: RequestOptions): Promise<number> {
    return await (await this.#session()).ping(payload, options);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#current?.close();
    this.#resolveClosed({ cause: "local", message: "closed by client" });
  }

  #session(): Promise<ClientConnection> {
    if (this.#closed) {
      return Promise.reject(new SessionError("CONNECTION_CLOSED", "Client is closed"));
    }
    if (this.#current?.isOpen) return Promise.resolve(this.#current);
    this.#connecting ??= this.#reconnect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #reconnect(): Promise<ClientConnection> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.#r.maxAttempts; attempt++) {
      if (attempt > 0) {
        const cap = Math.min(this.#r.maxDelayMs, this.#r.baseDelayMs * 2 ** (attempt - 1));
        await new Promise<void>((r) => this.#clock.setTimeout(r, this.#r.random() * cap));
      }
      if (this.#closed) break;
      try {
        const s = await this.#open(this.#options);
        this.connections++;
        this.#current = s;
        return s;
      } catch (e) {
        lastError = e;
      }
    }
    const info: CloseInfo = {
      cause: "error",
      message: `Reconnect failed after ${this.#r.maxAttempts} attempts`,
    };
    this.#closed = true;
    this.#resolveClosed(info);
    throw new SessionError("CONNECTION_CLOSED", info.message, { cause: lastError });
  }
}
