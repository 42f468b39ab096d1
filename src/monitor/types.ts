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
  readonly status: HealthStatus;
  /** Secret-free details (numbers, short strings) shown in /health and /report. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Why it is not healthy, one line, secret-free. */
  readonly message?: string;
}

/** A stored check result. */
export interface CheckResult extends CheckOutcome {
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
  readonly level: AlertLevel;
  readonly title: string;
  readonly message: string;
  readonly raisedAtMs: number;
  /** Last time the condition was seen while open (de-duplicated repeats). */
  readonly lastSeenAtMs: number;
  /** Repeats folded into this alert. */
  readonly occurrences: number;
  readonly resolvedAtMs: number | null;
  readonly acknowledgedAtMs: number | null;
  readonly acknowledgedBy: string | null;
}
