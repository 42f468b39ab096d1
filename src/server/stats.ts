/** Counters kept by the server; read by monitoring (issue #6) and tests. */

import type { HandshakeRejectReason } from "../protocol/mod.ts";

/** Handshake outcomes counted by reason: the protocol's refusals plus what the server sees. */
export type HandshakeOutcome = "ok" | HandshakeRejectReason | "timeout" | "framing";

/** A snapshot of {@linkcode ServerStats}. */
export interface ServerStatsSnapshot {
  readonly connectionsAccepted: number;
  readonly connectionsRefused: number;
  readonly connectionsActive: number;
  readonly sessionsActive: number;
  readonly handshakes: Readonly<Record<string, number>>;
  readonly requests: number;
  readonly errorsSent: Readonly<Record<string, number>>;
  readonly shed: number;
  /** Requests refused with Error 3 by the security layer's rate limits. */
  readonly rateLimited: number;
  /** Sessions closed because their address was banned. */
  readonly bannedDisconnects: number;
  readonly heartbeatTimeouts: number;
  readonly protocolViolations: number;
  readonly transportFailures: number;
  readonly slowConsumerDisconnects: number;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Mutable counters (cheap increments on the hot path). */
export class ServerStats {
  connectionsAccepted = 0;
  connectionsRefused = 0;
  connectionsActive = 0;
  sessionsActive = 0;
  readonly handshakes: Map<string, number> = new Map();
  requests = 0;
  readonly errorsSent: Map<number, number> = new Map();
  shed = 0;
  rateLimited = 0;
  bannedDisconnects = 0;
  heartbeatTimeouts = 0;
  protocolViolations = 0;
  transportFailures = 0;
  slowConsumerDisconnects = 0;
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;

  /** Count a handshake outcome. */
  handshake(outcome: HandshakeOutcome): void {
    this.handshakes.set(outcome, (this.handshakes.get(outcome) ?? 0) + 1);
  }

  /** Count an Error frame sent. */
  errorSent(code: number): void {
    this.errorsSent.set(code, (this.errorsSent.get(code) ?? 0) + 1);
  }

  /** A plain-object copy. */
  snapshot(): ServerStatsSnapshot {
    return {
      connectionsAccepted: this.connectionsAccepted,
      connectionsRefused: this.connectionsRefused,
      connectionsActive: this.connectionsActive,
      sessionsActive: this.sessionsActive,
      handshakes: Object.fromEntries(this.handshakes),
      requests: this.requests,
      errorsSent: Object.fromEntries([...this.errorsSent].map(([k, v]) => [String(k), v])),
      shed: this.shed,
      rateLimited: this.rateLimited,
      bannedDisconnects: this.bannedDisconnects,
      heartbeatTimeouts: this.heartbeatTimeouts,
      protocolViolations: this.protocolViolations,
      transportFailures: this.transportFailures,
      slowConsumerDisconnects: this.slowConsumerDisconnects,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }
}
