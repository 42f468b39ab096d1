/**
 * Heartbeats and idle timeout (protocol-v1 §5) for either side: one timer per
 * session, armed for the earlier of "send a Heartbeat" and "peer idle too
 * long", re-armed only when it fires (not per frame). Time comes from an
 * injected clock.
 */

import type { Clock } from "../util/mod.ts";

/** Options for {@linkcode LivenessTimer}. */
export interface LivenessOptions {
  /** Send a Heartbeat after this long without sending; 0 disables. */
  readonly heartbeatIntervalMs: number;
  /** Give up after this long without receiving; 0 disables. */
  readonly idleTimeoutMs: number;
  readonly onHeartbeatDue: () => void;
  readonly onIdle: () => void;
}

/** See module doc. */
export class LivenessTimer {
  readonly #clock: Clock;
  #o: LivenessOptions;
  #lastRecv: number;
  #lastSent: number;
  #timer: number | undefined;
  #running = false;

  constructor(clock: Clock, options: LivenessOptions) {
    this.#clock = clock;
    this.#o = options;
    this.#lastRecv = this.#lastSent = clock.monotonic();
  }

  /** Start (or restart with new intervals, e.g. the server's from ServerHello). */
  start(intervals?: Pick<LivenessOptions, "heartbeatIntervalMs" | "idleTimeoutMs">): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (intervals) this.#o = { ...this.#o, ...intervals };
    // Count from now (the handshake's end), not from construction (the TCP accept).
    this.#lastRecv = this.#lastSent = this.#clock.monotonic();
    this.#running = true;
    this.#arm();
  }

  /** Monotonic time of the last frame received or sent. */
  get lastActivityMs(): number {
    return Math.max(this.#lastRecv, this.#lastSent);
  }

  /** Note that something was received. */
  received(): void {
    this.#lastRecv = this.#clock.monotonic();
  }

  /** Note that something was sent. */
  sent(): void {
    this.#lastSent = this.#clock.monotonic();
  }

  /** Stop for good. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (!this.#running) return;
    const { heartbeatIntervalMs: hb, idleTimeoutMs: idle } = this.#o;
    const idleAt = idle > 0 ? this.#lastRecv + idle : Infinity;
    const beatAt = hb > 0 ? this.#lastSent + hb : Infinity;
    const at = Math.min(idleAt, beatAt);
    if (at === Infinity) return;
    this.#timer = this.#clock.setTimeout(
      () => this.#fire(),
      Math.max(0, at - this.#clock.monotonic()),
    );
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#clock.monotonic();
    const { heartbeatIntervalMs: hb, idleTimeoutMs: idle } = this.#o;
    if (idle > 0 && now - this.#lastRecv >= idle) {
      this.#running = false;
      this.#o.onIdle();
      return;
    }
    if (hb > 0 && now - this.#lastSent >= hb) {
      this.#o.onHeartbeatDue();
      this.#lastSent = now;
    }
    this.#arm();
  }
}
