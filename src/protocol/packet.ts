/** Frame types, priorities, error codes and GoAway reasons (protocol-v1 §4). */

/** Frame type codes. */
export const PacketType = {
  ClientHello: 0xa0,
  ServerHello: 0xa1,
  Ping: 0x01,
  Pong: 0x02,
  Error: 0x03,
  GoAway: 0x04,
  KeyUpdate: 0x05,
  Heartbeat: 0x10,
  /** The default application type served by every SomnyToo server. */
  Echo: 0x20,
} as const;

/** First application type code. */
export const APP_TYPE_MIN = 0x20;
/** Last application type code. */
export const APP_TYPE_MAX = 0x7f;

/** True for 0x20–0x7F. */
export function isApplicationType(type: number): boolean {
  return type >= APP_TYPE_MIN && type <= APP_TYPE_MAX;
}

/** True for a type allowed after the handshake (control or application). */
export function isTransportType(type: number): boolean {
  return type === PacketType.Ping || type === PacketType.Pong || type === PacketType.Error ||
    type === PacketType.GoAway || type === PacketType.KeyUpdate ||
    type === PacketType.Heartbeat || isApplicationType(type);
}

/** Scheduling priority, highest first (the seed's four levels). */
export const Priority = { Urgent: 0, High: 1, Normal: 2, Low: 3 } as const;
/** One of {@linkcode Priority}'s values. */
export type Priority = typeof Priority[keyof typeof Priority];

/** Control types that are never queued behind application traffic (§4). */
export function isUrgentType(type: number): boolean {
  return type === PacketType.Ping || type === PacketType.Pong || type === PacketType.GoAway ||
    type === PacketType.KeyUpdate || type === PacketType.Heartbeat;
}

/** Error codes carried by Error frames (§4). */
export const WireErrorCode = {
  UnknownType: 1,
  MalformedRequest: 2,
  RateLimited: 3,
  HandlerFailed: 4,
  Overloaded: 5,
  ShuttingDown: 6,
  RequestTooLarge: 7,
} as const;
/** One of {@linkcode WireErrorCode}'s values. */
export type WireErrorCode = typeof WireErrorCode[keyof typeof WireErrorCode];

/** GoAway reasons (§4). */
export const GoAwayReason = {
  Normal: 0,
  IdleTimeout: 1,
  ShuttingDown: 2,
  Policy: 3,
  Overloaded: 4,
  ProtocolError: 5,
} as const;
/** One of {@linkcode GoAwayReason}'s values. */
export type GoAwayReason = typeof GoAwayReason[keyof typeof GoAwayReason];
