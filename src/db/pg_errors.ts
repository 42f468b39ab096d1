/**
 * postgres.js and network failures → {@linkcode DatabaseError} with a stable
 * code. PostgreSQL reports SQLSTATE codes (Appendix A of its manual); the
 * ones we branch on are named here.
 */

import { DatabaseError, SomnyError } from "../errors.ts";

/** SQLSTATEs with a meaning of their own. */
export const SQLSTATE = {
  serializationFailure: "40001",
  deadlockDetected: "40P01",
  queryCanceled: "57014",
  adminShutdown: "57P01",
  crashShutdown: "57P02",
  cannotConnectNow: "57P03",
  uniqueViolation: "23505",
} as const;

// Connection-level failures: the database is not reachable (now).
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/** Map anything thrown by postgres.js to a DatabaseError (SomnyErrors pass through). */
export function toDatabaseError(e: unknown, what = "query"): SomnyError {
  if (e instanceof SomnyError) return e;
  const err = e as { code?: string; message?: string; name?: string; errno?: string };
  const code = typeof err?.code === "string" ? err.code : undefined;
  const msg = typeof err?.message === "string" ? err.message : String(e);
  if (err?.name === "PostgresError" && code) {
    if (code === SQLSTATE.queryCanceled) {
      return new DatabaseError("DB_TIMEOUT", `Database ${what} timed out: ${msg}`, {
        cause: e,
        sqlState: code,
      });
    }
    if (code === SQLSTATE.serializationFailure || code === SQLSTATE.deadlockDetected) {
      return new DatabaseError("DB_SERIALIZATION_FAILURE", `Database ${what} failed: ${msg}`, {
        cause: e,
        sqlState: code,
      });
    }
    if (code.startsWith("57P") || code.startsWith("08")) {
      return new DatabaseError("DB_UNAVAILABLE", `Database unavailable: ${msg}`, {
        cause: e,
        sqlState: code,
      });
    }
    return new DatabaseError("DB_QUERY_FAILED", `Database ${what} failed: ${msg}`, {
      cause: e,
      sqlState: code,
    });
  }
  if ((code && NETWORK_CODES.has(code)) || e instanceof Deno.errors.ConnectionRefused) {
    return new DatabaseError("DB_UNAVAILABLE", `Database unavailable: ${msg}`, { cause: e });
  }
  return new DatabaseError("DB_QUERY_FAILED", `Database ${what} failed: ${msg}`, { cause: e });
}
