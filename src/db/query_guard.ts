/**
 * The guard every statement passes before it runs (`Database` calls it):
 * the caller's database request budget (`MAX_REQUESTS_PER_MINUTE`, Error 3
 * with retry-after on the wire) and SQL-injection screening of raw SQL text
 * (`ENABLE_SQL_INJECTION_PROTECTION`, `MAX_QUERY_LENGTH`). Detections and
 * floods are emitted as `SQLInjectionAttempt` / `ORMQueryFlood` events with
 * the caller's identity, for the security layer to score.
 */

import type { DatabaseConfig } from "../config/mod.ts";
import type { CompiledQuery } from "../orm/mod.ts";
import {
  type DbSecurityEventSink,
  QueryRateLimiter,
  SqlInjectionDetector,
} from "../security/mod.ts";
import type { Clock } from "../util/mod.ts";
import { INTERNAL_CALLER, type QueryGuard } from "./database.ts";

/** Options for {@linkcode createQueryGuard}. */
export interface QueryGuardOptions {
  readonly clock: Clock;
  /** Receives every detection and flood event. */
  readonly onEvent?: DbSecurityEventSink;
  /** Callers tracked by the rate limiter at most. @default 10000 */
  readonly maxTrackedCallers?: number;
}

/** A {@linkcode QueryGuard} from configuration (see module doc). */
export function createQueryGuard(
  config: DatabaseConfig,
  options: QueryGuardOptions,
): QueryGuard & { readonly limiter: QueryRateLimiter; readonly detector: SqlInjectionDetector } {
  const detector = new SqlInjectionDetector({
    enabled: config.enableSqlInjectionProtection,
    maxQueryLength: config.maxQueryLength,
    onEvent: options.onEvent,
    clock: options.clock,
  });
  const limiter = new QueryRateLimiter({
    maxRequestsPerMinute: config.maxRequestsPerMinute,
    clock: options.clock,
    maxTrackedCallers: options.maxTrackedCallers,
    onEvent: options.onEvent,
  });
  return {
    detector,
    limiter,
    check(query: CompiledQuery, caller: string) {
      // The server's own statements (migrations, maintenance) have no budget.
      if (caller !== INTERNAL_CALLER) limiter.acquire(caller);
      detector.check(query, caller);
    },
  };
}
