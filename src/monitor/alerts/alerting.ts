/**
 * One call that builds the alert book from the monitoring config and, when
 * `alertWebhookUrl` is set, wires a webhook to it.
 *
 * @module
 */

import { type Clock, type Logger, noopLogger, systemClock } from "../../util/mod.ts";
import { AlertManager } from "./alert_manager.ts";
import { WebhookNotifier, type WebhookNotifierOptions } from "./webhook.ts";

/** The slice of `MonitoringConfig` alerts read (it satisfies this structurally). */
export interface AlertingConfig {
  /** Webhook destination; `undefined` or empty: no delivery. */
  readonly alertWebhookUrl: string | undefined;
  /** Resolved alerts are kept this long (days). */
  readonly retentionDays: number;
  /** Alerts kept in memory. */
  readonly maxAlerts: number;
}

/** Dependencies and tuning of {@linkcode createAlerting}. */
export interface AlertingOptions {
  /**
   * Source of time for alerts and webhook timeouts.
   * @default {systemClock}
   */
  readonly clock?: Clock;
  /**
   * Logger for alerts and deliveries.
   * @default {noopLogger}
   */
  readonly logger?: Logger;
  /** Webhook tuning (everything but the URL). */
  readonly webhook?: Omit<WebhookNotifierOptions, "url" | "clock" | "logger">;
}

/** What {@linkcode createAlerting} returns. */
export interface Alerting {
  /** The alert book. */
  readonly manager: AlertManager;
  /** Present only when `alertWebhookUrl` is set. */
  readonly webhook: WebhookNotifier | undefined;
  /** Detach and close the webhook (drops undelivered events). */
  close(): Promise<void>;
}

/**
 * Build an {@linkcode AlertManager} bounded by `maxAlerts` and
 * `retentionDays`, plus a {@linkcode WebhookNotifier} attached to it when
 * `alertWebhookUrl` is set (off by default).
 *
 * @param config `config.monitoring` (or any object with the three fields)
 * @param options clock, logger, webhook tuning
 * @returns the manager, the optional webhook and a `close`
 * @throws {RangeError} if a bound is invalid
 * @throws {TypeError} if `alertWebhookUrl` is not an http(s) URL
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAlerting } from "./alerting.ts";
 * const alerting = createAlerting({ alertWebhookUrl: undefined, retentionDays: 7, maxAlerts: 1000 });
 * assert.equal(alerting.webhook, undefined);
 * alerting.manager.raise({ key: "k", level: "info", title: "t", message: "m" });
 * await alerting.close();
 * ```
 */
export function createAlerting(config: AlertingConfig, options: AlertingOptions = {}): Alerting {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const manager = new AlertManager({
    clock,
    logger,
    maxAlerts: config.maxAlerts,
    retentionDays: config.retentionDays,
  });
  const url = config.alertWebhookUrl;
  const webhook = url ? new WebhookNotifier({ ...options.webhook, url, clock, logger }) : undefined;
  const detach = webhook?.attach(manager);
  return {
    manager,
    webhook,
    async close(): Promise<void> {
      detach?.();
      await webhook?.close();
    },
  };
}
