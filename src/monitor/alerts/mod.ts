/**
 * Alerts (issue #6): levels `info` < `warning` < `error` < `critical`, raised
 * on health transitions and thresholds, de-duplicated while a condition
 * persists (one open alert per key), resolved when it clears, kept in a
 * history bounded by `maxAlerts` and `retentionDays`, and optionally POSTed
 * to a webhook (`ALERT_WEBHOOK_URL`, off by default).
 *
 * Imports only `../../util/mod.ts` and `../types.ts`.
 *
 * @example Health results and a threshold feeding one alert book
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManualClock } from "../../util/mod.ts";
 * import { AlertManager, thresholdRule, watchHealth } from "./mod.ts";
 *
 * const alerts = new AlertManager({ clock: new ManualClock(0), maxAlerts: 100 });
 * const onResult = watchHealth(alerts, { critical: ["database"] });
 * onResult({ name: "memory", status: "degraded", latencyMs: 1, checkedAtMs: 0 });
 * let rss = 900;
 * const rule = thresholdRule(alerts, {
 *   key: "threshold:memory_rss", level: "warning", read: () => rss, above: 800, title: "RSS high",
 * });
 * rule.evaluate();
 * assert.deepEqual(alerts.list({ open: true }).map((a) => a.key), [
 *   "threshold:memory_rss",
 *   "check:memory",
 * ]);
 * ```
 *
 * @module
 */

export {
  ALERT_LEVELS,
  type AlertEvent,
  type AlertEventKind,
  type AlertListener,
  AlertManager,
  type AlertManagerOptions,
  compareAlertLevels,
  type ListAlertsOptions,
  type RaiseAlertInput,
} from "./alert_manager.ts";
export {
  type ThresholdRule,
  thresholdRule,
  type ThresholdRuleOptions,
  watchHealth,
  type WatchHealthOptions,
} from "./health_alerts.ts";
export {
  type AlertEventSource,
  type SleepFn,
  type WebhookEventKind,
  WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookPayload,
  type WebhookStats,
} from "./webhook.ts";
export {
  type Alerting,
  type AlertingConfig,
  type AlertingOptions,
  createAlerting,
} from "./alerting.ts";
