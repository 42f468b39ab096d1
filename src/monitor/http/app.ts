/**
 * The monitoring HTTP sub-app (issue #6), a Hono app served on its own
 * listener (`listener.ts`): probes, Prometheus metrics, the JSON report,
 * the dashboard page, and the bearer-protected admin API.
 *
 * Every response is `Cache-Control: no-store`; every JSON body passes
 * through {@linkcode redactSecrets}; errors never echo internals.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { SomnyError } from "../../errors.ts";
import { timingSafeEqual } from "../../util/mod.ts";
import {
  HEALTH_JSON_CONTENT_TYPE,
  healthHttpStatus,
  type IetfHealthOptions,
  toIetfHealth,
} from "../health/mod.ts";
import type { HealthReport, MonitoringReport } from "../types.ts";
import {
  ADMIN_ACTOR,
  type AdminBackend,
  type AdminBanOptions,
  AdminUnavailableError,
} from "./admin_backend.ts";
import { redactSecrets } from "./redact.ts";

/** Largest request body accepted, bytes (64 KiB); larger → 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The probes (`HealthMonitor` fits). */
export interface HealthSource {
  /** Liveness checks only. */
  live(): Promise<HealthReport>;
  /** Readiness checks. */
  ready(): Promise<HealthReport>;
}

/** The Prometheus exposition (`SomnyMetrics` fits). */
export interface MetricsSource {
  /** The text format. */
  metrics(): Promise<string>;
  /** Its `Content-Type`. */
  readonly contentType: string;
}

/** What {@linkcode createMonitoringApp} serves. */
export interface MonitoringAppDeps {
  /** `/health/live` and `/health/ready`. */
  readonly health: HealthSource;
  /** `/metrics`. */
  readonly metrics: MetricsSource;
  /** `/report`: health, alerts, key metrics, redacted config. */
  report(): Promise<MonitoringReport>;
  /**
   * Bearer token of `/admin/*` (`ADMIN_TOKEN`). Absent or empty: the admin
   * API is disabled (every `/admin` route answers 404), never open.
   */
  readonly adminToken?: string;
  /** What the admin routes act on. Absent: the admin API is disabled. */
  readonly admin?: AdminBackend;
  /** The page served at `GET /dashboard` (`DASHBOARD_HTML`). Absent: 404. */
  readonly dashboardHtml?: string;
  /** `version`, `serviceId`, … of the health bodies. */
  readonly ietf?: IetfHealthOptions;
  /**
   * The comparison of the two SHA-256 digests of the bearer check.
   * @default timingSafeEqual from util/
   */
  readonly timingSafeEqualForTestingOnly?: (a: Uint8Array, b: Uint8Array) => boolean;
}

/** An answer with a status, turned into `{ error }` JSON by the error handler. */
class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const IPV4_PART = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);

/**
 * A syntax check of an address before it reaches the security layer, whose
 * `ban` audits and enforces before the reputation store validates: a
 * malformed address must not leave an audit record or a restriction.
 */
function ipAddress(v: unknown): string {
  const ip = text(v, "ip", { max: 64 });
  let ok = IPV4.test(ip);
  if (!ok && ip.includes(":") && /^[0-9a-f:.]+$/i.test(ip)) {
    try {
      new URL(`http://[${ip}]/`);
      ok = true;
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new HttpError(400, "Invalid IP address", "SECURITY_INVALID_ADDRESS");
  return ip;
}

const CLIENT_ERROR_CODES = new Set(["SECURITY_INVALID_ADDRESS", "SECURITY_INVALID_INPUT"]);
const encoder = new TextEncoder();

function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

function json(c: Context, body: unknown, status = 200): Response {
  return c.newResponse(JSON.stringify(redactSecrets(body)), status as 200, {
    "content-type": "application/json; charset=UTF-8",
  });
}

/** Read the body as JSON: 413 over {@linkcode MAX_BODY_BYTES}, 400 when not JSON. */
async function readJson(c: Context): Promise<unknown> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
    throw new HttpError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  const body = c.req.raw.body;
  if (body === null) throw new HttpError(400, "Request body must be JSON");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError(400, "Request body must be JSON");
  }
}

async function readObject(c: Context): Promise<Record<string, unknown>> {
  const v = await readJson(c);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new HttpError(400, "Request body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

function text(v: unknown, name: string, { required = true, max = 256 } = {}): string {
  if (v === undefined && !required) return "";
  if (typeof v !== "string" || (required && v.trim() === "") || v.length > max) {
    throw new HttpError(400, `"${name}" must be a non-empty string of at most ${max} characters`);
  }
  return v;
}

function banOptions(body: Record<string, unknown>): AdminBanOptions {
  const { permanent, durationMs } = body;
  if (permanent !== undefined && typeof permanent !== "boolean") {
    throw new HttpError(400, `"permanent" must be a boolean`);
  }
  if (
    durationMs !== undefined &&
    !(Number.isSafeInteger(durationMs) && (durationMs as number) > 0)
  ) {
    throw new HttpError(400, `"durationMs" must be a positive integer`);
  }
  return {
    reason: text(body.reason, "reason"),
    ...(permanent !== undefined ? { permanent } : {}),
    ...(durationMs !== undefined ? { durationMs: durationMs as number } : {}),
  };
}

/**
 * Build the monitoring app. Routes:
 *
 * | Route | Answer |
 * | --- | --- |
 * | `GET /health/live`, `GET /health/ready` | `application/health+json` (IETF draft), 200 or 503 |
 * | `GET /metrics` | Prometheus text format |
 * | `GET /report` | {@linkcode MonitoringReport} JSON |
 * | `GET /dashboard` | `dashboardHtml`, else 404 |
 * | `GET /admin/config` | redacted configuration |
 * | `GET`, `PATCH`/`PUT /admin/settings` | reloadable settings; patch → `{ applied, rejected, settings }` (400 when nothing applied) |
 * | `GET /admin/sessions`, `DELETE /admin/sessions/:id` | list, kick (404 unknown id) |
 * | `GET /admin/bans`, `POST /admin/bans`, `DELETE /admin/bans/:ip` | list, ban `{ ip, reason, permanent?, durationMs? }` (201; 409 allow-listed), unban (404 none) |
 * | `GET /admin/rules`, `POST /admin/rules`, `DELETE /admin/rules/:cidr` | list, add `{ cidr, list, note? }` (201), remove (URL-encoded CIDR; 404 none) |
 * | `GET /admin/explain/:ip` | why an address is refused |
 * | `GET /admin/alerts?open=true\|false`, `POST /admin/alerts/:id/ack` | list, acknowledge (404 unknown id) |
 * | `POST /admin/audit/verify` | the audit chain's verification |
 *
 * `/admin/*` needs `Authorization: Bearer <adminToken>`: the SHA-256 digests
 * of the presented and configured tokens are compared in constant time;
 * missing or wrong → 401 with `WWW-Authenticate: Bearer`. Without a token
 * (or a backend) → 404 `{ error: "admin API disabled" }`. Admin actions are
 * recorded with the actor {@linkcode ADMIN_ACTOR}.
 *
 * Errors: `SomnyError` `SECURITY_INVALID_ADDRESS` / `SECURITY_INVALID_INPUT`
 * → 400 `{ error, code }`; invalid input → 400; body over 64 KiB → 413;
 * anything else → 500 `{ error: "Internal error" }`.
 *
 * @param deps the sources and the admin backend
 * @returns the Hono app (`app.fetch` is the handler)
 *
 * @example Probe readiness in-process
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthMonitor } from "../health/mod.ts";
 * import { SomnyMetrics } from "../metrics/mod.ts";
 * import { createMonitoringApp } from "./app.ts";
 *
 * const health = new HealthMonitor();
 * health.register({ name: "queue", run: () => ({ status: "healthy" }) });
 * const app = createMonitoringApp({
 *   health,
 *   metrics: new SomnyMetrics({ defaultMetrics: false }),
 *   report: () => Promise.reject(new Error("unused")),
 * });
 * const res = await app.request("/health/ready");
 * assert.equal(res.status, 200);
 * assert.equal(res.headers.get("content-type"), "application/health+json");
 * assert.equal((await res.json()).status, "pass");
 * ```
 */
export function createMonitoringApp(deps: MonitoringAppDeps): Hono {
  const app = new Hono();
  const compare = deps.timingSafeEqualForTestingOnly ?? timingSafeEqual;
  const token = deps.adminToken ? deps.adminToken : undefined;
  const admin = token !== undefined ? deps.admin : undefined;
  let expected: Promise<Uint8Array> | undefined;

  app.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
  });

  app.onError((e, c) => {
    if (e instanceof HttpError) {
      return json(c, { error: e.message, ...(e.code ? { code: e.code } : {}) }, e.status);
    }
    if (e instanceof AdminUnavailableError) return json(c, { error: e.message }, 404);
    if (e instanceof SomnyError && CLIENT_ERROR_CODES.has(e.code)) {
      return json(c, { error: e.message, code: e.code }, 400);
    }
    return json(c, { error: "Internal error" }, 500);
  });
  app.notFound((c) => json(c, { error: "Not found" }, 404));

  const probe = async (c: Context, report: Promise<HealthReport>) => {
    const r = await report;
    return c.newResponse(
      JSON.stringify(redactSecrets(toIetfHealth(r, deps.ietf))),
      healthHttpStatus(r.status),
      { "content-type": HEALTH_JSON_CONTENT_TYPE },
    );
  };
  app.get("/health/live", (c) => probe(c, deps.health.live()));
  app.get("/health/ready", (c) => probe(c, deps.health.ready()));
  app.get("/metrics", async (c) => {
    const body = await deps.metrics.metrics();
    return c.newResponse(body, 200, { "content-type": deps.metrics.contentType });
  });
  app.get("/report", async (c) => json(c, await deps.report()));
  app.get("/dashboard", (c) => {
    if (deps.dashboardHtml === undefined) return json(c, { error: "Not found" }, 404);
    return c.html(deps.dashboardHtml);
  });

  // /admin and everything under it.
  const guard = async (c: Context, next: () => Promise<void>): Promise<Response | undefined> => {
    if (token === undefined || admin === undefined) {
      return json(c, { error: "admin API disabled" }, 404);
    }
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    expected ??= sha256(token).then((d) => new Uint8Array(d));
    // Both sides are 32-byte digests: the comparison's time does not depend
    // on the token's length or on where it differs.
    const presented = new Uint8Array(await sha256(m?.[1] ?? ""));
    const ok = compare(presented, await expected) && m !== null;
    if (!ok) {
      c.header("WWW-Authenticate", 'Bearer realm="somnytoo-admin"');
      return json(c, { error: "Unauthorized" }, 401);
    }
    await next();
    return undefined;
  };
  app.use("/admin/*", guard); // matches "/admin" itself too

  const a = (): AdminBackend => admin!;
  app.get("/admin/config", (c) => json(c, a().config()));
  app.get("/admin/settings", (c) => json(c, a().settings()));
  const patchSettings = async (c: Context) => {
    const patch = await readObject(c);
    const r = await a().updateSettings(patch);
    const status = r.applied.length === 0 && Object.keys(r.rejected).length > 0 ? 400 : 200;
    return json(c, { applied: r.applied, rejected: r.rejected, settings: a().settings() }, status);
  };
  app.patch("/admin/settings", patchSettings);
  app.put("/admin/settings", patchSettings);

  app.get("/admin/sessions", (c) => json(c, { sessions: a().sessions() }));
  app.delete("/admin/sessions/:id", (c) => {
    const id = c.req.param("id");
    if (!a().kick(id)) throw new HttpError(404, "No open session with that id");
    return json(c, { kicked: id });
  });

  app.get("/admin/bans", async (c) => json(c, { bans: await a().bans() }));
  app.post("/admin/bans", async (c) => {
    const body = await readObject(c);
    const ip = ipAddress(body.ip);
    const result = await a().ban(ip, banOptions(body), ADMIN_ACTOR);
    const refused = (result as { applied?: unknown } | undefined)?.applied === false;
    return json(c, { ip, result: result ?? null }, refused ? 409 : 201);
  });
  app.delete("/admin/bans/:ip", async (c) => {
    const ip = ipAddress(c.req.param("ip"));
    if (!(await a().unban(ip, ADMIN_ACTOR))) throw new HttpError(404, "No ban for that address");
    return json(c, { unbanned: ip });
  });

  app.get("/admin/rules", async (c) => json(c, { rules: await a().rules() }));
  app.post("/admin/rules", async (c) => {
    const body = await readObject(c);
    const cidr = text(body.cidr, "cidr", { max: 64 });
    if (body.list !== "allow" && body.list !== "deny") {
      throw new HttpError(400, `"list" must be "allow" or "deny"`);
    }
    const note = text(body.note, "note", { required: false, max: 256 });
    const rule = await a().addRule(cidr, body.list, note, ADMIN_ACTOR);
    return json(c, { rule: rule ?? null }, 201);
  });
  app.delete("/admin/rules/:cidr", async (c) => {
    const cidr = c.req.param("cidr");
    if (!(await a().removeRule(cidr, ADMIN_ACTOR))) throw new HttpError(404, "No such rule");
    return json(c, { removed: cidr });
  });
  app.get("/admin/explain/:ip", async (c) => json(c, await a().explain(c.req.param("ip"))));

  app.get("/admin/alerts", (c) => {
    const open = c.req.query("open");
    if (open !== undefined && open !== "true" && open !== "false") {
      throw new HttpError(400, `"open" must be true or false`);
    }
    const alerts = a().alerts.list(open === undefined ? {} : { open: open === "true" });
    return json(c, { alerts });
  });
  app.post("/admin/alerts/:id/ack", (c) => {
    const alert = a().alerts.acknowledge(c.req.param("id"), ADMIN_ACTOR);
    if (alert === undefined) throw new HttpError(404, "No alert with that id");
    return json(c, { alert });
  });
  app.post("/admin/audit/verify", async (c) => json(c, await a().auditVerify()));

  return app;
}
