/**
 * Server-wide priority scheduler: bounds handlers in flight across all
 * sessions, queues the rest by priority, and under overload sheds the lowest
 * priority first (protocol-v1 §4: Error 5 with retry_after_ms). Urgent work
 * is never queued.
 */

import { Priority } from "../protocol/mod.ts";

/** Options for {@linkcode PriorityScheduler}. */
export interface PrioritySchedulerOptions {
  /** Handlers running at once, all sessions together. */
  readonly maxConcurrent: number;
  /** Requests waiting for a slot; beyond it the lowest priority is shed. */
  readonly maxQueued: number;
}

/** A unit of work. Returning a promise keeps its slot until it settles. */
export type Task = () => void | Promise<void>;
/** Called instead of the task when it is shed. */
export type ShedCallback = (retryAfterMs: number) => void;

interface Queued {
  readonly task: Task;
  readonly shed: ShedCallback;
  /** Left the queue (started, shed, evicted or cancelled). */
  removed: boolean;
}

/** Removes a queued task (a no-op once it has started or been shed). */
export type CancelQueued = () => void;

const NOOP: CancelQueued = () => {};

const PRIORITIES = [Priority.Urgent, Priority.High, Priority.Normal, Priority.Low] as const;

/** See module doc. */
export class PriorityScheduler {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  #queues: Queued[][] = [[], [], [], []];
  #queued = 0;
  #stale = 0;
  #pumping = false;
  #running = 0;
  #shed = 0;
  // EWMA of async task duration, for retry_after_ms estimates.
  #avgMs = 5;

  constructor(options: PrioritySchedulerOptions) {
    if (!(options.maxConcurrent >= 1) || !(options.maxQueued >= 0)) {
      throw new RangeError("maxConcurrent must be ≥ 1 and maxQueued ≥ 0");
    }
    this.#maxConcurrent = options.maxConcurrent;
    this.#maxQueued = options.maxQueued;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }
  /** Tasks waiting. */
  get queued(): number {
    return this.#queued;
  }
  /** Tasks shed since start. */
  get shedCount(): number {
    return this.#shed;
  }

  /** A hint for `retry_after_ms`: time for the current backlog to clear. */
  retryAfterMs(): number {
    const est = ((this.#queued + this.#running) / this.#maxConcurrent) * this.#avgMs;
    return Math.round(Math.min(5000, Math.max(50, est)));
  }

  /**
   * Run `task` now, queue it, or shed it (now or later, if evicted by higher
   * priority work). Returns a function that removes it from the queue, for a
   * session that ends while its requests wait.
   */
  submit(priority: Priority, task: Task, shed: ShedCallback): CancelQueued {
    if (priority === Priority.Urgent || this.#running < this.#maxConcurrent) {
      this.#start(task);
      return NOOP;
    }
    if (this.#queued >= this.#maxQueued) {
      // Evict the newest entry of the lowest priority below ours, if any.
      let victim: Queued | undefined;
      for (let p = PRIORITIES.length - 1; p > priority && !victim; p--) {
        victim = this.#take(this.#queues[p], "newest");
      }
      if (!victim) {
        this.#shed++;
        shed(this.retryAfterMs());
        return NOOP;
      }
      this.#shed++;
      victim.shed(this.retryAfterMs());
    }
    const entry: Queued = { task, shed, removed: false };
    this.#queues[priority].push(entry);
    this.#queued++;
    return () => {
      if (entry.removed) return;
      entry.removed = true; // stays in its array until skipped or compacted
      this.#queued--;
      this.#stale++;
      if (this.#stale > 1024 && this.#stale > this.#queued) this.#compact();
    };
  }

  /** Shed everything queued (shutdown). */
  shedAll(retryAfterMs: number): void {
    for (const q of this.#queues) {
      for (const item of q.splice(0)) {
        if (item.removed) continue;
        item.removed = true;
        this.#shed++;
        item.shed(retryAfterMs);
      }
    }
    this.#queued = 0;
    this.#stale = 0;
  }

  #start(task: Task): void {
    this.#running++;
    let r: void | Promise<void>;
    try {
      r = task();
    } catch {
      r = undefined; // tasks handle their own errors; never let one break the scheduler
    }
    if (r instanceof Promise) {
      const t0 = performance.now();
      r.catch(() => {}).finally(() => {
        this.#avgMs = this.#avgMs * 0.9 + (performance.now() - t0) * 0.1;
        this.#release();
      });
    } else {
      this.#release();
    }
  }

  #release(): void {
    this.#running--;
    // One loop drains the queue; a synchronous task finishing inside it only
    // frees its slot, so draining N tasks never nests N calls deep.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#running < this.#maxConcurrent && this.#queued > 0) {
        let next: Queued | undefined;
        for (const q of this.#queues) {
          next = this.#take(q, "oldest");
          if (next) break;
        }
        if (!next) break;
        this.#start(next.task);
      }
    } finally {
      this.#pumping = false;
    }
  }

  // Remove and return the oldest (FIFO) or newest live entry of `q`.
  #take(q: Queued[], end: "oldest" | "newest"): Queued | undefined {
    for (;;) {
      const e = end === "oldest" ? q.shift() : q.pop();
      if (!e) return undefined;
      if (e.removed) {
        this.#stale--;
        continue;
      }
      e.removed = true;
      this.#queued--;
      return e;
    }
  }

  // Drop cancelled entries so a stream of cancellations cannot grow the arrays.
  #compact(): void {
    for (let i = 0; i < this.#queues.length; i++) {
      this.#queues[i] = this.#queues[i].filter((e) => !e.removed);
    }
    this.#stale = 0;
  }
}
