/**
 * The alert book: one open alert per condition key, repeats folded into it,
 * escalation on a higher level, resolution when the condition clears, and a
 * bounded, aged history.
 *
 * @module
 */

import { type Clock, type Logger, noopLogger, systemClock } from "../../util/mod.ts";
import type { Alert, AlertLevel } from "../types.ts";

/**
 * Every {@linkcode AlertLevel}, lowest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ALERT_LEVELS } from "./alert_manager.ts";
 * assert.equal(ALERT_LEVELS.indexOf("critical"), 3);
 * ```
 */
export const ALERT_LEVELS: readonly AlertLevel[] = Object.freeze([
  "info",
  "warning",
  "error",
  "critical",
]);

const RANK: Readonly<Record<AlertLevel, number>> = { info: 0, warning: 1, error: 2, critical: 3 };

/**
 * Compare two levels: negative when `a` is lower than `b`, 0 when equal,
 * positive when higher.
 *
 * @param a a level
 * @param b another level
 * @returns the rank difference `rank(a) - rank(b)`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareAlertLevels } from "./alert_manager.ts";
 * assert.ok(compareAlertLevels("critical", "warning") > 0);
 * ```
 */
export function compareAlertLevels(a: AlertLevel, b: AlertLevel): number {
  return RANK[a] - RANK[b];
}

/** What {@linkcode AlertManager.raise} takes. */
export interface RaiseAlertInput {
  /** The condition ("check:database", "threshold:memory_rss"): at most one open alert per key. */
  readonly key: string;
  /** How bad it is. */
  readonly level: AlertLevel;
  /** One short, secret-free line. */
  readonly title: string;
  /** Secret-free detail. */
  readonly message: string;
}

/**
 * Why a listener is called: `raised` (a new alert), `escalated` (a repeat at
 * a higher level), `resolved`, `acknowledged`. Repeats at the same or a lower
 * level call no listener.
 */
export type AlertEventKind = "raised" | "escalated" | "resolved" | "acknowledged";

/** What {@linkcode AlertManager.onChange} listeners receive. */
export interface AlertEvent {
  /** What happened. */
  readonly event: AlertEventKind;
  /** The alert after the change. */
  readonly alert: Alert;
}

/** A change listener; its exceptions are caught and logged. */
export type AlertListener = (event: AlertEvent) => void;

/** Filters of {@linkcode AlertManager.list}. */
export interface ListAlertsOptions {
  /** `true`: only open alerts; `false`: only resolved ones; absent: both. */
  readonly open?: boolean;
  /** Only this level. */
  readonly level?: AlertLevel;
  /** Only this level or higher. */
  readonly minLevel?: AlertLevel;
  /** Only alerts whose acknowledgement state matches. */
  readonly acknowledged?: boolean;
  /** At most this many (newest first). */
  readonly limit?: number;
}

/** Options of {@linkcode AlertManager}. */
export interface AlertManagerOptions {
  /**
   * Alerts kept (open and resolved). Over the bound, the oldest resolved
   * alert is dropped first, then the oldest open one.
   * @default {1000}
   */
  readonly maxAlerts?: number;
  /**
   * Resolved alerts older than this (by `resolvedAtMs`) are dropped by
   * {@linkcode AlertManager.prune} and on every new alert. Open alerts are
   * never aged out: their condition still holds.
   * @default {7}
   */
  readonly retentionDays?: number;
  /**
   * Source of timestamps.
   * @default {systemClock}
   */
  readonly clock?: Clock;
  /** Receives listener failures and level changes. @default {noopLogger} */
  readonly logger?: Logger;
}

const DAY_MS = 86_400_000;
/** Longest title/message/acknowledger kept (longer ones are cut). */
const MAX_TEXT = 1000;

function cut(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT - 1) + "…" : text;
}

function freezeAlert(a: Alert): Alert {
  return Object.freeze({ ...a });
}

/**
 * Keeps alerts: {@linkcode AlertManager.raise} opens one per key or folds a
 * repeat into the open one, {@linkcode AlertManager.resolve} closes it.
 * Listeners hear `raised`, `escalated`, `resolved` and `acknowledged`, never
 * plain repeats. Alerts handed out are frozen snapshots.
 *
 * @example De-duplication and escalation
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "../../util/mod.ts";
 * import { AlertManager } from "./alert_manager.ts";
 *
 * const alerts = new AlertManager({ clock: new ManualClock(0) });
 * const events: string[] = [];
 * alerts.onChange((e) => events.push(e.event));
 * alerts.raise({ key: "check:db", level: "warning", title: "db slow", message: "p99 900 ms" });
 * alerts.raise({ key: "check:db", level: "warning", title: "db slow", message: "p99 950 ms" });
 * const a = alerts.raise({ key: "check:db", level: "error", title: "db down", message: "refused" });
 * assert.equal(a.occurrences, 3);
 * assert.deepEqual(events, ["raised", "escalated"]);
 * alerts.resolve("check:db");
 * assert.equal(alerts.list({ open: true }).length, 0);
 * ```
 */
export class AlertManager {
  readonly #maxAlerts: number;
  readonly #retentionMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** id → alert, in raise order (ids only grow, so this is oldest first). */
  readonly #alerts = new Map<string, Alert>();
  /** key → id of its open alert. */
  readonly #open = new Map<string, string>();
  readonly #listeners = new Set<AlertListener>();
  #nextId = 1;

  /**
   * Create an empty alert book.
   *
   * @param options bounds, clock and logger (see {@linkcode AlertManagerOptions})
   * @throws {RangeError} if `maxAlerts` is not a positive integer or
   *   `retentionDays` is not a positive number
   */
  constructor(options: AlertManagerOptions = {}) {
    const maxAlerts = options.maxAlerts ?? 1000;
    if (!Number.isSafeInteger(maxAlerts) || maxAlerts < 1) {
      throw new RangeError(`Cannot create AlertManager: maxAlerts ${maxAlerts} is not >= 1`);
    }
    const retentionDays = options.retentionDays ?? 7;
    if (!(retentionDays > 0) || !Number.isFinite(retentionDays)) {
      throw new RangeError(
        `Cannot create AlertManager: retentionDays ${retentionDays} is not a positive number`,
      );
    }
    this.#maxAlerts = maxAlerts;
    this.#retentionMs = retentionDays * DAY_MS;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? noopLogger;
  }

  /** Number of alerts kept (open and resolved). */
  get size(): number {
    return this.#alerts.size;
  }

  /** Number of open alerts. */
  get openCount(): number {
    return this.#open.size;
  }

  /**
   * Open an alert for `input.key`, or fold this repeat into the open one
   * (`occurrences + 1`, `lastSeenAtMs = now`). A repeat at a higher level
   * escalates the alert (level, title and message replaced) and notifies
   * `escalated`; at the same level it refreshes title and message silently;
   * at a lower level it only counts.
   *
   * @param input key, level, title, message
   * @returns the alert after the call
   * @throws {TypeError} if `key` or `title` is empty or `level` is unknown
   */
  raise(input: RaiseAlertInput): Alert {
    const { key, level } = input;
    if (typeof key !== "string" || key.length === 0) {
      throw new TypeError("Cannot raise alert: key is empty");
    }
    if (!(level in RANK)) throw new TypeError(`Cannot raise alert: unknown level "${level}"`);
    if (typeof input.title !== "string" || input.title.length === 0) {
      throw new TypeError("Cannot raise alert: title is empty");
    }
    const title = cut(input.title);
    const message = cut(String(input.message ?? ""));
    const now = this.#clock.now();

    const openId = this.#open.get(key);
    if (openId !== undefined) {
      const cur = this.#alerts.get(openId)!;
      const diff = compareAlertLevels(level, cur.level);
      const next = freezeAlert({
        ...cur,
        level: diff > 0 ? level : cur.level,
        title: diff >= 0 ? title : cur.title,
        message: diff >= 0 ? message : cur.message,
        lastSeenAtMs: now,
        occurrences: cur.occurrences + 1,
      });
      this.#alerts.set(openId, next);
      if (diff > 0) {
        this.#log.warn("alert escalated", { id: next.id, condition: key, level, from: cur.level });
        this.#emit({ event: "escalated", alert: next });
      }
      return next;
    }

    const alert = freezeAlert({
      id: `a-${this.#nextId++}`,
      key,
      level,
      title,
      message,
      raisedAtMs: now,
      lastSeenAtMs: now,
      occurrences: 1,
      resolvedAtMs: null,
      acknowledgedAtMs: null,
      acknowledgedBy: null,
    });
    this.#alerts.set(alert.id, alert);
    this.#open.set(key, alert.id);
    this.#pruneAt(now);
    this.#enforceBound();
    this.#log.warn("alert raised", { id: alert.id, condition: key, level });
    this.#emit({ event: "raised", alert });
    return alert;
  }

  /**
   * Close the open alert for `key` (`resolvedAtMs = now`) and notify `resolved`.
   *
   * @param key the condition key
   * @returns the resolved alert, or `undefined` if none was open
   */
  resolve(key: string): Alert | undefined {
    const id = this.#open.get(key);
    if (id === undefined) return undefined;
    this.#open.delete(key);
    const cur = this.#alerts.get(id)!;
    const next = freezeAlert({ ...cur, resolvedAtMs: this.#clock.now() });
    this.#alerts.set(id, next);
    this.#log.info("alert resolved", { id, condition: key });
    this.#emit({ event: "resolved", alert: next });
    return next;
  }

  /**
   * Mark an alert (open or resolved) as acknowledged by `by` and notify
   * `acknowledged`. Acknowledging twice keeps the first acknowledgement.
   *
   * @param id the alert id ("a-3")
   * @param by who acknowledged (an operator name; secret-free)
   * @returns the alert, or `undefined` if no alert has this id
   * @throws {TypeError} if `by` is empty
   */
  acknowledge(id: string, by: string): Alert | undefined {
    if (typeof by !== "string" || by.trim().length === 0) {
      throw new TypeError("Cannot acknowledge alert: acknowledger is empty");
    }
    const cur = this.#alerts.get(id);
    if (cur === undefined) return undefined;
    if (cur.acknowledgedAtMs !== null) return cur;
    const next = freezeAlert({
      ...cur,
      acknowledgedAtMs: this.#clock.now(),
      acknowledgedBy: cut(by.trim()),
    });
    this.#alerts.set(id, next);
    this.#emit({ event: "acknowledged", alert: next });
    return next;
  }

  /**
   * The alert with this id.
   *
   * @param id the alert id
   * @returns the alert, or `undefined`
   */
  get(id: string): Alert | undefined {
    return this.#alerts.get(id);
  }

  /**
   * The open alert for a condition key.
   *
   * @param key the condition key
   * @returns the open alert, or `undefined`
   */
  openFor(key: string): Alert | undefined {
    const id = this.#open.get(key);
    return id === undefined ? undefined : this.#alerts.get(id);
  }

  /**
   * Alerts matching the filters, newest first (by raise order).
   *
   * @param options filters (see {@linkcode ListAlertsOptions})
   * @returns a new array of frozen alerts
   * @throws {RangeError} if `limit` is not a non-negative integer
   */
  list(options: ListAlertsOptions = {}): Alert[] {
    const limit = options.limit ?? Infinity;
    if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new RangeError(`Cannot list alerts: limit ${limit} is not a non-negative integer`);
    }
    const minRank = options.minLevel === undefined ? -1 : RANK[options.minLevel];
    const all = [...this.#alerts.values()];
    const out: Alert[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const a = all[i];
      if (options.open !== undefined && (a.resolvedAtMs === null) !== options.open) continue;
      if (options.level !== undefined && a.level !== options.level) continue;
      if (RANK[a.level] < minRank) continue;
      if (
        options.acknowledged !== undefined &&
        (a.acknowledgedAtMs !== null) !== options.acknowledged
      ) continue;
      out.push(a);
    }
    return out;
  }

  /**
   * Subscribe to changes (`raised`, `escalated`, `resolved`, `acknowledged`).
   * Listeners run synchronously; their exceptions are logged, not rethrown.
   *
   * @param listener called after each change
   * @returns a function that unsubscribes
   */
  onChange(listener: AlertListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Drop resolved alerts older than `retentionDays` (by `resolvedAtMs`).
   * Call it periodically; it also runs on every new alert.
   *
   * @returns how many alerts were dropped
   */
  prune(): number {
    return this.#pruneAt(this.#clock.now());
  }

  #pruneAt(now: number): number {
    const cutoff = now - this.#retentionMs;
    let dropped = 0;
    for (const [id, a] of this.#alerts) {
      if (a.resolvedAtMs !== null && a.resolvedAtMs < cutoff) {
        this.#alerts.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  #enforceBound(): void {
    while (this.#alerts.size > this.#maxAlerts) {
      let victim: Alert | undefined;
      for (const a of this.#alerts.values()) {
        if (a.resolvedAtMs !== null) {
          victim = a;
          break;
        }
      }
      // No resolved alert left: drop the oldest open one (its condition is forgotten).
      victim ??= this.#alerts.values().next().value!;
      this.#alerts.delete(victim.id);
      if (this.#open.get(victim.key) === victim.id) this.#open.delete(victim.key);
    }
  }

  #emit(event: AlertEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.#log.error("alert listener failed", { event: event.event, id: event.alert.id, err });
      }
    }
  }
}
