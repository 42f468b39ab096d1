/**
 * Health reports as the IETF "Health Check Response Format for HTTP APIs"
 * draft (draft-inadarei-api-health-check, media type
 * `application/health+json`): `status` pass / warn / fail, a `checks` map
 * keyed `component:measurement` whose values are arrays of observations
 * (`componentType`, `observedValue` + `observedUnit` where a figure means
 * something, `status`, `time` in ISO 8601, `output` when not passing).
 * Pure.
 *
 * @module
 */

import type { CheckResult, HealthReport, HealthStatus } from "../types.ts";

/**
 * The draft's media type, for the `Content-Type` of health answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HEALTH_JSON_CONTENT_TYPE } from "./ietf.ts";
 * const res = new Response("{}", { headers: { "content-type": HEALTH_JSON_CONTENT_TYPE } });
 * assert.equal(res.headers.get("content-type"), "application/health+json");
 * ```
 */
export const HEALTH_JSON_CONTENT_TYPE = "application/health+json";

/** The draft's statuses. */
export type IetfStatus = "pass" | "warn" | "fail";

/** One observation in the `checks` map. */
export interface IetfCheck {
  /** Which instance of the component (a network target, "system" / "process"). */
  readonly componentId?: string;
  /** "datastore", "system", "component" or a URI. */
  readonly componentType?: string;
  /** The measured figure, when one means something. */
  readonly observedValue?: number;
  /** Unit of `observedValue` ("ms", "percent", "bytes", …). */
  readonly observedUnit?: string;
  /** This observation's status. */
  readonly status: IetfStatus;
  /** When it was observed (ISO 8601). */
  readonly time: string;
  /** Why it is not passing (omitted on pass). */
  readonly output?: string;
}

/** The response body. */
export interface IetfHealthResponse {
  /** Overall status (the worst of the checks). */
  readonly status: IetfStatus;
  /** Public version of the service. */
  readonly version?: string;
  /** Release (build) of the service. */
  readonly releaseId?: string;
  /** Unique identifier of the service. */
  readonly serviceId?: string;
  /** Human-friendly description of the service. */
  readonly description?: string;
  /** Why it is not passing (omitted on pass, as the draft asks). */
  readonly output?: string;
  /** Observations keyed `component:measurement` (or `component`). */
  readonly checks: Readonly<Record<string, readonly IetfCheck[]>>;
}

/** An observed figure. */
export interface IetfObservation {
  /** The figure (a non-finite value is left out of the entry). */
  readonly value: number;
  /** Its unit. */
  readonly unit: string;
  /** Which instance it is about. */
  readonly componentId?: string;
  /** This observation's own status (e.g. one network target), else the check's. */
  readonly status?: HealthStatus;
  /** This observation's own output, else the check's message. */
  readonly output?: string;
}

/** How one check is shown. */
export interface IetfComponent {
  /** "datastore", "system", "component" or a URI. @default "component" */
  readonly componentType?: string;
  /** The key's measurement part ("responseTime" → `database:responseTime`). @default none */
  readonly measurement?: string;
  /** Figures to show (none → one observation without a value). */
  readonly observe?: (result: CheckResult) => readonly IetfObservation[];
}

/** Options for {@linkcode toIetfHealth}. */
export interface IetfHealthOptions {
  /** `version` of the body. */
  readonly version?: string;
  /** `releaseId` of the body. */
  readonly releaseId?: string;
  /** `serviceId` of the body. */
  readonly serviceId?: string;
  /** `description` of the body. */
  readonly description?: string;
  /** Per-check presentation, merged over {@linkcode IETF_COMPONENTS}. */
  readonly components?: Readonly<Record<string, IetfComponent>>;
}

const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function one(value: unknown, unit: string, componentId?: string): IetfObservation[] {
  return num(value) ? [{ value, unit, ...(componentId ? { componentId } : {}) }] : [];
}

/**
 * How the checks of `checks/` are shown (by their default names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IETF_COMPONENTS } from "./ietf.ts";
 * assert.equal(IETF_COMPONENTS.database.measurement, "responseTime");
 * ```
 */
export const IETF_COMPONENTS: Readonly<Record<string, IetfComponent>> = {
  database: {
    componentType: "datastore",
    measurement: "responseTime",
    observe: (r) => one(r.details?.roundTripMs, "ms"),
  },
  network: {
    componentType: "system",
    measurement: "connectTime",
    observe: (r) => {
      const ok = (r.details?.latencyMs ?? {}) as Record<string, unknown>;
      const failed = (r.details?.failed ?? {}) as Record<string, unknown>;
      const out: IetfObservation[] = [];
      for (const [id, v] of Object.entries(ok)) {
        if (num(v)) out.push({ componentId: id, value: v, unit: "ms", status: "healthy" });
      }
      for (const [id, why] of Object.entries(failed)) {
        out.push({
          componentId: id,
          value: NaN,
          unit: "ms",
          status: "unhealthy",
          output: String(why),
        });
      }
      return out;
    },
  },
  memory: {
    componentType: "system",
    measurement: "utilization",
    observe: (r) => [
      ...one(r.details?.systemUsedPercent, "percent", "system"),
      ...one(r.details?.rssBytes, "bytes", "process"),
    ],
  },
  cpu: {
    componentType: "system",
    measurement: "utilization",
    observe: (r) => one(r.details?.loadPerCore, "load/core"),
  },
  disk: {
    componentType: "system",
    measurement: "freeSpace",
    observe: (r) => one(r.details?.freePercent, "percent"),
  },
  api: {
    componentType: "component",
    measurement: "responseTime",
    observe: (r) => one(r.details?.responseMs, "ms"),
  },
  server: {
    componentType: "component",
    measurement: "sessions",
    observe: (r) => one(r.details?.sessionsActive, "sessions"),
  },
  orm: {
    componentType: "datastore",
    measurement: "poolSaturation",
    observe: (r) => one(r.details?.poolSaturation, "ratio"),
  },
  shutdown: { componentType: "system" },
};

/**
 * The draft's status for ours.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ietfStatus } from "./ietf.ts";
 * assert.equal(ietfStatus("degraded"), "warn");
 * ```
 */
export function ietfStatus(status: HealthStatus): IetfStatus {
  return status === "healthy" ? "pass" : status === "degraded" ? "warn" : "fail";
}

/**
 * The HTTP status for a probe answer: 200 for pass and warn, 503 for fail
 * (the draft: fail → 4xx/5xx; Kubernetes: anything outside 200–399 fails).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { healthHttpStatus } from "./ietf.ts";
 * assert.equal(healthHttpStatus("degraded"), 200);
 * assert.equal(healthHttpStatus("unhealthy"), 503);
 * ```
 */
export function healthHttpStatus(status: HealthStatus): 200 | 503 {
  return status === "unhealthy" ? 503 : 200;
}

/**
 * Format a report as an `application/health+json` body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toIetfHealth } from "./ietf.ts";
 * const body = toIetfHealth({
 *   status: "unhealthy",
 *   atMs: 0,
 *   checks: [{
 *     name: "database",
 *     status: "unhealthy",
 *     message: "database unreachable",
 *     latencyMs: 1,
 *     checkedAtMs: 0,
 *   }],
 * }, { serviceId: "somnytoo" });
 * assert.equal(body.status, "fail");
 * assert.deepEqual(body.checks["database:responseTime"], [{
 *   componentType: "datastore",
 *   status: "fail",
 *   time: "1970-01-01T00:00:00.000Z",
 *   output: "database unreachable",
 * }]);
 * ```
 */
export function toIetfHealth(
  report: HealthReport,
  options: IetfHealthOptions = {},
): IetfHealthResponse {
  const components = { ...IETF_COMPONENTS, ...options.components };
  const checks: Record<string, IetfCheck[]> = {};
  const failing: string[] = [];
  for (const r of report.checks) {
    const c: IetfComponent = Object.hasOwn(components, r.name) ? components[r.name] : {};
    const key = c.measurement ? `${r.name}:${c.measurement}` : r.name;
    const time = new Date(r.checkedAtMs).toISOString();
    const componentType = c.componentType ?? "component";
    const observations = c.observe?.(r) ?? [];
    const entries: IetfCheck[] = observations.length === 0
      ? [entry(componentType, undefined, r.status, time, r.message)]
      : observations.map((o) =>
        entry(componentType, o, o.status ?? r.status, time, o.output ?? r.message)
      );
    (checks[key] ??= []).push(...entries);
    if (r.status !== "healthy") failing.push(`${r.name}: ${r.message ?? r.status}`);
  }
  const status = ietfStatus(report.status);
  return {
    status,
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(options.releaseId !== undefined ? { releaseId: options.releaseId } : {}),
    ...(options.serviceId !== undefined ? { serviceId: options.serviceId } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(status !== "pass" && failing.length > 0 ? { output: failing.join("; ") } : {}),
    checks,
  };
}

function entry(
  componentType: string,
  o: IetfObservation | undefined,
  status: HealthStatus,
  time: string,
  output: string | undefined,
): IetfCheck {
  const s = ietfStatus(status);
  return {
    ...(o?.componentId !== undefined ? { componentId: o.componentId } : {}),
    componentType,
    ...(o && num(o.value) ? { observedValue: o.value, observedUnit: o.unit } : {}),
    status: s,
    time,
    ...(s !== "pass" && output !== undefined ? { output } : {}),
  };
}
