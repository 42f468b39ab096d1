/**
 * The shared error kernel: every domain failure is a {@linkcode SomnyError}
 * with a stable string `code` that callers can branch on. Messages name what
 * failed and why; they never contain secrets.
 *
 * @module
 */

/** Stable error codes. Listed, with meanings, in docs/ARCHITECTURE.md. */
export type ErrorCode =
  // config
  | "CONFIG_INVALID"
  | "CONFIG_FILE_UNREADABLE"
  // protocol
  | "FRAME_BAD_MAGIC"
  | "FRAME_BAD_LENGTH"
  | "FRAME_BAD_TYPE"
  | "FRAME_BAD_BODY_SIZE"
  | "HANDSHAKE_FAILED"
  | "TRANSPORT_AUTH_FAILED"
  | "TRANSPORT_BAD_NONCE"
  | "TRANSPORT_STATE"
  | "PAYLOAD_TOO_LARGE"
  | "NONCE_EXHAUSTED"
  // session / client
  | "CONNECTION_CLOSED"
  | "REQUEST_TIMEOUT"
  | "REMOTE_ERROR"
  | "GOAWAY"
  | "TOO_MANY_IN_FLIGHT"
  // server
  | "LIMIT_EXCEEDED"
  | "SERVER_CLOSED"
  // database
  | "DB_UNAVAILABLE"
  | "DB_QUERY_FAILED"
  | "DB_TIMEOUT"
  | "DB_ACQUIRE_TIMEOUT"
  | "DB_SERIALIZATION_FAILURE"
  | "DB_MIGRATION_FAILED"
  | "DB_RATE_LIMITED"
  | "DB_CLOSED"
  // orm
  | "ORM_INVALID_QUERY"
  | "ORM_UNSAFE_QUERY"
  | "SQL_INJECTION_DETECTED"
  | "QUERY_TOO_LONG"
  // security
  | "SECURITY_INVALID_ADDRESS"
  | "SECURITY_INVALID_INPUT";

/** Base class of all SomnyToo errors. */
export class SomnyError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;

  /**
   * @param code a stable {@linkcode ErrorCode}
   * @param message a human-readable sentence without secrets
   * @param options standard `ErrorOptions` (`cause`)
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration (bad variable, unreadable file). */
export class ConfigError extends SomnyError {}

/** A peer violated the wire contract, or authentication failed. */
export class ProtocolError extends SomnyError {}

/** A session- or request-level failure seen by a client. */
export class SessionError extends SomnyError {}

/** An enforced limit was exceeded. */
export class LimitError extends SomnyError {}

/**
 * A database failure: unreachable, timed out, pool exhausted, a failed
 * statement (with PostgreSQL's SQLSTATE in `sqlState` when there is one).
 */
export class DatabaseError extends SomnyError {
  /** PostgreSQL's five-character SQLSTATE, when the server reported one. */
  readonly sqlState: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    options?: ErrorOptions & { sqlState?: string },
  ) {
    super(code, message, options);
    this.sqlState = options?.sqlState;
  }
}

/** A query the ORM refuses to build or run (unknown column, missing WHERE, injection). */
export class OrmError extends SomnyError {}

/** A security operation refused its input (a malformed address or CIDR, a bad duration). */
export class SecurityError extends SomnyError {}
