/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): attempt n waits a uniformly random time in
 * [0, min(maxMs, baseMs · 2^n)], so that many instances retrying a database
 * that just came back do not arrive in lockstep.
 */

/** Options for {@linkcode backoffDelayMs}. */
export interface BackoffOptions {
  /** First ceiling. @default 200 */
  readonly baseMs?: number;
  /** Largest ceiling. @default 5000 */
  readonly maxMs?: number;
  /** A number in [0, 1); inject for tests. @default Math.random */
  readonly random?: () => number;
}

/** Delay before retry number `attempt` (0-based). */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 5000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
