/**
 * The protocol v1 client: one TCP connection running the shared Web Streams
 * pipeline, with request multiplexing by id, heartbeats, GoAway handling and
 * retry_after_ms.
 */

import { LimitError, ProtocolError, SessionError } from "../errors.ts";
import { type Clock, type Socket, systemClock, toHex } from "../util/mod.ts";
import {
  classifyInbound,
  type CryptoBackend,
  decodeErrorPayload,
  decodeGoAwayPayload,
  DEFAULT_GOAWAY_GRACE_MS,
  encodeGoAwayPayload,
  encodeHeartbeatPayload,
  GoAwayReason,
  LivenessTimer,
  MAX_PAYLOAD_BYTES,
  type Message,
  type Outbound,
  PacketType,
  RequestIdAllocator,
  type SessionKeys,
  startClientHandshake,
  webCryptoBackend,
} from "../protocol/mod.ts";
import { type CloseInfo, NotSentError, RemoteError } from "./errors.ts";
import { ClientSocketIo } from "./socket_io.ts";

/** Options shared by {@linkcode connect} and {@linkcode ClientConnection}. */
export interface SessionOptions {
  /** The pre-shared key (32 bytes). */
  readonly psk: Uint8Array;
  /** Which of the server's keys; "" (default) names its default key. */
  readonly pskId?: string;
  /** @default webCryptoBackend */
  readonly backend?: CryptoBackend;
  /** @default systemClock */
  readonly clock?: Clock;
  /** TCP connect + handshake deadline. @default 10 000 */
  readonly handshakeTimeoutMs?: number;
  /** Default per-request timeout. @default 30 000 */
  readonly requestTimeoutMs?: number;
  /** Requests outstanding at once; more are refused with TOO_MANY_IN_FLIGHT. @default 1024 */
  readonly maxInFlight?: number;
  /** Automatic retries of Error 3/5 after the server's retry_after_ms. @default 2 */
  readonly retries?: number;
  /** Bytes queued for the socket before the session is dropped. @default 4 MiB */
  readonly maxSendQueueBytes?: number;
  /** Time allowed for in-flight requests after GoAway / close(). @default 5 000 */
  readonly goAwayGraceMs?: number;
  /**
   * Frames that are not replies to a pending request: replies to `send()`,
   * connection-level Errors (request id 0) and any unsolicited message.
   */
  readonly onMessage?: (message: Message) => void;
  /** Called when the server sends GoAway. */
  readonly onGoAway?: (reason: number, message: string) => void;
  /** Frames after which this side rekeys. @default 2^24 */
  readonly rekeyAfterFrames?: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** @default the session's requestTimeoutMs */
  readonly timeoutMs?: number;
  /** Cancels the wait (the server may still process the request). */
  readonly signal?: AbortSignal;
  /** @default the session's retries */
  readonly retries?: number;
}

/** What a session learned in the handshake. */
export interface SessionDetails {
  readonly sessionId: string;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  /** Hex Noise handshake hash (channel binding). */
  readonly handshakeHash: string;
}

/** The client API, for a single connection or a reconnecting client. */
export interface ClientSession {
  /** Send a request and resolve with the reply payload. Rejects with {@linkcode RemoteError} for an Error reply. */
  request(type: number, payload: Uint8Array, options?: RequestOptions): Promise<Uint8Array>;
  /** Fire-and-forget request: the reply, if any, goes to `onMessage`. Returns the request id. */
  send(type: number, payload: Uint8Array): number;
  /** Ping the server; resolves with the round-trip time in ms. */
  ping(payload?: Uint8Array, options?: RequestOptions): Promise<number>;
  /** Finish in-flight requests, send GoAway, close. */
  close(): Promise<void>;
  /** Settles when the session has ended for good. */
  readonly closed: Promise<CloseInfo>;
  /** Handshake details of the current connection. */
  readonly details: SessionDetails | undefined;
}

interface Pending {
  readonly type: number;
  readonly resolve: (m: Message) => void;
  readonly reject: (e: Error) => void;
  /** Monotonic ms after which the request fails with REQUEST_TIMEOUT. */
  readonly deadline: number;
  readonly timeoutMs: number;
}

type State = "handshake" | "open" | "draining" | "closed";

/** One connection to a server. Use {@linkcode connect} to create it. */
export class ClientConnection implements ClientSession {
  readonly #o: SessionOptions;
  readonly #clock: Clock;
  readonly #io: ClientSocketIo;
  readonly #liveness: LivenessTimer;
  readonly #pending = new Map<number, Pending>();
  readonly #ids = new RequestIdAllocator("client");
  #state: State = "handshake";
  #details: SessionDetails | undefined;
  #closeInfo: CloseInfo | undefined;
  #resolveClosed!: (i: CloseInfo) => void;
  #readyResolve!: () => void;
  #readyReject!: (e: Error) => void;
  #graceTimer: number | undefined;
  #deadlineTimer: number | undefined;
  #deadlineAt = Infinity;
  #handshakeTimer: number | undefined;
  /** Resolves when the handshake has finished; rejects if it fails. */
  readonly ready: Promise<void>;
  readonly closed: Promise<CloseInfo>;

  constructor(conn: Socket, options: SessionOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.ready = new Promise((res, rej) => {
      this.#readyResolve = res;
      this.#readyReject = rej;
    });
    this.ready.catch(() => {});
    this.closed = new Promise((res) => (this.#resolveClosed = res));
    this.#io = new ClientSocketIo(conn, options.maxSendQueueBytes ?? 4 * 1024 * 1024);
    this.#liveness = new LivenessTimer(this.#clock, {
      heartbeatIntervalMs: 0,
      idleTimeoutMs: 0,
      onHeartbeatDue: () =>
        this.#send({
          type: PacketType.Heartbeat,
          requestId: 0,
          payload: encodeHeartbeatPayload(this.#clock.now()),
        }),
      onIdle: () => this.#end({ cause: "idle", message: "server silent past idle timeout" }),
    });
    this.#handshakeTimer = this.#clock.setTimeout(
      () => this.#fail(new ProtocolError("HANDSHAKE_FAILED", "Handshake timed out")),
      options.handshakeTimeoutMs ?? 10_000,
    );
    this.#run();
  }

  /** Handshake details, once established. */
  get details(): SessionDetails | undefined {
    return this.#details;
  }

  /** Requests awaiting replies. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** True while new requests are accepted. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  async #run(): Promise<void> {
    const backend = this.#o.backend ?? webCryptoBackend;
    let hs;
    try {
      hs = await startClientHandshake(backend, {
        psk: this.#o.psk,
        pskId: this.#o.pskId,
        timestampMs: this.#clock.now(),
        rekeyAfterFrames: this.#o.rekeyAfterFrames,
      });
    } catch (e) {
      this.#fail(e as Error);
      return;
    }
    try {
      await this.#io.run(hs, {
        onEstablished: (keys) => this.#onEstablished(keys),
        onMessages: (messages) => this.#onMessages(messages),
      });
      this.#end({ cause: "eof", message: "connection closed by server" });
    } catch (e) {
      if (this.#state === "handshake") {
        this.#fail(
          e instanceof SessionError || e instanceof ProtocolError ? e : new SessionError(
            "CONNECTION_CLOSED",
            "Connection closed during the handshake (wrong key, clock skew or refused)",
            { cause: e },
          ),
        );
      } else {
        this.#end({ cause: "error", message: (e as Error)?.message ?? String(e) });
      }
    } finally {
      this.#io.close();
    }
  }

  #onMessages(messages: Message[]): void {
    this.#liveness.received();
    for (const m of messages) {
      if (this.#state === "closed") return;
      switch (classifyInbound("client", m)) {
        case "request": // a server Ping
          this.#send({ type: PacketType.Pong, requestId: m.requestId, payload: m.payload });
          break;
        case "reply": {
          const p = this.#pending.get(m.requestId);
          if (!p) {
            this.#o.onMessage?.(m);
            break;
          }
          this.#pending.delete(m.requestId);
          if (m.type === PacketType.Error) {
            const e = decodeErrorPayload(m.payload);
            p.reject(
              new RemoteError(e?.code ?? 0, e?.retryAfterMs ?? 0, e?.message ?? "malformed"),
            );
          } else if (
            m.type !== p.type && !(p.type === PacketType.Ping && m.type === PacketType.Pong)
          ) {
            p.reject(new ProtocolError("TRANSPORT_STATE", `Reply type ${m.type} != request type`));
          } else {
            p.resolve(m);
          }
          this.#maybeFinish();
          break;
        }
        case "connection_error":
          this.#o.onMessage?.(m);
          break;
        case "goaway": {
          const g = decodeGoAwayPayload(m.payload);
          this.#o.onGoAway?.(g?.reason ?? 0, g?.message ?? "");
          this.#drain({
            cause: "goaway",
            goAwayReason: g?.reason ?? 0,
            message: g?.message ?? "",
          }, false);
          break;
        }
        case "heartbeat":
        case "keyupdate":
          break;
        default:
          this.#drain(
            { cause: "error", message: "server protocol violation" },
            true,
            GoAwayReason.ProtocolError,
          );
      }
    }
  }

  #onEstablished(keys: SessionKeys): void {
    this.#clock.clearTimeout(this.#handshakeTimer!);
    this.#handshakeTimer = undefined;
    this.#details = {
      sessionId: toHex(keys.sessionId),
      heartbeatIntervalMs: keys.heartbeatIntervalMs,
      idleTimeoutMs: keys.idleTimeoutMs,
      handshakeHash: toHex(keys.handshakeHash),
    };
    this.#state = "open";
    // protocol-v1 §5: the client adopts the server's interval.
    this.#liveness.start({
      heartbeatIntervalMs: keys.heartbeatIntervalMs,
      idleTimeoutMs: keys.idleTimeoutMs,
    });
    this.#readyResolve();
  }

  async request(
    type: number,
    payload: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Uint8Array> {
    let retries = options.retries ?? this.#o.retries ?? 2;
    for (;;) {
      try {
        return (await this.#request(type, payload, options)).payload;
      } catch (e) {
        if (
          retries-- > 0 && e instanceof RemoteError &&
          (e.wireCode === 3 || e.wireCode === 5) && this.#state === "open"
        ) {
          await this.#sleep(e.retryAfterMs, options.signal);
          continue;
        }
        throw e;
      }
    }
  }

  send(type: number, payload: Uint8Array): number {
    this.#checkSendable(payload);
    const id = this.#ids.next(this.#pending);
    this.#send({ type, requestId: id, payload });
    return id;
  }

  async ping(
    payload: Uint8Array = new Uint8Array(0),
    options: RequestOptions = {},
  ): Promise<number> {
    const t0 = this.#clock.monotonic();
    await this.#request(PacketType.Ping, payload, options);
    return this.#clock.monotonic() - t0;
  }

  async close(): Promise<void> {
    if (this.#state === "handshake") {
      this.#fail(new SessionError("CONNECTION_CLOSED", "Closed before the handshake finished"));
    } else {
      this.#drain({ cause: "local", message: "closed by client" }, true, GoAwayReason.Normal);
    }
    await this.closed;
  }

  #request(type: number, payload: Uint8Array, options: RequestOptions): Promise<Message> {
    try {
      this.#checkSendable(payload);
    } catch (e) {
      return Promise.reject(e);
    }
    if (type !== PacketType.Ping && (type < 0x20 || type > 0x7f)) {
      return Promise.reject(new RangeError(`Request type must be Ping or 0x20–0x7F, got ${type}`));
    }
    const max = this.#o.maxInFlight ?? 1024;
    if (this.#pending.size >= max) {
      return Promise.reject(
        new LimitError("TOO_MANY_IN_FLIGHT", `More than ${max} requests in flight`),
      );
    }
    const id = this.#ids.next(this.#pending);
    return new Promise<Message>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#o.requestTimeoutMs ?? 30_000;
      const p: Pending = {
        type,
        resolve,
        reject,
        timeoutMs,
        deadline: this.#clock.monotonic() + timeoutMs,
      };
      if (options.signal) {
        if (options.signal.aborted) {
          reject(options.signal.reason);
          return;
        }
        options.signal.addEventListener("abort", () => {
          if (this.#pending.get(id) !== p) return;
          this.#pending.delete(id);
          reject(options.signal!.reason);
          this.#maybeFinish();
        }, { once: true });
      }
      this.#pending.set(id, p);
      this.#armDeadline(p.deadline);
      this.#send({ type, requestId: id, payload });
    });
  }

  // One timer per session for all request deadlines, armed for the earliest;
  // with equal timeouts, later requests never re-arm it (no timer per request).
  #armDeadline(deadline: number): void {
    if (this.#deadlineTimer !== undefined && this.#deadlineAt <= deadline) return;
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = deadline;
    this.#deadlineTimer = this.#clock.setTimeout(
      () => this.#expireRequests(),
      Math.max(0, deadline - this.#clock.monotonic()),
    );
  }

  #expireRequests(): void {
    this.#deadlineTimer = undefined;
    const now = this.#clock.monotonic();
    let next = Infinity;
    for (const [id, p] of this.#pending) {
      if (p.deadline <= now) {
        this.#pending.delete(id);
        p.reject(new SessionError("REQUEST_TIMEOUT", `Request timed out after ${p.timeoutMs} ms`));
      } else if (p.deadline < next) next = p.deadline;
    }
    if (next !== Infinity) this.#armDeadline(next);
    this.#maybeFinish();
  }

  #checkSendable(payload: Uint8Array): void {
    if (this.#state === "handshake") {
      throw new NotSentError("CONNECTION_CLOSED", "Session not established yet (await ready)");
    }
    if (this.#state !== "open") {
      throw new NotSentError(
        this.#closeInfo?.cause === "goaway" || this.#state === "draining"
          ? "GOAWAY"
          : "CONNECTION_CLOSED",
        "Session is closing: open a new connection",
      );
    }
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new LimitError(
        "PAYLOAD_TOO_LARGE",
        `Payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`,
      );
    }
  }

  #send(item: Outbound): void {
    try {
      this.#io.send(item);
    } catch (e) {
      this.#fail(e as Error); // send queue overflow: the server stopped reading
      return;
    }
    this.#liveness.sent();
  }

  // Stop new requests; finish in flight (within the grace period), then close.
  #drain(info: CloseInfo, sendGoAway: boolean, reason: number = GoAwayReason.Normal): void {
    if (this.#state !== "open") {
      // A GoAway that answers our own close() does not change why we closed.
      if (
        this.#state === "draining" && info.cause === "goaway" && this.#closeInfo?.cause !== "local"
      ) this.#closeInfo = info;
      return;
    }
    this.#state = "draining";
    this.#closeInfo = info;
    if (sendGoAway) {
      this.#send({
        type: PacketType.GoAway,
        requestId: 0,
        payload: encodeGoAwayPayload(reason, info.message),
      });
    }
    this.#graceTimer = this.#clock.setTimeout(() => {
      this.#graceTimer = undefined;
      this.#end(this.#closeInfo!);
    }, this.#o.goAwayGraceMs ?? DEFAULT_GOAWAY_GRACE_MS);
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#state === "draining" && this.#pending.size === 0) this.#end(this.#closeInfo!);
  }

  #fail(e: Error): void {
    if (this.#state === "handshake") this.#readyReject(e);
    this.#end({ cause: "error", message: e.message });
  }

  #end(info: CloseInfo): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeInfo ??= info;
    const clock = this.#clock;
    for (const t of [this.#graceTimer, this.#handshakeTimer, this.#deadlineTimer]) {
      if (t !== undefined) clock.clearTimeout(t);
    }
    this.#deadlineTimer = undefined;
    this.#liveness.stop();
    const err = new SessionError(
      this.#closeInfo.cause === "goaway" ? "GOAWAY" : "CONNECTION_CLOSED",
      `Session closed: ${this.#closeInfo.message}`,
    );
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#readyReject(err);
    // Queued frames (our GoAway) still go out, then the socket closes.
    if (info.cause === "error" || info.cause === "idle") this.#io.close();
    else this.#io.closeAfterFlush();
    this.#resolveClosed(this.#closeInfo);
  }

  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = this.#clock.setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        this.#clock.clearTimeout(t);
        reject(signal.reason);
      }, { once: true });
    });
  }
}
