/**
 * A guard against one known race in postgres.js 3.4 under Deno: when a
 * connection closes (server restart, `pg_terminate_backend`, network drop)
 * while a write is scheduled with `setImmediate`, the scheduled
 * `nextWrite` runs with the socket already set to null and throws
 * `TypeError: Cannot read properties of null (reading 'write')` from a timer
 * callback, an uncaught exception that would end the process. The queries
 * on that connection are failed by postgres.js's own close handling
 * (CONNECTION_CLOSED), so the throw itself carries nothing to act on.
 *
 * {@linkcode installPostgresWriteRaceGuard} swallows exactly that error
 * (matched by message and by the frame `nextWrite` in postgres.js's
 * `connection.js`) and counts it; anything else stays uncaught.
 */

let installed = false;
let swallowed = 0;

/** True for the postgres.js `nextWrite` null-socket TypeError, and nothing else. */
export function isPostgresWriteRace(e: unknown): boolean {
  if (!(e instanceof TypeError)) return false;
  const stack = e.stack ?? "";
  return e.message.includes("reading 'write'") && /\bnextWrite\b/.test(stack) &&
    /postgres[\\/].*connection\.js/.test(stack);
}

/** Install the guard once per process (idempotent). */
export function installPostgresWriteRaceGuard(): void {
  if (installed) return;
  installed = true;
  globalThis.addEventListener("error", (event) => {
    if (isPostgresWriteRace(event.error)) {
      swallowed++;
      event.preventDefault();
    }
  });
}

/** How many times the guard has swallowed the race (for diagnostics). */
export function postgresWriteRacesSwallowed(): number {
  return swallowed;
}
