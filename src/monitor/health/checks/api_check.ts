/**
 * API check: the monitoring HTTP sub-app answers. Fetches a URL it serves
 * (given late, once the app listens: `url()` returns undefined until then,
 * and the check is healthy with `details.serving: false`). A 2xx answer is
 * healthy (degraded when slower than `degradedMs`); anything else, or no
 * answer, is unhealthy. Point it at an endpoint that does not itself run
 * this check (e.g. `/health/live` while this check is readiness-only),
 * or the request would wait for itself until the timeout.
 *
 * @module
 */

import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { errorMessage, round2 } from "../_util.ts";

/** Options for {@linkcode apiCheck}. */
export interface ApiCheckOptions {
  /** The URL to fetch, or undefined while the app is not serving. */
  readonly url: () => string | undefined;
  /** Check name. @default "api" */
  readonly name?: string;
  /** Probes it counts for (the monitoring app does not carry the protocol's traffic). @default [] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms). @default 10000 */
  readonly ttlMs?: number;
  /** An answer at or above this is `degraded` (ms). @default 1000 */
  readonly degradedMs?: number;
  /** Extra request headers (e.g. an Authorization for an admin endpoint). */
  readonly headers?: () => HeadersInit;
  /** The fetch used (inject for tests). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * A {@linkcode HealthCheck} that the HTTP sub-app answers.
 *
 * @example Not serving yet
 * ```ts
 * import assert from "node:assert/strict";
 * import { apiCheck } from "./api_check.ts";
 * const outcome = await apiCheck({ url: () => undefined }).run(new AbortController().signal);
 * assert.deepEqual(outcome, { status: "healthy", details: { serving: false } });
 * ```
 */
export function apiCheck(options: ApiCheckOptions): HealthCheck {
  const degradedMs = options.degradedMs ?? 1000;
  const doFetch = options.fetch ?? globalThis.fetch;
  return {
    name: options.name ?? "api",
    probes: options.probes ?? [],
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      const url = options.url();
      if (url === undefined) return { status: "healthy", details: { serving: false } };
      // Only the path is shown: the origin may carry credentials or internal names.
      let path: string;
      try {
        path = new URL(url).pathname;
      } catch {
        return { status: "unhealthy", message: "invalid API check URL" };
      }
      const t0 = performance.now();
      let res: Response;
      try {
        res = await doFetch(url, {
          signal,
          ...(options.headers ? { headers: options.headers() } : {}),
        });
      } catch (err) {
        if (signal.aborted) throw err;
        return {
          status: "unhealthy",
          message: `API not answering: ${errorMessage(err)}`,
          details: { serving: true, path },
        };
      }
      await res.body?.cancel();
      const responseMs = round2(performance.now() - t0);
      const details = { serving: true, path, httpStatus: res.status, responseMs };
      if (!res.ok) {
        return { status: "unhealthy", message: `API answered ${res.status} on ${path}`, details };
      }
      if (responseMs >= degradedMs) {
        return {
          status: "degraded",
          message: `API answered in ${responseMs} ms ≥ ${degradedMs} ms`,
          details,
        };
      }
      return { status: "healthy", details };
    },
  };
}
