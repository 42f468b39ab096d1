/** Errors a client reports. */

import { SessionError } from "../errors.ts";

/** The server answered a request with an Error frame (protocol-v1 §4). */
export class RemoteError extends SessionError {
  /** The wire error code (1 unknown type … 7 request too large). */
  readonly wireCode: number;
  /** Server's hint for codes 3 and 5; 0 otherwise. */
  readonly retryAfterMs: number;
  constructor(wireCode: number, retryAfterMs: number, message: string) {
    super("REMOTE_ERROR", `Server error ${wireCode}: ${message}`);
    this.wireCode = wireCode;
    this.retryAfterMs = retryAfterMs;
  }
}

/** How and why a session ended. */
export interface CloseInfo {
  /** "goaway" when the server sent GoAway, "local" for close(), "error" otherwise. */
  readonly cause: "goaway" | "local" | "idle" | "error" | "eof";
  /** GoAway reason code when `cause` is "goaway". */
  readonly goAwayReason?: number;
  readonly message: string;
}

/** The request was not sent: the session is not open (yet, or any more). Safe to retry elsewhere. */
export class NotSentError extends SessionError {}
