/**
 * One server-side connection (protocol-v1 §2–§6): a read loop that frames the
 * socket's bytes and runs the handshake on the first frame, then the session's
 * Web Streams pipeline with the server's "process" stage in the middle, plus
 * the session rules: handshake deadline, request dispatch through the
 * priority scheduler, per-session in-flight limit, heartbeats, idle timeout,
 * GoAway and draining, bounded send queue.
 *
 * ```
 * SocketReader ─► FrameDecoder ─► (1st frame) acceptClientHello ─► ServerHello
 *                              └► DecryptStream ─► process ─► EncryptStream ─► SocketSink
 * ```
 *
 * The pipeline is started when the session has traffic and released after
 * `pipelineReleaseAfterMs` without any (nothing in transit, no request in
 * flight): a dozen streams and their pending reads are most of an idle
 * session's memory. It is rebuilt by the next frame in either direction.
 */

import { ProtocolError } from "../errors.ts";
import {
  type Clock,
  type Logger,
  type Socket,
  SocketReader,
  SocketSink,
  toHex,
} from "../util/mod.ts";
import {
  acceptClientHello,
  classifyInbound,
  type CryptoBackend,
  encodeErrorPayload,
  encodeGoAwayPayload,
  encodeHeartbeatPayload,
  type Frame,
  FrameDecoder,
  GoAwayReason,
  HandshakeError,
  LivenessTimer,
  MAX_PAYLOAD_BYTES,
  type Message,
  type Outbound,
  Outbox,
  PacketType,
  type PipelineObserver,
  type ReplayCache,
  RequestIdAllocator,
  type RunningPipeline,
  SecureChannel,
  type SessionKeys,
  startPipeline,
  WireErrorCode,
} from "../protocol/mod.ts";
import type { Dispatcher, HandlerEntry, RequestContext, SessionInfo } from "./dispatcher.ts";
import { HandlerError } from "./dispatcher.ts";
import type { CancelQueued, PriorityScheduler } from "./scheduler.ts";
import type { HandshakeOutcome, ServerStats } from "./stats.ts";

/** Per-connection settings (a slice of `AppConfig.server`). */
export interface ConnectionOptions {
  readonly handshakeTimeoutMs: number;
  readonly clockSkewMs: number;
  readonly maxInFlightPerSession: number;
  readonly maxSendQueueBytes: number;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly goAwayGraceMs: number;
  readonly sendStallTimeoutMs: number;
  readonly pipelineReleaseAfterMs: number;
  readonly handlerTimeoutMs: number;
  readonly rekeyAfterFrames: number;
}

/** What a connection needs from its server. */
export interface ConnectionEnv {
  readonly backend: CryptoBackend;
  readonly options: ConnectionOptions;
  readonly dispatcher: Dispatcher;
  readonly scheduler: PriorityScheduler;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly replayCache: ReplayCache;
  lookupPsk(pskId: string): Uint8Array | undefined;
  onHandshakeFailure(remoteAddr: string, outcome: HandshakeOutcome): void;
  onEstablished(connection: ServerConnection): void;
  /**
   * The security layer's meter for one inbound frame: 0 to process it, else
   * the `retry_after_ms` of an Error 3 (only requests are ever refused).
   */
  readonly meter?: (type: number, bytes: number) => number;
  /** A transport or protocol violation after the handshake (for the security layer). */
  readonly onViolation?: (code: string) => void;
  /** Per-frame and per-request figures (Prometheus metrics). */
  readonly metrics?: ServerMetricsSink;
}

/**
 * Where a connection reports frames and finished requests (the monitor's
 * metrics implement it). Called on the hot path: keep it cheap.
 */
export interface ServerMetricsSink {
  /** One frame in or out: its packet type and payload bytes. */
  frame(direction: "in" | "out", type: number, bytes: number): void;
  /** One request answered: its type, time from arrival to answer, and the Error code if any. */
  request(type: number, seconds: number, errorCode?: number): void;
}

type State = "handshake" | "open" | "draining" | "closed";

interface PendingPing {
  readonly sentAt: number;
  resolve(rttMs: number): void;
  reject(e: Error): void;
}

// Time to let queued frames (GoAway, last replies) reach a peer that reads slowly.
const CLOSE_FLUSH_MS = 2_000;

class Ctx implements RequestContext {
  #ac: AbortController | undefined;
  /** Removes the request from the scheduler's queue while it waits there. */
  cancelQueued: CancelQueued | undefined;
  constructor(
    readonly type: number,
    readonly requestId: number,
    readonly payload: Uint8Array,
    readonly session: SessionInfo,
    /** Monotonic ms when the request arrived. */
    readonly arrivedAt: number,
  ) {}
  get signal(): AbortSignal {
    this.#ac ??= new AbortController();
    return this.#ac.signal;
  }
  abort(reason: string): void {
    this.cancelQueued?.();
    this.#ac ??= new AbortController();
    this.#ac.abort(new ProtocolError("CONNECTION_CLOSED", reason));
  }
}

/** See module doc. */
export class ServerConnection implements SessionInfo {
  readonly remoteAddr: string;
  /** Settles when the connection is fully closed. */
  readonly done: Promise<void>;
  #id = "";
  #pskId = "";
  #state: State = "handshake";
  readonly #conn: Socket;
  readonly #sink: SocketSink;
  readonly #env: ConnectionEnv;
  readonly #observer: PipelineObserver;
  readonly #channel = new SecureChannel();
  readonly #outbox: Outbox;
  /** The running pipeline; undefined before the handshake and while released. */
  #pipeline: RunningPipeline | undefined;
  /** Batches inside the pipeline: read batches not yet processed, sent batches not yet written. */
  #inTransit = 0;
  #peerEnded = false;
  readonly #liveness: LivenessTimer;
  readonly #inFlight = new Map<number, Ctx>();
  readonly #pings = new Map<number, PendingPing>();
  readonly #ids = new RequestIdAllocator("server");
  #timer: number | undefined;
  #graceTimer: number | undefined;
  #closeTimer: number | undefined;
  #onDrained: (() => void) | undefined;
  #closedConn = false;

  constructor(conn: Socket, remoteAddr: string, env: ConnectionEnv) {
    this.#conn = conn;
    this.#sink = new SocketSink(conn, () => env.clock.monotonic());
    this.remoteAddr = remoteAddr;
    this.#env = env;
    const clock = env.clock;
    const stats = env.stats;
    this.#observer = {
      onFrameIn: () => stats.framesIn++,
      onFrameOut: (_t, n) => {
        stats.framesOut++;
        stats.bytesOut += n;
      },
    };
    this.#outbox = new Outbox({
      maxQueuedBytes: env.options.maxSendQueueBytes,
      onOverflow: () => {
        // protocol-v1 §6: a peer that stops reading is disconnected, not buffered.
        stats.slowConsumerDisconnects++;
        this.abort();
      },
      onBatch: () => this.#inTransit++,
    });
    this.#liveness = new LivenessTimer(clock, {
      heartbeatIntervalMs: env.options.heartbeatIntervalMs,
      idleTimeoutMs: env.options.idleTimeoutMs,
      onHeartbeatDue: () =>
        this.#send({
          type: PacketType.Heartbeat,
          requestId: 0,
          payload: encodeHeartbeatPayload(clock.now()),
        }),
      onIdle: () => {
        env.stats.heartbeatTimeouts++;
        this.goAway(GoAwayReason.IdleTimeout, "idle timeout");
      },
    });
    this.#timer = clock.setTimeout(() => this.#handshakeTimeout(), env.options.handshakeTimeoutMs);
    this.done = this.#run();
  }

  /** Hex session id (empty before the handshake). */
  get id(): string {
    return this.#id;
  }
  /** The psk id the peer authenticated with. */
  get pskId(): string {
    return this.#pskId;
  }
  /** Current state. */
  get state(): State {
    return this.#state;
  }
  /** Requests being handled. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Stop accepting requests, send GoAway, finish in-flight requests within the
   * grace period, then close (protocol-v1 §4). Before the handshake this is a
   * silent close.
   */
  goAway(reason: GoAwayReason, message: string): void {
    if (this.#state === "closed") return;
    if (this.#state === "handshake") {
      this.abort();
      return;
    }
    if (this.#state === "open") {
      this.#state = "draining";
      this.#send({
        type: PacketType.GoAway,
        requestId: 0,
        payload: encodeGoAwayPayload(reason, message),
      });
      this.#graceTimer = this.#env.clock.setTimeout(
        () => this.#graceExpired(),
        this.#env.options.goAwayGraceMs,
      );
    }
    this.#maybeFinishDrain();
  }

  /** Close at once without sending anything more. */
  abort(): void {
    if (this.#state !== "closed") this.#state = "closed";
    this.#pipeline?.abort(new ProtocolError("CONNECTION_CLOSED", "Connection aborted"));
    this.#clearTimers();
    for (const ctx of this.#inFlight.values()) ctx.abort("connection closed");
    this.#inFlight.clear();
    this.#closeConn();
  }

  /** True while the session's stream pipeline exists (it is released when idle). */
  get hasPipeline(): boolean {
    return this.#pipeline !== undefined;
  }

  /**
   * Periodic upkeep, called by the server from one sweep timer for all
   * connections rather than a timer per write or per session:
   * - disconnect the peer if one write to it has waited longer than
   *   `sendStallTimeoutMs` (protocol-v1 §6: a peer that stops reading is
   *   disconnected);
   * - release the stream pipeline of a session that has had no traffic for
   *   `pipelineReleaseAfterMs` and has nothing in transit or in flight.
   */
  maintain(nowMs: number): void {
    if (this.#closedConn) return;
    const o = this.#env.options;
    if (this.#sink.stalledFor(nowMs) > o.sendStallTimeoutMs) {
      this.#env.stats.slowConsumerDisconnects++;
      this.abort();
      return;
    }
    const p = this.#pipeline;
    if (
      p !== undefined && o.pipelineReleaseAfterMs > 0 && this.#state === "open" &&
      this.#inTransit === 0 && this.#inFlight.size === 0 && this.#outbox.empty &&
      nowMs - this.#liveness.lastActivityMs >= o.pipelineReleaseAfterMs
    ) {
      // Nothing is inside it, so ending it writes nothing; the next frame in
      // either direction starts a new one (#ensurePipeline).
      this.#pipeline = undefined;
      this.#outbox.detach();
      p.end();
    }
  }

  /** Send a Ping and resolve with the round-trip time in ms. */
  ping(payload: Uint8Array = new Uint8Array(0)): Promise<number> {
    if (this.#state !== "open") {
      return Promise.reject(
        new ProtocolError("CONNECTION_CLOSED", "Cannot ping: session not open"),
      );
    }
    const id = this.#ids.next(this.#pings);
    return new Promise((resolve, reject) => {
      this.#pings.set(id, { sentAt: this.#env.clock.monotonic(), resolve, reject });
      this.#send({ type: PacketType.Ping, requestId: id, payload });
    });
  }

  async #run(): Promise<void> {
    const stats = this.#env.stats;
    try {
      await this.#readLoop();
    } catch (e) {
      this.#onFailure(e);
    } finally {
      const wasSession = this.#id !== "";
      this.#state = "closed";
      this.#clearTimers();
      for (const ctx of this.#inFlight.values()) ctx.abort("connection closed");
      this.#inFlight.clear();
      for (const p of this.#pings.values()) {
        p.reject(new ProtocolError("CONNECTION_CLOSED", "Connection closed"));
      }
      this.#pings.clear();
      this.#pipeline?.abort(new ProtocolError("CONNECTION_CLOSED", "Connection closed"));
      this.#channel.destroy();
      this.#closeConn();
      if (wasSession) stats.sessionsActive--;
    }
  }

  async #readLoop(): Promise<void> {
    const stats = this.#env.stats;
    const reader = new SocketReader(this.#conn);
    const decoder = new FrameDecoder({ expect: "server" });
    for (;;) {
      const bytes = await reader.read();
      if (bytes === null || this.#closedConn) break;
      stats.bytesIn += bytes.length;
      // Throws on bad framing → silent close. Complete frames are views of the
      // reader's reused buffer. That is safe because nothing reads again
      // before they are consumed: the hello is awaited below, and push()
      // resolves only once DecryptStream has opened the batch (the writable
      // side counts a chunk as queued until its transform has finished) into
      // new plaintext buffers.
      let frames = decoder.push(bytes);
      if (frames.length === 0) continue;
      if (!this.#channel.keys) {
        const hello = frames[0];
        frames = frames.slice(1);
        const accepted = await this.#establish(hello);
        if (this.#state !== "handshake") return; // timed out or aborted meanwhile
        // protocol-v1 §2: ServerHello is the first byte the server sends.
        await this.#sink.write(accepted.serverHello);
        this.#onEstablished(accepted.keys);
        if (frames.length === 0) continue;
      }
      if (this.#state === "closed") continue; // closing: drop input, let queued output flush
      this.#inTransit++;
      await this.#ensurePipeline().push(frames);
    }
    // EOF: the peer half-closed. Answer what is in flight, let queued output
    // flush, then end.
    this.#peerEnded = true;
    const p = this.#pipeline;
    if (!p) return;
    if (this.#state !== "closed") p.end();
    await p.done;
  }

  #ensurePipeline(): RunningPipeline {
    if (this.#pipeline) return this.#pipeline;
    const process = new TransformStream<Message[], Outbound[]>(
      {
        start: (c) => this.#outbox.attach(c),
        transform: (messages) => {
          this.#inTransit--;
          this.#onMessages(messages);
        },
        flush: () => this.#peerEnded ? this.#onPeerClosed() : undefined,
      },
      undefined,
      Outbox.strategy(),
    );
    const p = startPipeline(
      this.#channel,
      process,
      this.#sink.writable(() => this.#inTransit--),
      this.#observer,
    );
    this.#pipeline = p;
    p.done.then(() => {
      // Released while idle (the session goes on), or ended by a graceful close.
      if (this.#state === "closed") this.#closeConn();
    }, (e) => {
      if (this.#pipeline === p) this.#pipeline = undefined;
      if (this.#state !== "closed") this.#onFailure(e);
      this.abort();
    });
    return p;
  }

  #onFailure(e: unknown): void {
    const stats = this.#env.stats;
    if (this.#id === "") {
      // Before the handshake: garbage or a refused hello. Handshake refusals
      // were counted in #establish; count framing errors here.
      if (e instanceof ProtocolError && e.code.startsWith("FRAME_")) {
        stats.handshake("framing");
        this.#env.onHandshakeFailure(this.remoteAddr, "framing");
      }
      return;
    }
    if (e instanceof ProtocolError && e.code !== "CONNECTION_CLOSED") {
      stats.transportFailures++;
      this.#env.onViolation?.(e.code);
      this.#env.logger.debug("transport failure", { session: this.#id, code: e.code });
    }
  }

  async #establish(hello: Frame) {
    const env = this.#env;
    try {
      const sessionId = crypto.getRandomValues(new Uint8Array(16));
      return await acceptClientHello(env.backend, hello, {
        lookupPsk: (id) => env.lookupPsk(id),
        nowMs: env.clock.now(),
        clockSkewMs: env.options.clockSkewMs,
        replayCache: env.replayCache,
        sessionId,
        heartbeatIntervalMs: env.options.heartbeatIntervalMs,
        idleTimeoutMs: env.options.idleTimeoutMs,
        rekeyAfterFrames: env.options.rekeyAfterFrames,
      });
    } catch (e) {
      const outcome: HandshakeOutcome = e instanceof HandshakeError ? e.reason : "malformed";
      env.stats.handshake(outcome);
      env.onHandshakeFailure(this.remoteAddr, outcome);
      throw e; // protocol-v1 §2: every rejection closes without sending a byte
    }
  }

  #onMessages(messages: Message[]): void {
    const n = messages.length;
    if (n === 0) return;
    this.#liveness.received();
    const meter = this.#env.meter;
    const metrics = this.#env.metrics;
    for (let i = 0; i < n && this.#state !== "closed"; i++) {
      const m = messages[i];
      metrics?.frame("in", m.type, m.payload.length);
      const retryAfterMs = meter ? meter(m.type, m.payload.length) : 0;
      switch (classifyInbound("server", m)) {
        case "request":
          if (retryAfterMs > 0 && m.type !== PacketType.Ping) {
            // Rate limited by the security layer (issue #5): Error 3.
            this.#env.stats.rateLimited++;
            this.#sendError(m.requestId, WireErrorCode.RateLimited, retryAfterMs, "rate limited");
          } else if (m.type === PacketType.Ping) {
            this.#send({ type: PacketType.Pong, requestId: m.requestId, payload: m.payload });
          } else {
            this.#request(m);
          }
          break;
        case "reply": {
          const p = this.#pings.get(m.requestId);
          if (p) {
            this.#pings.delete(m.requestId);
            p.resolve(this.#env.clock.monotonic() - p.sentAt);
          }
          break;
        }
        case "heartbeat":
        case "keyupdate":
          break; // the receiver already rekeyed on KeyUpdate
        case "goaway":
          // The peer stops sending requests; answer what is in flight, then close.
          this.goAway(GoAwayReason.Normal, "closing after peer GoAway");
          break;
        default:
          this.#env.stats.protocolViolations++;
          this.#env.onViolation?.("protocol_violation");
          this.goAway(GoAwayReason.ProtocolError, "protocol error");
      }
    }
  }

  #onEstablished(keys: SessionKeys): void {
    const env = this.#env;
    this.#channel.establish(keys);
    this.#id = toHex(keys.sessionId);
    this.#pskId = keys.pskId;
    this.#state = "open";
    env.stats.handshake("ok");
    env.stats.sessionsActive++;
    env.clock.clearTimeout(this.#timer!);
    this.#timer = undefined;
    this.#liveness.start();
    env.onEstablished(this);
  }

  #request(m: Message): void {
    const env = this.#env;
    const id = m.requestId;
    if (this.#state !== "open") {
      this.#sendError(id, WireErrorCode.ShuttingDown, 0, "shutting down");
      return;
    }
    if (this.#inFlight.has(id)) {
      env.stats.protocolViolations++;
      this.goAway(GoAwayReason.ProtocolError, "duplicate request id in flight");
      return;
    }
    const entry = env.dispatcher.get(m.type);
    if (!entry) {
      this.#sendError(id, WireErrorCode.UnknownType, 0, "unknown type");
      return;
    }
    if (m.payload.length > entry.maxPayloadBytes) {
      this.#sendError(
        id,
        WireErrorCode.RequestTooLarge,
        0,
        `request larger than ${entry.maxPayloadBytes} bytes`,
      );
      return;
    }
    if (this.#inFlight.size >= env.options.maxInFlightPerSession) {
      env.stats.shed++;
      this.#sendError(
        id,
        WireErrorCode.Overloaded,
        env.scheduler.retryAfterMs(),
        "too many requests in flight on this session",
      );
      return;
    }
    env.stats.requests++;
    const ctx = new Ctx(m.type, id, m.payload, this, env.clock.monotonic());
    this.#inFlight.set(id, ctx);
    ctx.cancelQueued = env.scheduler.submit(entry.priority, () => {
      ctx.cancelQueued = undefined;
      return this.#runHandler(entry, ctx);
    }, (retryAfterMs) => {
      if (this.#inFlight.get(id) !== ctx) return;
      env.stats.shed++;
      this.#inFlight.delete(id);
      this.#sendError(id, WireErrorCode.Overloaded, retryAfterMs, "overloaded, request shed");
      this.#maybeFinishDrain();
    });
  }

  #runHandler(entry: HandlerEntry, ctx: Ctx): void | Promise<void> {
    if (this.#inFlight.get(ctx.requestId) !== ctx) return; // answered while queued
    let r: Uint8Array | Promise<Uint8Array>;
    try {
      r = entry.handler(ctx);
    } catch (e) {
      this.#answerFailure(ctx, e);
      return;
    }
    if (!(r instanceof Promise)) {
      this.#answer(ctx, r);
      return;
    }
    const clock = this.#env.clock;
    return new Promise<void>((resolve) => {
      let settled = false;
      const timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        ctx.abort("handler timed out");
        this.#answerError(ctx, WireErrorCode.HandlerFailed, 0, "handler timed out");
        resolve();
      }, entry.timeoutMs ?? this.#env.options.handlerTimeoutMs);
      r.then(
        (payload) => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          this.#answer(ctx, payload);
          resolve();
        },
        (e) => {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          this.#answerFailure(ctx, e);
          resolve();
        },
      );
    });
  }

  #answer(ctx: Ctx, payload: unknown): void {
    if (!(payload instanceof Uint8Array) || payload.length > MAX_PAYLOAD_BYTES) {
      this.#answerError(ctx, WireErrorCode.HandlerFailed, 0, "handler returned an invalid reply");
      return;
    }
    if (this.#inFlight.get(ctx.requestId) !== ctx) return;
    this.#inFlight.delete(ctx.requestId);
    this.#env.metrics?.request(ctx.type, (this.#env.clock.monotonic() - ctx.arrivedAt) / 1000);
    this.#send({ type: ctx.type, requestId: ctx.requestId, payload });
    this.#maybeFinishDrain();
  }

  #answerFailure(ctx: Ctx, e: unknown): void {
    if (e instanceof HandlerError) {
      this.#answerError(ctx, e.wireCode, e.retryAfterMs, e.message);
    } else {
      this.#env.logger.warn("handler failed", {
        type: ctx.type,
        error: e instanceof Error ? e : String(e),
      });
      this.#answerError(ctx, WireErrorCode.HandlerFailed, 0, "handler failed");
    }
  }

  #answerError(ctx: Ctx, code: number, retryAfterMs: number, message: string): void {
    if (this.#inFlight.get(ctx.requestId) !== ctx) return;
    this.#inFlight.delete(ctx.requestId);
    this.#env.metrics?.request(
      ctx.type,
      (this.#env.clock.monotonic() - ctx.arrivedAt) / 1000,
      code,
    );
    this.#sendError(ctx.requestId, code, retryAfterMs, message);
    this.#maybeFinishDrain();
  }

  #sendError(requestId: number, code: number, retryAfterMs: number, message: string): void {
    this.#env.stats.errorSent(code);
    this.#send({
      type: PacketType.Error,
      requestId,
      payload: encodeErrorPayload(code, retryAfterMs, message),
    });
  }

  #send(item: Outbound): void {
    if (this.#state === "closed") return;
    this.#ensurePipeline();
    this.#outbox.send(item);
    this.#liveness.sent();
    if ("type" in item) this.#env.metrics?.frame("out", item.type, item.payload.length);
  }

  #onPeerClosed(): Promise<void> | void {
    // The peer half-closed: answer what is in flight, then let the stream end.
    if (this.#inFlight.size === 0) {
      this.#outbox.flush();
      return;
    }
    return new Promise((resolve) => {
      this.#onDrained = () => {
        this.#outbox.flush();
        resolve();
      };
    });
  }

  #maybeFinishDrain(): void {
    if (this.#inFlight.size > 0) return;
    if (this.#onDrained) {
      const f = this.#onDrained;
      this.#onDrained = undefined;
      f();
      return;
    }
    if (this.#state === "draining") this.#closeGracefully();
  }

  #graceExpired(): void {
    this.#graceTimer = undefined;
    for (const ctx of [...this.#inFlight.values()]) {
      ctx.abort("grace period over");
      this.#answerError(ctx, WireErrorCode.ShuttingDown, 0, "shutting down");
    }
    this.#closeGracefully();
  }

  #closeGracefully(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#clearTimers();
    if (!this.#pipeline) {
      this.#closeConn(); // released: nothing left to send
      return;
    }
    this.#outbox.close(); // queued frames still go out, then the pipeline ends
    this.#closeTimer = this.#env.clock.setTimeout(() => this.#closeConn(), CLOSE_FLUSH_MS);
  }

  #handshakeTimeout(): void {
    this.#timer = undefined;
    if (this.#state !== "handshake") return;
    this.#env.stats.handshake("timeout");
    this.#env.onHandshakeFailure(this.remoteAddr, "timeout");
    this.abort();
  }

  #clearTimers(): void {
    const clock = this.#env.clock;
    for (const t of [this.#timer, this.#graceTimer]) if (t !== undefined) clock.clearTimeout(t);
    this.#liveness.stop();
    this.#timer = this.#graceTimer = undefined;
  }

  #closeConn(): void {
    if (this.#closeTimer !== undefined) this.#env.clock.clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    if (this.#closedConn) return;
    this.#closedConn = true;
    try {
      this.#conn.close();
    } catch { /* already closed by the stream */ }
  }
}
