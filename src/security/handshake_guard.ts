/**
 * Refuses connections at accept from an address that failed too many
 * handshakes in the last minute (HANDSHAKE_FAILURE_LIMIT, 0 disables).
 * Allow-listed addresses are never refused. Memory is bounded: at most
 * `maxTrackedIps` addresses are tracked, least recently failed evicted first.
 */

import { type Clock, LruMap } from "../util/mod.ts";
import { type IpRules, trackingKey } from "./ip_rules.ts";

/** Options for {@linkcode HandshakeGuard}. */
export interface HandshakeGuardOptions {
  /** Failures per window that trigger refusal; 0 disables. */
  readonly failureLimit: number;
  /** @default 60 000 */
  readonly windowMs?: number;
  /** How long refusal lasts once triggered. @default windowMs */
  readonly refuseForMs?: number;
  /** @default 100 000 */
  readonly maxTrackedIps?: number;
  readonly allowList: IpRules;
  readonly clock: Clock;
}

interface Entry {
  windowStart: number;
  failures: number;
  refusedUntil: number;
}

/** See module doc. */
export class HandshakeGuard {
  #o: Required<HandshakeGuardOptions>;
  readonly #entries = new LruMap<string, Entry>();

  constructor(options: HandshakeGuardOptions) {
    const windowMs = options.windowMs ?? 60_000;
    this.#o = {
      ...options,
      windowMs,
      refuseForMs: options.refuseForMs ?? windowMs,
      maxTrackedIps: options.maxTrackedIps ?? 100_000,
    };
  }

  /** Change the failure limit at runtime (0 disables refusal). */
  setFailureLimit(limit: number): void {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError("failure limit must be an integer ≥ 0");
    }
    this.#o = { ...this.#o, failureLimit: limit };
  }

  /** Addresses tracked now. */
  get trackedIps(): number {
    return this.#entries.size;
  }

  /** False when `address` must be refused at accept. */
  allow(address: string): boolean {
    if (this.#o.failureLimit === 0) return true;
    const e = this.#entries.get(trackingKey(address));
    if (!e) return true;
    return e.refusedUntil <= this.#o.clock.monotonic() || this.#o.allowList.matches(address);
  }

  /** Count one failed handshake from `address`. Returns true if it is now refused. */
  recordFailure(address: string): boolean {
    if (this.#o.failureLimit === 0 || this.#o.allowList.matches(address)) return false;
    const key = trackingKey(address);
    const now = this.#o.clock.monotonic();
    let e = this.#entries.get(key);
    if (!e || now - e.windowStart >= this.#o.windowMs) {
      e = { windowStart: now, failures: 0, refusedUntil: e?.refusedUntil ?? 0 };
    }
    e.failures++;
    if (e.failures >= this.#o.failureLimit) e.refusedUntil = now + this.#o.refuseForMs;
    this.#entries.set(key, e);
    if (this.#entries.size > this.#o.maxTrackedIps) this.#entries.evictOldest();
    return e.refusedUntil > now;
  }
}
