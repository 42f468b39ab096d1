/**
 * Session rules of protocol-v1 §3–§4 that do not need a socket: request-id
 * parity and allocation, and which frames each side may receive.
 */

import { MAX_REQUEST_ID } from "./constants.ts";
import { isApplicationType, PacketType } from "./packet.ts";
import type { Role } from "./frame.ts";
import type { Message } from "./transport.ts";

/**
 * Allocates request ids: odd for a client, even for a server (§3), skipping
 * ids still in flight, wrapping from 2^32 − 1 back to the first of its parity.
 */
export class RequestIdAllocator {
  readonly #first: number;
  #next: number;

  /**
   * @param role whose ids these are
   * @param nextIdForTestingOnly where to start (tests of the wrap-around)
   */
  constructor(role: Role, nextIdForTestingOnly?: number) {
    this.#first = role === "client" ? 1 : 2;
    this.#next = nextIdForTestingOnly ?? this.#first;
    if (this.#next % 2 !== this.#first % 2) throw new RangeError("Start id has the wrong parity");
  }

  /** The next id not in `inFlight`. */
  next(inFlight: { has(id: number): boolean }): number {
    for (let tries = 0; tries < 1 << 20; tries++) {
      const id = this.#next;
      this.#next = id + 2 > MAX_REQUEST_ID ? this.#first : id + 2;
      if (!inFlight.has(id)) return id;
    }
    throw new RangeError("No free request id");
  }
}

/** True if `requestId` was chosen by `role` (odd = client, even non-zero = server). */
export function isOwnRequestId(role: Role, requestId: number): boolean {
  if (requestId === 0) return false;
  return role === "client" ? (requestId & 1) === 1 : (requestId & 1) === 0;
}

/** How a receiver must treat an incoming message (§4 table). */
export type InboundKind =
  | "request" // a new request from the peer: answer it
  | "reply" // a reply to one of our requests
  | "heartbeat"
  | "keyupdate"
  | "goaway"
  | "connection_error" // Error with request_id 0 (server → client only)
  | "violation"; // protocol error in an authenticated payload: GoAway 5

/**
 * Classify a message received by `role`. Pure; the caller enforces the result.
 * Violations: wrong request-id parity or zero-ness, a type the peer may not send.
 */
export function classifyInbound(role: Role, m: Message): InboundKind {
  const peer: Role = role === "server" ? "client" : "server";
  switch (m.type) {
    case PacketType.Heartbeat:
      return m.requestId === 0 && (m.payload.length === 0 || m.payload.length === 8)
        ? "heartbeat"
        : "violation";
    case PacketType.KeyUpdate:
      return m.requestId === 0 && m.payload.length === 0 ? "keyupdate" : "violation";
    case PacketType.GoAway:
      return m.requestId === 0 && m.payload.length >= 2 ? "goaway" : "violation";
    case PacketType.Ping:
      return isOwnRequestId(peer, m.requestId) ? "request" : "violation";
    case PacketType.Pong:
      return isOwnRequestId(role, m.requestId) ? "reply" : "violation";
    case PacketType.Error:
      // Only servers send Error (§4).
      if (role !== "client" || m.payload.length < 6) return "violation";
      if (m.requestId === 0) return "connection_error";
      return isOwnRequestId(role, m.requestId) ? "reply" : "violation";
    default:
      if (!isApplicationType(m.type)) return "violation";
      // v1: only clients send application requests; the server replies with the same type.
      if (role === "server") return isOwnRequestId("client", m.requestId) ? "request" : "violation";
      return isOwnRequestId("client", m.requestId) ? "reply" : "violation";
  }
}
