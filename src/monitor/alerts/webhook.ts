/**
 * Delivery of alert events to a webhook (`ALERT_WEBHOOK_URL`, off by default):
 * a bounded queue, one delivery at a time, a timeout per attempt, retries
 * with exponential backoff. Nothing here throws into the caller, and the
 * URL's path, query and credentials are never logged (only its origin).
 *
 * @module
 */

import { type Clock, type Logger, noopLogger, systemClock } from "../../util/mod.ts";
import type { Alert } from "../types.ts";
import type { AlertEvent, AlertListener } from "./alert_manager.ts";

/** Events a webhook receives. */
export type WebhookEventKind = "raised" | "escalated" | "resolved";

/** The JSON body POSTed for each event. */
export interface WebhookPayload {
  /** What happened. */
  readonly event: WebhookEventKind;
  /** The alert after the change. */
  readonly alert: Alert;
}

/** Sleeps `ms`; rejects or resolves early when `signal` aborts. */
export type SleepFn = (ms: number, signal: AbortSignal) => Promise<void>;

/** Options of {@linkcode WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** Destination (http or https). Treated as a secret: only its origin is logged. */
  readonly url: string;
  /**
   * Longest wait for one attempt's response.
   * @default {5000}
   */
  readonly timeoutMs?: number;
  /**
   * Events waiting for delivery; when full, the oldest is dropped (and counted).
   * @default {100}
   */
  readonly maxQueue?: number;
  /**
   * Retries after a failed attempt (network error, timeout, 408, 429, 5xx);
   * other 4xx are not retried.
   * @default {3}
   */
  readonly maxRetries?: number;
  /**
   * Wait before the first retry; doubled each retry.
   * @default {500}
   */
  readonly backoffMs?: number;
  /**
   * Longest wait between retries.
   * @default {30000}
   */
  readonly maxBackoffMs?: number;
  /** Timer source for the timeout and the default sleep. @default {systemClock} */
  readonly clock?: Clock;
  /** Backoff sleep (tests pass one that returns at once). @default a `clock` timer */
  readonly sleep?: SleepFn;
  /**
   * The HTTP client. @default globalThis.fetch
   * @default {globalThis.fetch}
   */
  readonly fetch?: typeof fetch;
  /**
   * Receives delivery failures (with the origin only).
   * @default {noopLogger}
   */
  readonly logger?: Logger;
}

/** Delivery counters of a {@linkcode WebhookNotifier}. */
export interface WebhookStats {
  /** Events delivered (a 2xx response). */
  readonly delivered: number;
  /** Events given up on after all attempts (or a non-retryable response). */
  readonly failed: number;
  /** Attempts that failed (each retry's failure counts). */
  readonly failedAttempts: number;
  /** Retries made. */
  readonly retries: number;
  /** Events dropped because the queue was full or the notifier closed. */
  readonly dropped: number;
  /** Events waiting now (not counting the one in flight). */
  readonly queued: number;
}

/** Something with an `onChange` subscription, such as `AlertManager`. */
export interface AlertEventSource {
  /** Subscribe; returns an unsubscribe function. */
  onChange(listener: AlertListener): () => void;
}

const FORWARDED: ReadonlySet<string> = new Set(["raised", "escalated", "resolved"]);

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Cannot create WebhookNotifier: ${name} ${value} is not >= ${min}`);
  }
  return value;
}

function parseTarget(raw: string): { url: string; origin: string; auth: string | undefined } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // Never echo the URL: it may carry a token.
    throw new TypeError("Cannot create WebhookNotifier: url is not a valid URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(
      `Cannot create WebhookNotifier: url scheme "${u.protocol}" is not http: or https:`,
    );
  }
  let auth: string | undefined;
  if (u.username || u.password) {
    // fetch refuses URLs with credentials (Fetch standard); send them as Basic auth.
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    auth = "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${pass}`)));
    u.username = "";
    u.password = "";
  }
  return { url: u.href, origin: u.origin, auth };
}

/** Why an attempt failed, in words safe to log (never the error text: it may contain the URL). */
type Outcome = { ok: true } | { ok: false; retry: boolean; reason: string };

/**
 * POSTs `{ event, alert }` JSON to a webhook for every `raised`,
 * `escalated` and `resolved` alert event. {@linkcode WebhookNotifier.notify}
 * only enqueues; one background loop delivers in order.
 *
 * @example Wire it to an AlertManager (an injected `fetch` records the POSTs)
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "../../util/mod.ts";
 * import { AlertManager } from "./alert_manager.ts";
 * import { WebhookNotifier } from "./webhook.ts";
 *
 * const bodies: unknown[] = [];
 * const fetchStub = (_url: string | URL | Request, init?: RequestInit) => {
 *   bodies.push(JSON.parse(String(init?.body)));
 *   return Promise.resolve(new Response(null, { status: 204 }));
 * };
 * const clock = new ManualClock(0);
 * const alerts = new AlertManager({ clock });
 * const webhook = new WebhookNotifier({
 *   url: "https://hooks.example.com/T0/abc", clock, fetch: fetchStub as typeof fetch,
 * });
 * const detach = webhook.attach(alerts);
 * alerts.raise({ key: "check:db", level: "error", title: "db down", message: "refused" });
 * await webhook.flush();
 * assert.equal((bodies[0] as { event: string }).event, "raised");
 * assert.equal(webhook.origin, "https://hooks.example.com");
 * detach();
 * await webhook.close();
 * ```
 */
export class WebhookNotifier {
  readonly #url: string;
  readonly #origin: string;
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxQueue: number;
  readonly #maxRetries: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #clock: Clock;
  readonly #sleep: SleepFn;
  readonly #fetch: typeof fetch;
  readonly #log: Logger;
  readonly #queue: WebhookPayload[] = [];
  readonly #stop = new AbortController();
  #worker: Promise<void> | null = null;
  #delivered = 0;
  #failed = 0;
  #failedAttempts = 0;
  #retries = 0;
  #dropped = 0;

  /**
   * Create a notifier; nothing is sent until an event arrives.
   *
   * @param options destination, bounds, timers (see {@linkcode WebhookNotifierOptions})
   * @throws {TypeError} if `url` is not an http(s) URL (the message does not echo it)
   * @throws {RangeError} if a bound is out of range
   */
  constructor(options: WebhookNotifierOptions) {
    const target = parseTarget(options.url);
    this.#url = target.url;
    this.#origin = target.origin;
    this.#auth = target.auth;
    this.#timeoutMs = positiveInt("timeoutMs", options.timeoutMs ?? 5000, 1);
    this.#maxQueue = positiveInt("maxQueue", options.maxQueue ?? 100, 1);
    this.#maxRetries = positiveInt("maxRetries", options.maxRetries ?? 3, 0);
    this.#backoffMs = positiveInt("backoffMs", options.backoffMs ?? 500, 0);
    this.#maxBackoffMs = positiveInt("maxBackoffMs", options.maxBackoffMs ?? 30_000, 0);
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? ((ms, signal) => this.#clockSleep(ms, signal));
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#log = (options.logger ?? noopLogger).child({ webhook: this.#origin });
  }

  /** The destination's origin (scheme, host, port): the only part safe to show. */
  get origin(): string {
    return this.#origin;
  }

  /** Delivery counters. */
  get stats(): WebhookStats {
    return {
      delivered: this.#delivered,
      failed: this.#failed,
      failedAttempts: this.#failedAttempts,
      retries: this.#retries,
      dropped: this.#dropped,
      queued: this.#queue.length,
    };
  }

  /**
   * Enqueue an event for delivery. `acknowledged` events are ignored. When
   * the queue is full the oldest waiting event is dropped. Never throws.
   *
   * @param event an alert event (from `AlertManager.onChange`)
   */
  notify(event: AlertEvent): void {
    if (!FORWARDED.has(event.event)) return;
    if (this.#stop.signal.aborted) {
      this.#dropped++;
      return;
    }
    this.#queue.push({ event: event.event as WebhookEventKind, alert: event.alert });
    while (this.#queue.length > this.#maxQueue) {
      this.#queue.shift();
      this.#dropped++;
    }
    if (this.#worker === null) {
      this.#worker = this.#run().finally(() => {
        this.#worker = null;
      });
    }
  }

  /**
   * Subscribe to a manager's changes.
   *
   * @param source an `AlertManager` (anything with `onChange`)
   * @returns a function that unsubscribes
   */
  attach(source: AlertEventSource): () => void {
    return source.onChange((event) => this.notify(event));
  }

  /**
   * Wait until every queued event is delivered or given up on.
   *
   * @returns a promise that resolves when the queue is empty and idle
   */
  async flush(): Promise<void> {
    while (this.#worker !== null) await this.#worker;
  }

  /**
   * Stop: abort the attempt in flight and any backoff wait, drop what is
   * queued (counted in `dropped`), refuse later events.
   *
   * @returns a promise that resolves when the delivery loop has stopped
   */
  async close(): Promise<void> {
    if (!this.#stop.signal.aborted) this.#stop.abort();
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
    await this.flush();
  }

  async #run(): Promise<void> {
    // Start after the current turn, so a burst of events is queued first.
    await Promise.resolve();
    while (this.#queue.length > 0 && !this.#stop.signal.aborted) {
      const payload = this.#queue.shift()!;
      try {
        await this.#deliver(payload);
      } catch (err) {
        // Unexpected (a throwing logger or sleep): count it, keep the loop alive.
        this.#failed++;
        this.#log.error("alert webhook delivery failed", { id: payload.alert.id, err });
      }
    }
  }

  async #deliver(payload: WebhookPayload): Promise<void> {
    const body = JSON.stringify(payload);
    for (let attempt = 0;; attempt++) {
      const outcome = await this.#attempt(body);
      if (outcome.ok) {
        this.#delivered++;
        return;
      }
      this.#failedAttempts++;
      if (this.#stop.signal.aborted) {
        this.#dropped++;
        return;
      }
      if (!outcome.retry || attempt >= this.#maxRetries) {
        this.#failed++;
        this.#log.warn("alert webhook delivery failed", {
          id: payload.alert.id,
          event: payload.event,
          reason: outcome.reason,
          attempts: attempt + 1,
        });
        return;
      }
      const waitMs = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** attempt);
      this.#log.debug("alert webhook attempt failed, retrying", {
        id: payload.alert.id,
        reason: outcome.reason,
        attempt: attempt + 1,
        waitMs,
      });
      this.#retries++;
      await this.#sleep(waitMs, this.#stop.signal);
      if (this.#stop.signal.aborted) {
        this.#dropped++;
        return;
      }
    }
  }

  async #attempt(body: string): Promise<Outcome> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = this.#clock.setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, this.#timeoutMs);
    const onStop = () => ctl.abort();
    this.#stop.signal.addEventListener("abort", onStop, { once: true });
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "somnytoo-alerts",
      };
      if (this.#auth) headers.authorization = this.#auth;
      const res = await this.#fetch(this.#url, {
        method: "POST",
        headers,
        body,
        signal: ctl.signal,
        redirect: "manual",
      });
      // Free the connection; the receiver's body is not used.
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      return { ok: false, retry, reason: `http ${res.status}` };
    } catch {
      // The error text may contain the full URL: log a category only.
      const reason = timedOut ? "timeout" : this.#stop.signal.aborted ? "closed" : "network error";
      return { ok: false, retry: true, reason };
    } finally {
      this.#clock.clearTimeout(timer);
      this.#stop.signal.removeEventListener("abort", onStop);
    }
  }

  #clockSleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        this.#clock.clearTimeout(handle);
        resolve();
      };
      const handle = this.#clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
