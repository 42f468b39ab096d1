/**
 * The outgoing side of a connection's "process" stage: collects everything a
 * session sends during one turn of the event loop into one batch (one write
 * downstream), and watches the queue so a peer that stops reading is cut off
 * instead of buffered without end (protocol-v1 §6).
 */

import type { Outbound } from "./pipeline.ts";

/** Queuing strategy size of a batch: payload bytes plus per-frame overhead. */
export function outboundBatchBytes(batch: Outbound[]): number {
  let n = 0;
  for (const o of batch) n += ("raw" in o ? o.raw.length : o.payload.length) + 64;
  return n;
}

/** Options for {@linkcode Outbox}. */
export interface OutboxOptions {
  /** Queued bytes beyond which `onOverflow` is called. */
  readonly maxQueuedBytes: number;
  /** Called once when the queue exceeds the limit: the peer is not reading. */
  readonly onOverflow: () => void;
  /** Called for each batch handed downstream (an owner can count batches in transit). */
  readonly onBatch?: () => void;
}

/** See module doc. */
export class Outbox {
  #controller: TransformStreamDefaultController<Outbound[]> | undefined;
  #pending: Outbound[] = [];
  #scheduled = false;
  #closed = false;
  readonly #o: OutboxOptions;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  /** A queuing strategy for the process stage's readable side. */
  static strategy(highWaterMarkBytes = 64 * 1024): QueuingStrategy<Outbound[]> {
    return { highWaterMark: highWaterMarkBytes, size: outboundBatchBytes };
  }

  /** Connect to the process stage's controller (from its `start`). */
  attach(controller: TransformStreamDefaultController<Outbound[]>): void {
    this.#controller = controller;
  }

  /**
   * Forget the controller (its pipeline is ending while the session stays
   * open). Items sent meanwhile wait for the next `attach`.
   */
  detach(): void {
    this.#controller = undefined;
  }

  /** True when nothing waits to be handed downstream. */
  get empty(): boolean {
    return this.#pending.length === 0;
  }

  /** True once closed: further sends are dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queue one item; it leaves with everything else sent in this turn. */
  send(item: Outbound): void {
    if (this.#closed) return;
    this.#pending.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Hand the pending batch downstream now (if a controller is attached). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 || !this.#controller) return;
    const batch = this.#pending;
    this.#pending = [];
    try {
      this.#controller.enqueue(batch);
      this.#o.onBatch?.();
    } catch {
      this.#closed = true; // stream already closing
      return;
    }
    const desired = this.#controller.desiredSize;
    if (desired !== null && -desired > this.#o.maxQueuedBytes) {
      this.#closed = true;
      this.#o.onOverflow();
    }
  }

  /** Flush, then end the stream: queued frames still go out, then the socket's write side closes. */
  close(): void {
    if (this.#closed && this.#pending.length === 0) {
      this.#terminate();
      return;
    }
    this.flush();
    this.#closed = true;
    this.#terminate();
  }

  #terminate(): void {
    try {
      this.#controller?.terminate();
    } catch { /* already closed */ }
  }
}
