import type { Migration } from "../migrations.ts";

/**
 * Security audit log (issue #5), written and verified by `security/audit/`.
 *
 * `security_audit_log`: one row per event, `seq` strictly consecutive from
 * the chain's start (writers take an advisory lock, read the last row and
 * append). `mac = HMAC-SHA256(HMAC_SECRET_KEY, prev_mac || encoding)` (see
 * `security/audit/audit_chain.ts` for the byte layout). `details` is
 * `text`, not `jsonb`: it holds the exact canonical JSON the MAC covered
 * (jsonb would reorder and renormalise it); it is always valid JSON and
 * castable with `details::jsonb` for queries. The `occurred_at` index serves
 * retention.
 *
 * `security_audit_anchor`: at most one row, written by retention: the chain
 * now starts at `first_seq`, whose `prev_mac` must equal this `prev_mac`;
 * `mac` authenticates the pair. No row means the chain starts at seq 1 from
 * the genesis MAC (32 zero bytes).
 */
export const SECURITY_AUDIT: Migration = {
  version: 3,
  name: "security_audit_log",
  statements: [
    `CREATE TABLE security_audit_log (
      seq int8 PRIMARY KEY CHECK (seq >= 1),
      occurred_at timestamptz NOT NULL,
      kind text NOT NULL CHECK (kind IN ('handshake_failure', 'decision', 'ban', 'unban',
        'sql_injection_attempt', 'orm_query_flood', 'admin_action', 'audit_dropped')),
      ip text CHECK (length(ip) <= 64),
      actor text CHECK (length(actor) <= 128),
      details text NOT NULL,
      prev_mac bytea NOT NULL CHECK (octet_length(prev_mac) = 32),
      mac bytea NOT NULL CHECK (octet_length(mac) = 32)
    )`,
    `CREATE INDEX security_audit_log_occurred_at ON security_audit_log (occurred_at)`,
    `CREATE TABLE security_audit_anchor (
      id int2 PRIMARY KEY CHECK (id = 1),
      first_seq int8 NOT NULL CHECK (first_seq >= 1),
      prev_mac bytea NOT NULL CHECK (octet_length(prev_mac) = 32),
      mac bytea NOT NULL CHECK (octet_length(mac) = 32),
      updated_at timestamptz NOT NULL
    )`,
  ],
};
