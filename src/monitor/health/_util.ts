// Helpers private to src/monitor/health/.

/** One line from an error, for `CheckOutcome.message` (secret-free: no stack, no cause). */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  const line = text.split("\n", 1)[0];
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Round to 2 decimals (details stay readable). */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A status from a value and two ascending thresholds (`value >= unhealthyAt` → unhealthy). */
export function byThresholds(
  value: number,
  degradedAt: number,
  unhealthyAt: number,
): "healthy" | "degraded" | "unhealthy" {
  if (value >= unhealthyAt) return "unhealthy";
  if (value >= degradedAt) return "degraded";
  return "healthy";
}
