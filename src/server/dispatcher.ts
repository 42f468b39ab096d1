/** Handlers by application type (0x20–0x7F), each with a priority, timeout and payload limit. */

import { SomnyError } from "../errors.ts";
import {
  APP_TYPE_MAX,
  APP_TYPE_MIN,
  MAX_PAYLOAD_BYTES,
  Priority,
  type WireErrorCode,
} from "../protocol/mod.ts";

/** Who is asking: what a handler may know about its session. */
export interface SessionInfo {
  /** Hex session id from the ServerHello. */
  readonly id: string;
  /** Remote IP address. */
  readonly remoteAddr: string;
  /** The psk id the session authenticated with. */
  readonly pskId: string;
}

/** One request, as a handler sees it. */
export interface RequestContext {
  readonly type: number;
  readonly requestId: number;
  /** Valid for the duration of the call. Copy it to keep it. */
  readonly payload: Uint8Array;
  readonly session: SessionInfo;
  /** Aborted when the handler times out or the session ends. */
  readonly signal: AbortSignal;
}

/**
 * A request handler. Return the reply payload (sent with the request's type
 * and id), synchronously or as a promise. Throw {@linkcode HandlerError} to
 * answer with a specific Error code; any other exception answers Error 4.
 */
export type Handler = (ctx: RequestContext) => Uint8Array | Promise<Uint8Array>;

/** Options for {@linkcode Dispatcher.register}. */
export interface HandlerOptions {
  /** @default Priority.Normal */
  readonly priority?: Priority;
  /** Handler deadline; Error 4 after it. @default the server's handlerTimeoutMs */
  readonly timeoutMs?: number;
  /** Largest accepted payload; larger requests get Error 7. @default 65 470 */
  readonly maxPayloadBytes?: number;
}

/** A registered handler with resolved options. */
export interface HandlerEntry {
  readonly type: number;
  readonly handler: Handler;
  readonly priority: Priority;
  readonly timeoutMs: number | undefined;
  readonly maxPayloadBytes: number;
}

/** Thrown by a handler to answer with a chosen Error code (e.g. 2 malformed request). */
export class HandlerError extends SomnyError {
  readonly wireCode: WireErrorCode;
  readonly retryAfterMs: number;
  constructor(wireCode: WireErrorCode, message: string, retryAfterMs = 0) {
    super("REMOTE_ERROR", message);
    this.wireCode = wireCode;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Handlers by type. */
export class Dispatcher {
  readonly #entries = new Map<number, HandlerEntry>();

  /**
   * Register `handler` for `type`.
   * @throws {RangeError} for a type outside 0x20–0x7F, a duplicate, or bad options.
   */
  register(type: number, handler: Handler, options: HandlerOptions = {}): this {
    if (!Number.isInteger(type) || type < APP_TYPE_MIN || type > APP_TYPE_MAX) {
      throw new RangeError(`Handler type must be 0x20–0x7F, got ${type}`);
    }
    if (this.#entries.has(type)) {
      throw new RangeError(`A handler for type 0x${type.toString(16)} is already registered`);
    }
    const max = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(max) || max < 0 || max > MAX_PAYLOAD_BYTES) {
      throw new RangeError(`maxPayloadBytes must be 0–${MAX_PAYLOAD_BYTES}`);
    }
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new RangeError("timeoutMs must be positive");
    }
    this.#entries.set(type, {
      type,
      handler,
      priority: options.priority ?? Priority.Normal,
      timeoutMs: options.timeoutMs,
      maxPayloadBytes: max,
    });
    return this;
  }

  /** The entry for `type`, if any. */
  get(type: number): HandlerEntry | undefined {
    return this.#entries.get(type);
  }

  /** Registered types. */
  types(): number[] {
    return [...this.#entries.keys()];
  }
}
