/**
 * Monitoring (issue #6): health checks and their runner, alerts, Prometheus
 * metrics, and the HTTP sub-app (Hono) that serves them with the admin API
 * and the dashboard.
 *
 * @example A health monitor with one custom check
 * ```ts
 * import { HealthMonitor } from "./mod.ts";
 * const monitor = new HealthMonitor();
 * monitor.register({ name: "queue", run: () => ({ status: "healthy", details: { depth: 0 } }) });
 * const report = await monitor.ready();
 * console.log(report.status); // "healthy"
 * ```
 *
 * @module
 */
export type {
  Alert,
  AlertLevel,
  CheckOutcome,
  CheckResult,
  HealthCheck,
  HealthReport,
  HealthStatus,
  MonitoringReport,
  ProbeKind,
} from "./types.ts";
export * from "./health/mod.ts";
export * from "./alerts/mod.ts";
export * from "./metrics/mod.ts";
export * from "./http/mod.ts";
export { DASHBOARD_HTML } from "./http/dashboard.ts";
export {
  createRequestMetrics,
  defaultThresholds,
  type Monitoring,
  type MonitoringDeps,
  RequestMetrics,
  startMonitoring,
} from "./monitoring.ts";
