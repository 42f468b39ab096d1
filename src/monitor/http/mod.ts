/**
 * The monitoring HTTP sub-app (issue #6): a Hono app with the probes
 * (`/health/live`, `/health/ready`, IETF `application/health+json`),
 * `/metrics` (Prometheus), `/report` (JSON, secrets redacted),
 * `/dashboard`, and the bearer-protected admin API under `/admin/*`, served
 * on its own listener (`PROMETHEUS_HOST:PROMETHEUS_PORT`, 127.0.0.1:9100 by
 * default).
 *
 * @example Serve the probes and metrics on a free port
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthMonitor } from "../health/mod.ts";
 * import { SomnyMetrics } from "../metrics/mod.ts";
 * import { createMonitoringApp, startMonitoringServer } from "./mod.ts";
 *
 * const app = createMonitoringApp({
 *   health: new HealthMonitor(),
 *   metrics: new SomnyMetrics({ defaultMetrics: false }),
 *   report: () => Promise.reject(new Error("not in this example")),
 * });
 * const server = startMonitoringServer(app, { host: "127.0.0.1", port: 0 });
 * const res = await fetch(`http://127.0.0.1:${server.port}/health/live`);
 * assert.equal(res.headers.get("content-type"), "application/health+json");
 * await res.body?.cancel();
 * const admin = await fetch(`http://127.0.0.1:${server.port}/admin/config`);
 * assert.equal(admin.status, 404); // no ADMIN_TOKEN: the admin API is disabled
 * await admin.body?.cancel();
 * await server.close();
 * ```
 *
 * @module
 */

export {
  /**
   * Build the Hono app (see `app.ts` for the route table).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HealthMonitor } from "../health/mod.ts";
   * import { SomnyMetrics } from "../metrics/mod.ts";
   * import { createMonitoringApp } from "./mod.ts";
   * const app = createMonitoringApp({
   *   health: new HealthMonitor(),
   *   metrics: new SomnyMetrics({ defaultMetrics: false }),
   *   report: () => Promise.reject(new Error("unused")),
   *   adminToken: "0123456789abcdef0123",
   * });
   * const res = await app.request("/admin/config");
   * assert.equal(res.status, 404); // a token without a backend: still disabled
   * ```
   */
  createMonitoringApp,
  /**
   * The probes' source (`HealthMonitor` fits).
   *
   * @example
   * ```ts
   * import type { HealthSource } from "./mod.ts";
   * import { HealthMonitor } from "../health/mod.ts";
   * const health: HealthSource = new HealthMonitor();
   * void health;
   * ```
   */
  type HealthSource,
  /**
   * Largest request body, bytes (64 KiB).
   *
   * @example
   * ```ts
   * import { MAX_BODY_BYTES } from "./mod.ts";
   * console.assert(MAX_BODY_BYTES === 65536);
   * ```
   */
  MAX_BODY_BYTES,
  /**
   * The metrics' source (`SomnyMetrics` fits).
   *
   * @example
   * ```ts
   * import type { MetricsSource } from "./mod.ts";
   * import { SomnyMetrics } from "../metrics/mod.ts";
   * const metrics: MetricsSource = new SomnyMetrics({ defaultMetrics: false });
   * void metrics;
   * ```
   */
  type MetricsSource,
  /**
   * What `createMonitoringApp` serves.
   *
   * @example
   * ```ts
   * import type { MonitoringAppDeps } from "./mod.ts";
   * import { HealthMonitor } from "../health/mod.ts";
   * import { SomnyMetrics } from "../metrics/mod.ts";
   * const deps: MonitoringAppDeps = {
   *   health: new HealthMonitor(),
   *   metrics: new SomnyMetrics({ defaultMetrics: false }),
   *   report: () => Promise.reject(new Error("unused")),
   *   dashboardHtml: "<!doctype html><title>SomnyToo</title>",
   * };
   * void deps;
   * ```
   */
  type MonitoringAppDeps,
} from "./app.ts";
export {
  /**
   * Serve an app on its own listener (or not, when disabled).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { startMonitoringServer } from "./mod.ts";
   * const off = startMonitoringServer({ fetch: () => new Response() }, { enabled: false });
   * assert.equal(off.running, false);
   * await off.close();
   * ```
   */
  type FetchApp,
  /**
   * Where and whether to listen.
   *
   * @example
   * ```ts
   * import type { MonitoringListenOptions } from "./mod.ts";
   * const options: MonitoringListenOptions = { host: "127.0.0.1", port: 9100, enabled: true };
   * void options;
   * ```
   */
  type MonitoringListenOptions,
  /**
   * A started listener.
   *
   * @example
   * ```ts
   * import type { MonitoringServer } from "./mod.ts";
   * function describe(s: MonitoringServer): string {
   *   return s.running ? `${s.hostname}:${s.port}` : "disabled";
   * }
   * void describe;
   * ```
   */
  type MonitoringServer,
  /**
   * Start the listener.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { startMonitoringServer } from "./mod.ts";
   * const s = startMonitoringServer({ fetch: () => new Response("ok") }, { port: 0 });
   * assert.equal(s.hostname, "127.0.0.1");
   * await s.close();
   * ```
   */
  startMonitoringServer,
} from "./listener.ts";
export {
  /**
   * The audit actor of admin API actions, `"admin-api"`.
   *
   * @example
   * ```ts
   * import { ADMIN_ACTOR } from "./mod.ts";
   * console.assert(ADMIN_ACTOR === "admin-api");
   * ```
   */
  ADMIN_ACTOR,
  /**
   * What the admin routes act on.
   *
   * @example
   * ```ts
   * import type { AdminBackend } from "./mod.ts";
   * import { createAdminBackend } from "./mod.ts";
   * import { AlertManager } from "../alerts/mod.ts";
   * const admin: AdminBackend = createAdminBackend({ config: {}, alerts: new AlertManager() });
   * void admin;
   * ```
   */
  type AdminBackend,
  /**
   * A manual ban's options.
   *
   * @example
   * ```ts
   * import type { AdminBanOptions } from "./mod.ts";
   * const o: AdminBanOptions = { reason: "scanner", durationMs: 600_000 };
   * void o;
   * ```
   */
  type AdminBanOptions,
  /**
   * The parts `createAdminBackend` composes.
   *
   * @example
   * ```ts
   * import type { AdminParts } from "./mod.ts";
   * import { AlertManager } from "../alerts/mod.ts";
   * const parts: AdminParts = { config: { logLevel: "info" }, alerts: new AlertManager() };
   * void parts;
   * ```
   */
  type AdminParts,
  /**
   * `"allow"` or `"deny"`.
   *
   * @example
   * ```ts
   * import type { AdminRuleList } from "./mod.ts";
   * const list: AdminRuleList = "deny";
   * void list;
   * ```
   */
  type AdminRuleList,
  /**
   * A session as listed by `GET /admin/sessions`.
   *
   * @example
   * ```ts
   * import type { AdminSession } from "./mod.ts";
   * const s: AdminSession = {
   *   id: "ab", remoteAddr: "127.0.0.1", pskId: "", state: "open", inFlight: 0,
   * };
   * void s;
   * ```
   */
  type AdminSession,
  /**
   * A backend part that is not configured (answered 404).
   *
   * @example
   * ```ts
   * import { AdminUnavailableError } from "./mod.ts";
   * console.assert(new AdminUnavailableError("audit log").message === "audit log not configured");
   * ```
   */
  AdminUnavailableError,
  /**
   * The alert book (`AlertManager` fits).
   *
   * @example
   * ```ts
   * import type { AlertBook } from "./mod.ts";
   * import { AlertManager } from "../alerts/mod.ts";
   * const book: AlertBook = new AlertManager();
   * void book;
   * ```
   */
  type AlertBook,
  /**
   * The audit log's verification (`AuditLog` fits).
   *
   * @example
   * ```ts
   * import type { AuditVerifier } from "./mod.ts";
   * const v: AuditVerifier = { verify: () => Promise.resolve({ ok: true }) };
   * void v;
   * ```
   */
  type AuditVerifier,
  /**
   * Compose a backend from the real objects.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAdminBackend } from "./mod.ts";
   * import { AlertManager } from "../alerts/mod.ts";
   * const admin = createAdminBackend({ config: () => ({ logLevel: "debug" }), alerts: new AlertManager() });
   * assert.deepEqual(admin.config(), { logLevel: "debug" });
   * ```
   */
  createAdminBackend,
  /**
   * Persisted bans and rules (`ReputationStore` fits).
   *
   * @example
   * ```ts
   * import type { ReputationView } from "./mod.ts";
   * const r: ReputationView = { list: () => Promise.resolve([]), rules: () => Promise.resolve([]) };
   * void r;
   * ```
   */
  type ReputationView,
  /**
   * Operator actions of the security layer (`SecurityLayer` fits).
   *
   * @example
   * ```ts
   * import type { SecurityControl } from "./mod.ts";
   * function ban(s: SecurityControl): Promise<unknown> {
   *   return s.ban("192.0.2.1", { reason: "test" }, "admin-api");
   * }
   * void ban;
   * ```
   */
  type SecurityControl,
  /**
   * Sessions of the server (`SomnyServer` fits).
   *
   * @example
   * ```ts
   * import type { SessionControl } from "./mod.ts";
   * const none: SessionControl = { sessions: () => [], kick: () => false };
   * void none;
   * ```
   */
  type SessionControl,
  /**
   * One session (`ServerConnection` fits).
   *
   * @example
   * ```ts
   * import type { SessionLike } from "./mod.ts";
   * const s: SessionLike = { id: "ab", remoteAddr: "::1", pskId: "", state: "open", inFlight: 1 };
   * void s;
   * ```
   */
  type SessionLike,
  /**
   * Reloadable settings, implemented by the caller.
   *
   * @example
   * ```ts
   * import type { SettingsControl } from "./mod.ts";
   * let logLevel = "info";
   * const settings: SettingsControl = {
   *   view: () => ({ logLevel }),
   *   update: (patch) => {
   *     if (typeof patch.logLevel === "string") logLevel = patch.logLevel;
   *     return { applied: ["logLevel"], rejected: {} };
   *   },
   * };
   * void settings;
   * ```
   */
  type SettingsControl,
  /**
   * What a settings update did.
   *
   * @example
   * ```ts
   * import type { SettingsUpdateResult } from "./mod.ts";
   * const r: SettingsUpdateResult = { applied: [], rejected: { port: "not reloadable" } };
   * void r;
   * ```
   */
  type SettingsUpdateResult,
} from "./admin_backend.ts";
export {
  /**
   * Whether a JSON field name is treated as secret.
   *
   * @example
   * ```ts
   * import { isSecretFieldName } from "./mod.ts";
   * console.assert(isSecretFieldName("hmacSecretKey"));
   * ```
   */
  isSecretFieldName,
  /**
   * The replacement text, `"[redacted]"`.
   *
   * @example
   * ```ts
   * import { REDACTED } from "./mod.ts";
   * console.assert(REDACTED === "[redacted]");
   * ```
   */
  REDACTED,
  /**
   * The final redaction guard of every JSON answer.
   *
   * @example
   * ```ts
   * import { redactSecrets } from "./mod.ts";
   * console.assert(JSON.stringify(redactSecrets({ token: "x" })) === '{"token":"[redacted]"}');
   * ```
   */
  redactSecrets,
} from "./redact.ts";
export type { Alert, HealthReport, MonitoringReport } from "../types.ts";
export type { IetfHealthOptions } from "../health/mod.ts";
