/**
 * The vocabulary the security layer's parts share (issue #5): what the
 * server and the database report (signals), what the decision engine
 * answers (decisions), and the seams between detectors, reputation and the
 * audit log. Pure types and tiny helpers; no I/O.
 *
 * @module
 */

import type { HandshakeRejectReason } from "../protocol/mod.ts";

/** Why a handshake failed: the protocol's refusal reasons, or the 10 s deadline. */
export type HandshakeFailureReason = HandshakeRejectReason | "timeout";

/**
 * One observation about a source address, fed by the server, the pipeline
 * and the database layer. `ip` is the peer address as accepted (IPv4 or
 * IPv6 text); trackers key it with `trackingKey` (IPv6 per /64).
 */
export type SecuritySignal =
  | { readonly kind: "connection_opened"; readonly ip: string }
  | { readonly kind: "connection_closed"; readonly ip: string }
  | { readonly kind: "packet"; readonly ip: string; readonly bytes: number }
  | {
    readonly kind: "handshake_failure";
    readonly ip: string;
    readonly reason: HandshakeFailureReason;
  }
  | { readonly kind: "protocol_error"; readonly ip: string; readonly code: string }
  | { readonly kind: "sql_injection_attempt"; readonly ip: string }
  | { readonly kind: "orm_query_flood"; readonly ip: string };

/** The detections of the anomaly detector (weights in `security.anomalyWeights`). */
export type DetectionKind =
  | "HighPacketRate"
  | "BurstTraffic"
  | "SmallPacketFlood"
  | "ConnectionFlood"
  | "UnusualPacketSize"
  | "SQLInjectionAttempt"
  | "ORMQueryFlood"
  | "HandshakeFailures";

/** One detection, as kept for "explain". */
export interface Detection {
  readonly kind: DetectionKind;
  /** Weight it added to the score (0–1). */
  readonly weight: number;
  /** Wall-clock ms. */
  readonly atMs: number;
  /** Short, secret-free detail ("412 packets/s over 1 s"). */
  readonly detail: string;
}

/**
 * What the decision engine says about an address, and what the server
 * enforces: RateLimit → Error 3 with `retry_after_ms`; TempBan and
 * PermanentBan → close the connection and refuse new ones at accept;
 * QueryThrottle → the address's DB calls are refused with Error 3.
 */
export type Decision =
  | { readonly kind: "Accept" }
  | { readonly kind: "RateLimit"; readonly durationMs: number }
  | { readonly kind: "TempBan"; readonly durationMs: number }
  | { readonly kind: "PermanentBan" }
  | { readonly kind: "QueryThrottle"; readonly durationMs: number };

/** Past offences of an address (kept by the reputation store). */
export interface OffenceHistory {
  /** Temporary bans this address has received so far (drives escalation). */
  banCount(key: string): number;
}

/** Where audit events go (the audit log implements it). */
export interface AuditSink {
  /** Record one event; never throws, never blocks the caller. */
  record(event: AuditEventInput): void;
}

/** Kinds of security audit events. */
export type AuditEventKind =
  | "handshake_failure"
  | "decision"
  | "ban"
  | "unban"
  | "sql_injection_attempt"
  | "orm_query_flood"
  | "admin_action";

/** An audit event before it is stored (the log adds sequence, time and MAC). */
export interface AuditEventInput {
  readonly kind: AuditEventKind;
  /** Source address, when the event concerns one. */
  readonly ip?: string;
  /** Who acted, for admin actions ("admin-api", "cli"). */
  readonly actor?: string;
  /** Secret-free JSON details. */
  readonly details?: Readonly<Record<string, unknown>>;
}
