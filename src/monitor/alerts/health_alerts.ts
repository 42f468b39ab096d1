/**
 * Alert rules: health-check transitions and numeric thresholds, both feeding
 * an {@linkcode AlertManager}.
 *
 * @module
 */

import type { AlertLevel, CheckResult, HealthStatus } from "../types.ts";
import type { AlertManager } from "./alert_manager.ts";

/** Options of {@linkcode watchHealth}. */
export interface WatchHealthOptions {
  /**
   * Checks whose `unhealthy` is `critical` rather than `error` (e.g. "database").
   * @default {[]}
   */
  readonly critical?: readonly string[];
  /**
   * Level of a `degraded` check.
   * @default {"warning"}
   */
  readonly degradedLevel?: AlertLevel;
  /**
   * Level of an `unhealthy` check not listed in `critical`.
   * @default {"error"}
   */
  readonly unhealthyLevel?: AlertLevel;
  /**
   * Prefix of the alert key; the check name follows.
   * @default {"check:"}
   */
  readonly keyPrefix?: string;
}

/** Longest check message copied into an alert. */
const MAX_CHECK_MESSAGE = 300;

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_CHECK_MESSAGE ? flat.slice(0, MAX_CHECK_MESSAGE - 1) + "…" : flat;
}

/**
 * Turn health-check results into alerts. The returned function is meant for
 * the health runner's result subscription: a `degraded` result raises a
 * `warning`, an `unhealthy` one an `error` (`critical` for checks named in
 * `options.critical`), and a `healthy` result resolves the check's alert.
 * A check that stays unhealthy keeps one alert whose `occurrences` and
 * `lastSeenAtMs` grow; going from degraded to unhealthy escalates it; going
 * from unhealthy to degraded keeps it open at its level. Only the check's
 * name, status and its (secret-free by contract) one-line message are used,
 * never its `details`.
 *
 * @param manager where alerts go
 * @param options levels and the critical list (see {@linkcode WatchHealthOptions})
 * @returns a function to call with every {@linkcode CheckResult}
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "../../util/mod.ts";
 * import { AlertManager } from "./alert_manager.ts";
 * import { watchHealth } from "./health_alerts.ts";
 *
 * const alerts = new AlertManager({ clock: new ManualClock(0) });
 * const onResult = watchHealth(alerts, { critical: ["database"] });
 * const at = { latencyMs: 3, checkedAtMs: 0 };
 * onResult({ name: "database", status: "unhealthy", message: "connection refused", ...at });
 * assert.equal(alerts.openFor("check:database")?.level, "critical");
 * onResult({ name: "database", status: "healthy", ...at });
 * assert.equal(alerts.openFor("check:database"), undefined);
 * ```
 */
export function watchHealth(
  manager: AlertManager,
  options: WatchHealthOptions = {},
): (result: CheckResult) => void {
  const critical = new Set(options.critical ?? []);
  const degradedLevel = options.degradedLevel ?? "warning";
  const unhealthyLevel = options.unhealthyLevel ?? "error";
  const prefix = options.keyPrefix ?? "check:";
  const last = new Map<string, HealthStatus>();

  return (result: CheckResult): void => {
    const { name, status } = result;
    const key = prefix + name;
    const previous = last.get(name) ?? "healthy";
    last.set(name, status);
    if (status === "healthy") {
      manager.resolve(key);
      return;
    }
    const level = status === "degraded"
      ? degradedLevel
      : critical.has(name)
      ? "critical"
      : unhealthyLevel;
    const reason = result.message ? oneLine(result.message) : "no reason given";
    const transition = previous === status ? `still ${status}` : `${previous} → ${status}`;
    manager.raise({
      key,
      level,
      title: `Health check "${name}" is ${status}`,
      message: `${reason} (${transition}, latency ${Math.round(result.latencyMs)} ms)`,
    });
  };
}

/** Options of {@linkcode thresholdRule}. */
export interface ThresholdRuleOptions {
  /** Alert key, by convention "threshold:<metric>" (e.g. "threshold:memory_rss"). */
  readonly key: string;
  /** Level of the alert raised. */
  readonly level: AlertLevel;
  /** Reads the current value; a throw or a non-finite value leaves the state unchanged. */
  readonly read: () => number;
  /** The alert is raised while the value is strictly above this. */
  readonly above: number;
  /** Alert title (secret-free). */
  readonly title: string;
  /**
   * Once raised, the alert resolves only when the value is at or below
   * `above - hysteresis`, so a value hovering at the threshold does not flap.
   * @default {0}
   */
  readonly hysteresis?: number;
  /**
   * Unit appended to numbers in the message ("MiB", "ms").
   * @default {""}
   */
  readonly unit?: string;
}

/** A threshold rule made by {@linkcode thresholdRule}. */
export interface ThresholdRule {
  /** The alert key. */
  readonly key: string;
  /** Whether the rule is currently firing (its alert is open). */
  readonly firing: boolean;
  /**
   * Read the value once: above the threshold, raise (a repeat folds into the
   * open alert); at or below `above - hysteresis`, resolve; in between, keep
   * the current state.
   *
   * @returns the value read, or `NaN` if reading failed
   */
  evaluate(): number;
}

function fmt(n: number, unit: string): string {
  const s = Number.isInteger(n) ? String(n) : n.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

/**
 * A numeric threshold with hysteresis, evaluated when the owner calls
 * `evaluate()` (e.g. on the metrics collection tick). While the value stays
 * above, each evaluation folds into the one open alert.
 *
 * @param manager where alerts go
 * @param options key, level, reader, threshold, title, hysteresis
 * @returns the rule
 * @throws {RangeError} if `above` is not finite or `hysteresis` is negative
 * @throws {TypeError} if `key` or `title` is empty
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "../../util/mod.ts";
 * import { AlertManager } from "./alert_manager.ts";
 * import { thresholdRule } from "./health_alerts.ts";
 *
 * const alerts = new AlertManager({ clock: new ManualClock(0) });
 * let lag = 0;
 * const rule = thresholdRule(alerts, {
 *   key: "threshold:event_loop_lag", level: "warning", read: () => lag,
 *   above: 100, hysteresis: 20, unit: "ms", title: "Event loop lag high",
 * });
 * lag = 150;
 * rule.evaluate();
 * lag = 90; // below 100 but above 80: still firing
 * rule.evaluate();
 * assert.ok(rule.firing);
 * lag = 70;
 * rule.evaluate();
 * assert.ok(!rule.firing);
 * ```
 */
export function thresholdRule(manager: AlertManager, options: ThresholdRuleOptions): ThresholdRule {
  const { key, level, read, above, title } = options;
  const hysteresis = options.hysteresis ?? 0;
  const unit = options.unit ?? "";
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError("Cannot create threshold rule: key is empty");
  }
  if (typeof title !== "string" || title.length === 0) {
    throw new TypeError("Cannot create threshold rule: title is empty");
  }
  if (!Number.isFinite(above)) {
    throw new RangeError(`Cannot create threshold rule "${key}": above ${above} is not finite`);
  }
  if (!Number.isFinite(hysteresis) || hysteresis < 0) {
    throw new RangeError(
      `Cannot create threshold rule "${key}": hysteresis ${hysteresis} is not >= 0`,
    );
  }
  const clearAt = above - hysteresis;
  let firing = false;

  return {
    key,
    get firing(): boolean {
      return firing;
    },
    evaluate(): number {
      let value: number;
      try {
        value = Number(read());
      } catch {
        return NaN;
      }
      if (!Number.isFinite(value)) return NaN;
      if (value > above) {
        firing = true;
        manager.raise({
          key,
          level,
          title,
          message: `${fmt(value, unit)} is above the threshold ${fmt(above, unit)}`,
        });
      } else if (firing && value <= clearAt) {
        firing = false;
        manager.resolve(key);
      }
      return value;
    },
  };
}
