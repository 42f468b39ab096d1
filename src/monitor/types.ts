/**
 * The vocabulary of `src/monitor/` (issue #6), shared by the health checks,
 * the runner, the alerts, the metrics and the HTTP sub-app. Pure types.
 *
 * @module
 */

/** A check's verdict (IETF health-check draft: pass / warn / fail). */
export type HealthStatus = "healthy" | "degraded" | "unhealthy";

/**
 * Which probe a check counts for (Kubernetes semantics): `liveness` fails
 * only when the process must be restarted; `readiness` when it should not
 * get traffic (database unreachable, shutting down).
 */
export type ProbeKind = "liveness" | "readiness";

/** What a check's `run` returns. */
export interface CheckOutcome {
  /** The verdict. */
  readonly status: HealthStatus;
  /** Secret-free details (numbers, short strings) shown in /health and /report. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Why it is not healthy, one line, secret-free. */
  readonly message?: string;
}

/** A stored check result. */
export interface CheckResult extends CheckOutcome {
  /** The check's name. */
  readonly name: string;
  /** How long `run` took (or the timeout, when it timed out). */
  readonly latencyMs: number;
  /** Wall-clock ms when it finished. */
  readonly checkedAtMs: number;
}

/** A health check registered with the monitor. */
export interface HealthCheck {
  /** Unique, snake_case (used as a metric label value): "database", "memory", … */
  readonly name: string;
  /** Probes it counts for. @default ["readiness"] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run; a slower run is `unhealthy` with message "timed out". @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long. @default 10000 */
  readonly ttlMs?: number;
  /** Run once; may throw (→ unhealthy with the error's message). */
  run(signal: AbortSignal): Promise<CheckOutcome> | CheckOutcome;
}

/** An aggregated health report (for /health/live, /health/ready, /report). */
export interface HealthReport {
  /** Worst status among the checks included. */
  readonly status: HealthStatus;
  /** The results it was built from. */
  readonly checks: readonly CheckResult[];
  /** Wall-clock ms when assembled. */
  readonly atMs: number;
}

/** Alert levels, lowest first. */
export type AlertLevel = "info" | "warning" | "error" | "critical";

/** One alert, raised once per condition and resolved when it clears. */
export interface Alert {
  /** Unique id ("a-17"). */
  readonly id: string;
  /** The condition ("check:database", "threshold:memory_rss"): at most one open alert per key. */
  readonly key: string;
  /** Severity (an escalation raises it). */
  readonly level: AlertLevel;
  /** One-line summary. */
  readonly title: string;
  /** Secret-free explanation. */
  readonly message: string;
  /** Wall-clock ms when opened. */
  readonly raisedAtMs: number;
  /** Last time the condition was seen while open (de-duplicated repeats). */
  readonly lastSeenAtMs: number;
  /** Repeats folded into this alert. */
  readonly occurrences: number;
  /** When the condition cleared; null while open. */
  readonly resolvedAtMs: number | null;
  /** When an operator acknowledged it. */
  readonly acknowledgedAtMs: number | null;
  /** Who acknowledged it. */
  readonly acknowledgedBy: string | null;
}

/**
 * The JSON of `GET /report` (and what the dashboard draws): health,
 * alerts, key metrics and the configuration with secrets redacted.
 */
export interface MonitoringReport {
  /** Wall-clock ms when assembled. */
  readonly atMs: number;
  /** Seconds since the process started. */
  readonly uptimeSeconds: number;
  /** Package version. */
  readonly version: string;
  /** Readiness health with every check's result. */
  readonly health: HealthReport;
  /** Open alerts, newest first, then the most recent resolved ones. */
  readonly alerts: { readonly open: readonly Alert[]; readonly recent: readonly Alert[] };
  /** Key figures now: cumulative counters and gauges (the dashboard derives rates). */
  readonly metrics: {
    readonly sessions: number;
    readonly connections: number;
    /** Requests answered since start. */
    readonly requests: number;
    /** Error frames sent since start. */
    readonly errors: number;
    /** Requests shed since start. */
    readonly shed: number;
    /** Request latency percentiles (ms) over the recent window, when known. */
    readonly latencyMs: { readonly p50: number | null; readonly p99: number | null };
    /** Security layer: bans decided and requests rate-limited since start. */
    readonly bans: number;
    readonly rateLimited: number;
    /** Database pool. */
    readonly dbPool: { readonly inUse: number; readonly idle: number; readonly waiting: number };
    /** Process memory (bytes). */
    readonly rssBytes: number;
  };
  /** `redactConfig(config)`: secrets replaced. */
  readonly config: unknown;
}
