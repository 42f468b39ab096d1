/**
 * The security audit log (issue #5): handshake failures, decisions, bans
 * and unbans, injection attempts and admin actions, stored in PostgreSQL
 * (migration 3) as an HMAC-SHA256 chain keyed with `HMAC_SECRET_KEY`, with
 * retention and a verifier that reports the first broken link.
 *
 * `audit_log.ts` has the writer, retention and verification (and exactly
 * what verification can and cannot prove); `audit_chain.ts` the pure
 * record encoding and MACs.
 *
 * @example Record, flush, verify
 * ```ts ignore
 * import { AuditLog } from "./mod.ts";
 * // db: the database layer's Database, migrated with PROJECT_MIGRATIONS
 * const audit = new AuditLog(db, { key: hmacSecretKey });
 * audit.record({ kind: "handshake_failure", ip: "192.0.2.1", details: { reason: "decrypt" } });
 * await audit.flush();
 * const result = await audit.verify();
 * if (!result.ok) console.error(`broken at seq ${result.firstBrokenSeq}: ${result.reason}`);
 * await audit.close();
 * ```
 *
 * @module
 */

export {
  AUDIT_ANCHOR_TABLE,
  AUDIT_DROPPED_KIND,
  AUDIT_KINDS,
  AUDIT_LOCK_KEY,
  AUDIT_LOG_TABLE,
  AUDIT_MAX_ACTOR_CHARS,
  AUDIT_MAX_IP_CHARS,
  type AuditDatabase,
  AuditLog,
  type AuditLogOptions,
  type AuditLogStats,
  type AuditPurgeResult,
  type AuditVerifyFailure,
  type AuditVerifyOptions,
  type AuditVerifyResult,
} from "./audit_log.ts";
export {
  AUDIT_ENCODING_VERSION,
  AUDIT_MAC_BYTES,
  type AuditKey,
  type AuditRecordFields,
  canonicalJson,
  type CanonicalJsonOptions,
  computeAnchorMac,
  computeAuditMac,
  encodeAuditRecord,
  genesisMac,
  importAuditKey,
  macsEqual,
  wellFormedText,
} from "./audit_chain.ts";
