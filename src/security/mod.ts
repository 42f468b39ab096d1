/**
 * Security policy building blocks. The full reputation system (issue #5)
 * builds on these.
 *
 * @example Refuse an address after repeated handshake failures
 * ```ts
 * import { HandshakeGuard, IpRules } from "./mod.ts";
 * import { ManualClock } from "../util/mod.ts";
 * const guard = new HandshakeGuard({
 *   failureLimit: 2,
 *   allowList: new IpRules(["10.0.0.0/8"]),
 *   clock: new ManualClock(),
 * });
 * guard.recordFailure("192.0.2.1");
 * guard.recordFailure("192.0.2.1");
 * console.assert(!guard.allow("192.0.2.1"));
 * ```
 *
 * @module
 */
export {
  type CidrRange,
  IpRules,
  parseCidr,
  type ParsedIp,
  parseIp,
  trackingKey,
} from "./ip_rules.ts";
export { HandshakeGuard, type HandshakeGuardOptions } from "./handshake_guard.ts";
export {
  DbRateLimitedError,
  type DbSecurityEvent,
  type DbSecurityEventKind,
  type DbSecurityEventSink,
  escapeLikePattern,
  type Finding,
  type FindingKind,
  type GuardedQuery,
  IDENTIFIER_PATTERN,
  LIKE_ESCAPE_CLAUSE,
  QueryRateLimiter,
  type QueryRateLimiterOptions,
  quoteIdentifier,
  quoteQualifiedIdentifier,
  SqlInjectionDetector,
  type SqlInjectionDetectorOptions,
  SqlInjectionError,
  stripNul,
} from "./sql_guard/mod.ts";
export type {
  AuditEventInput,
  AuditEventKind,
  AuditSink,
  Decision,
  Detection,
  DetectionKind,
  HandshakeFailureReason,
  OffenceHistory,
  SecuritySignal,
} from "./types.ts";
export * from "./aimd/mod.ts";
export * from "./anomaly/mod.ts";
export * from "./reputation/mod.ts";
export * from "./audit/mod.ts";
