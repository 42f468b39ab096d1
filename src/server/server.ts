/**
 * The SomnyToo server: `Deno.listen`, admission at accept (connection caps,
 * handshake-failure refusal, allow list), one {@linkcode ServerConnection}
 * per socket, and graceful shutdown.
 */

import { LimitError } from "../errors.ts";
import type { ServerConfig } from "../config/mod.ts";
import { type Clock, type Logger, noopLogger, type Socket, systemClock } from "../util/mod.ts";
import {
  type CryptoBackend,
  GoAwayReason,
  PSK_BYTES,
  ReplayCache,
  webCryptoBackend,
} from "../protocol/mod.ts";
import {
  type HandshakeFailureReason,
  HandshakeGuard,
  IpRules,
  trackingKey,
} from "../security/mod.ts";
import type { SecurityLayer } from "./security_layer.ts";
import { type ConnectionOptions, ServerConnection, type ServerMetricsSink } from "./connection.ts";
import { Dispatcher } from "./dispatcher.ts";
import { PriorityScheduler } from "./scheduler.ts";
import { ServerStats, type ServerStatsSnapshot } from "./stats.ts";

/** Server settings: `AppConfig.server` plus the admission policy of `AppConfig.security`. */
export type ServerOptions =
  & Pick<
    ServerConfig,
    | "host"
    | "port"
    | "replayCacheSize"
    | "maxConnections"
    | "maxConnectionsPerIp"
    | "maxConcurrentHandlers"
    | "maxQueuedRequests"
    | "shutdownTimeoutMs"
  >
  & ConnectionOptions
  & {
    /** Handshake failures per minute per IP before refusal at accept; 0 disables. */
    readonly handshakeFailureLimit: number;
    /** Addresses/CIDRs never refused. */
    readonly ipWhitelist: readonly string[];
  };

/** The limits a running server can change ({@linkcode SomnyServer.updateLimits}). */
export interface ReloadableLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly maxInFlightPerSession: number;
  readonly handshakeFailureLimit: number;
}

const RELOADABLE_LIMIT_MIN: Readonly<Record<keyof ReloadableLimits, number>> = {
  maxConnections: 1,
  maxConnectionsPerIp: 1,
  maxInFlightPerSession: 1,
  handshakeFailureLimit: 0,
};

/** What a server is built from besides its options. */
export interface ServerDeps {
  /** Key ring: psk id → 32-byte key ("" is the default key). */
  readonly psks: ReadonlyMap<string, Uint8Array>;
  /** @default webCryptoBackend */
  readonly backend?: CryptoBackend;
  /** Handlers; the server adds nothing by itself. @default a new Dispatcher */
  readonly dispatcher?: Dispatcher;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default noopLogger */
  readonly logger?: Logger;
  /**
   * Anomaly detection, AIMD rate limits and bans (issue #5); the caller
   * starts and closes it. @default none: only the connection limits and
   * the handshake-failure guard apply
   */
  readonly security?: SecurityLayer;
  /** Per-frame and per-request figures (the monitor's Prometheus metrics). */
  readonly metrics?: ServerMetricsSink;
}

/** Address the server listens on. */
export interface ListenAddr {
  readonly hostname: string;
  readonly port: number;
}

/** See module doc. */
export class SomnyServer {
  /** Handlers by type; register before or after `listen()`. */
  readonly dispatcher: Dispatcher;
  // A private copy: the reloadable limits are changed in place (updateLimits),
  // so every connection, which holds this same object, sees the new values.
  readonly #options: { -readonly [K in keyof ServerOptions]: ServerOptions[K] };
  readonly #deps: ServerDeps;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #stats = new ServerStats();
  readonly #scheduler: PriorityScheduler;
  readonly #replay: ReplayCache;
  readonly #guard: HandshakeGuard;
  readonly #connections = new Set<ServerConnection>();
  readonly #perIp = new Map<string, number>();
  readonly #allowList: IpRules;
  #listener: Deno.TcpListener | undefined;
  #acceptLoop: Promise<void> | undefined;
  #shutdown: Promise<void> | undefined;
  #sweepTimer: number | undefined;
  #resolveClosed!: () => void;
  /** Resolves when the server has shut down and every connection is closed. */
  readonly closed: Promise<void> = new Promise((r) => (this.#resolveClosed = r));

  constructor(options: ServerOptions, deps: ServerDeps) {
    for (const [id, key] of deps.psks) {
      if (key.length !== PSK_BYTES) throw new RangeError(`PSK "${id}" must be 32 bytes`);
    }
    this.#options = { ...options };
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#logger = deps.logger ?? noopLogger;
    this.dispatcher = deps.dispatcher ?? new Dispatcher();
    this.#scheduler = new PriorityScheduler({
      maxConcurrent: options.maxConcurrentHandlers,
      maxQueued: options.maxQueuedRequests,
    });
    this.#replay = new ReplayCache(options.replayCacheSize);
    this.#allowList = new IpRules(options.ipWhitelist);
    this.#guard = new HandshakeGuard({
      failureLimit: options.handshakeFailureLimit,
      allowList: this.#allowList,
      clock: this.#clock,
    });
    // A ban closes that address's sessions: GoAway (Policy), then close once
    // in-flight requests are answered or the grace period ends.
    deps.security?.onBan((key) => {
      for (const c of this.#connections) {
        if (trackingKey(c.remoteAddr) !== key) continue;
        if (c.state === "closed" || c.state === "draining") continue;
        this.#stats.bannedDisconnects++;
        c.goAway(GoAwayReason.Policy, "address banned");
      }
    });
  }

  /**
   * Change the limits that can change while running (the admin API,
   * SIGHUP): connections overall and per IP, requests in flight per session,
   * and the handshake-failure refusal limit. They apply to the next accept
   * and the next request of every session.
   * @throws {RangeError} on a value that is not a positive integer (≥ 0 for
   * `handshakeFailureLimit`)
   */
  updateLimits(limits: Partial<ReloadableLimits>): void {
    const checked: { -readonly [K in keyof ReloadableLimits]?: number } = {};
    for (const [name, v] of Object.entries(limits) as [keyof ReloadableLimits, unknown][]) {
      if (!(name in RELOADABLE_LIMIT_MIN)) {
        throw new RangeError(`${name} cannot be changed at runtime`);
      }
      if (typeof v !== "number" || !Number.isInteger(v) || v < RELOADABLE_LIMIT_MIN[name]) {
        throw new RangeError(`${name} must be an integer ≥ ${RELOADABLE_LIMIT_MIN[name]}`);
      }
      checked[name] = v;
    }
    Object.assign(this.#options, checked);
    if (checked.handshakeFailureLimit !== undefined) {
      this.#guard.setFailureLimit(checked.handshakeFailureLimit);
    }
  }

  /** The limits {@linkcode SomnyServer.updateLimits} can change, as they are now. */
  limits(): ReloadableLimits {
    const o = this.#options;
    return {
      maxConnections: o.maxConnections,
      maxConnectionsPerIp: o.maxConnectionsPerIp,
      maxInFlightPerSession: o.maxInFlightPerSession,
      handshakeFailureLimit: o.handshakeFailureLimit,
    };
  }

  /** Requests waiting for a handler slot (a load signal). */
  get queuedRequests(): number {
    return this.#scheduler.queued;
  }

  /** Counters. */
  stats(): ServerStatsSnapshot {
    return { ...this.#stats.snapshot(), connectionsActive: this.#connections.size };
  }

  /** Scheduler state: running, queued and shed handler counts. */
  get load(): { running: number; queued: number; shed: number } {
    const s = this.#scheduler;
    return { running: s.running, queued: s.queued, shed: s.shedCount };
  }

  /** Established sessions. */
  sessions(): ServerConnection[] {
    return [...this.#connections].filter((c) => c.id !== "");
  }

  /**
   * Close one session by its id (an operator's "kick"): GoAway with reason
   * 3 (policy), then close once its in-flight requests are answered.
   * Returns false when no open session has that id.
   */
  kick(sessionId: string): boolean {
    for (const c of this.#connections) {
      if (c.id !== sessionId || c.state !== "open") continue;
      c.goAway(GoAwayReason.Policy, "closed by an operator");
      return true;
    }
    return false;
  }

  /** True once `shutdown()` has been called. */
  get shuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  /**
   * Listen on `options.host:options.port` (port 0 picks a free one) and
   * start accepting.
   */
  listen(): ListenAddr {
    if (this.#listener) throw new TypeError("Server is already listening");
    const listener = Deno.listen({
      hostname: this.#options.host,
      port: this.#options.port,
      transport: "tcp",
    });
    this.#listener = listener;
    this.#acceptLoop = this.#accept(listener);
    const addr = listener.addr as Deno.NetAddr;
    this.#logger.info("listening", { host: addr.hostname, port: addr.port });
    return { hostname: addr.hostname, port: addr.port };
  }

  /**
   * Serve one already-accepted byte stream (used by `listen()`; also lets a
   * caller bring its own transport).
   * @throws {LimitError} when the server is shutting down.
   */
  serve(conn: Socket, remoteAddr: string): ServerConnection {
    if (this.#shutdown) throw new LimitError("SERVER_CLOSED", "Server is shutting down");
    const stats = this.#stats;
    stats.connectionsAccepted++;
    this.#perIp.set(remoteAddr, (this.#perIp.get(remoteAddr) ?? 0) + 1);
    const security = this.#deps.security;
    const key = trackingKey(remoteAddr);
    security?.observe({ kind: "connection_opened", ip: remoteAddr });
    const c = new ServerConnection(conn, remoteAddr, {
      backend: this.#deps.backend ?? webCryptoBackend,
      options: this.#options,
      dispatcher: this.dispatcher,
      scheduler: this.#scheduler,
      clock: this.#clock,
      logger: this.#logger,
      stats,
      replayCache: this.#replay,
      lookupPsk: (id) => this.#deps.psks.get(id),
      onHandshakeFailure: (addr, outcome) => {
        const reason: HandshakeFailureReason = outcome === "framing" || outcome === "ok"
          ? "malformed"
          : outcome;
        security?.observe({ kind: "handshake_failure", ip: addr, reason });
        if (this.#guard.recordFailure(addr)) {
          this.#logger.warn("refusing address after handshake failures", { addr, outcome });
        }
      },
      onEstablished: () => {},
      metrics: this.#deps.metrics,
      ...(security
        ? {
          meter: (type: number, bytes: number) => security.packet(key, remoteAddr, type, bytes),
          onViolation: (code: string) =>
            security.observe({ kind: "protocol_error", ip: remoteAddr, code }),
        }
        : {}),
    });
    this.#connections.add(c);
    this.#armSweep();
    c.done.finally(() => {
      security?.observe({ kind: "connection_closed", ip: remoteAddr });
      this.#connections.delete(c);
      const n = (this.#perIp.get(remoteAddr) ?? 1) - 1;
      if (n <= 0) this.#perIp.delete(remoteAddr);
      else this.#perIp.set(remoteAddr, n);
    });
    return c;
  }

  // One timer for all connections looks for peers that stopped reading and
  // releases the pipelines of idle sessions.
  #armSweep(): void {
    if (this.#sweepTimer !== undefined || this.#connections.size === 0) return;
    const o = this.#options;
    const release = o.pipelineReleaseAfterMs > 0 ? o.pipelineReleaseAfterMs / 2 : Infinity;
    const every = Math.max(50, Math.min(1000, o.sendStallTimeoutMs / 4, release));
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#sweepTimer = undefined;
      const now = this.#clock.monotonic();
      for (const c of this.#connections) c.maintain(now);
      this.#armSweep();
    }, every);
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    const o = this.#options;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (this.#shutdown) return;
        if (e instanceof Deno.errors.BadResource) return;
        // EMFILE and friends: keep serving existing sessions, retry shortly.
        this.#logger.error("accept failed", { error: e as Error });
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const addr = (conn.remoteAddr as Deno.NetAddr).hostname;
      // Refusals happen before a single byte is read.
      const allowListed = this.#allowList.matches(addr);
      if (
        this.#shutdown ||
        this.#connections.size >= o.maxConnections ||
        (!allowListed && (this.#perIp.get(addr) ?? 0) >= o.maxConnectionsPerIp) ||
        !this.#guard.allow(addr) ||
        (this.#deps.security !== undefined && !this.#deps.security.admit(addr))
      ) {
        this.#stats.connectionsRefused++;
        try {
          conn.close();
        } catch { /* gone */ }
        continue;
      }
      try {
        conn.setNoDelay(true); // Nagle would add tens of ms to small replies
      } catch { /* closed already */ }
      this.serve(conn, addr);
    }
  }

  /**
   * Graceful shutdown: stop accepting, GoAway (reason 2) to every session,
   * let in-flight requests finish within the grace period, then close.
   * Resolves when every connection is closed (forced after shutdownTimeoutMs).
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    this.#logger.info("shutting down", { sessions: this.#connections.size });
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    for (const c of this.#connections) c.goAway(GoAwayReason.ShuttingDown, "server shutting down");
    let timer: number | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = this.#clock.setTimeout(resolve, this.#options.shutdownTimeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.#connections].map((c) => c.done)), deadline]);
    this.#clock.clearTimeout(timer!);
    for (const c of this.#connections) c.abort();
    await Promise.allSettled([...this.#connections].map((c) => c.done));
    await this.#acceptLoop;
    if (this.#sweepTimer !== undefined) this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#logger.info("stopped", {});
    this.#resolveClosed();
  }
}

/**
 * Build a server. Register handlers on `server.dispatcher`, then `listen()`.
 */
export function createServer(options: ServerOptions, deps: ServerDeps): SomnyServer {
  return new SomnyServer(options, deps);
}
