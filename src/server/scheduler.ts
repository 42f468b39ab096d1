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
  cancelled: boolean;
}

/** Removes a queued task (a no-op once it has started or been shed). */
export type CancelQueued = () => void;

const NOOP: CancelQueued = () => {};

const PRIORITIES = [Priority.Urgent, Priority.High, Priority.Normal, Priority.Low] as const;

/** See module doc. */
export class PriorityScheduler {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #queues: Queued[][] = [[], [], [], []];
  #queued = 0;
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
        victim = popLive(this.#queues[p]);
      }
      if (!victim) {
        this.#shed++;
        shed(this.retryAfterMs());
        return NOOP;
      }
      this.#queued--;
      this.#shed++;
      victim.shed(this.retryAfterMs());
    }
    const entry: Queued = { task, shed, cancelled: false };
    this.#queues[priority].push(entry);
    this.#queued++;
    return () => {
      if (entry.cancelled) return;
      entry.cancelled = true; // removed lazily; no longer counted
      this.#queued--;
    };
  }

  /** Shed everything queued (shutdown). */
  shedAll(retryAfterMs: number): void {
    for (const q of this.#queues) {
      for (const item of q.splice(0)) {
        if (item.cancelled) continue;
        this.#shed++;
        item.shed(retryAfterMs);
      }
    }
    this.#queued = 0;
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
        this.#done();
      });
    } else {
      this.#done();
    }
  }

  #done(): void {
    this.#running--;
    while (this.#running < this.#maxConcurrent && this.#queued > 0) {
      for (const q of this.#queues) {
        const next = shiftLive(q);
        if (next) {
          this.#queued--;
          this.#start(next.task);
          break;
        }
      }
    }
  }
}

// Cancelled entries stay in their queue until they reach an end; skip them there.
function shiftLive(q: Queued[]): Queued | undefined {
  let e = q.shift();
  while (e?.cancelled) e = q.shift();
  return e;
}

function popLive(q: Queued[]): Queued | undefined {
  let e = q.pop();
  while (e?.cancelled) e = q.pop();
  return e;
}
