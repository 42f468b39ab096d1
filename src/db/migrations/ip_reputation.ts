import type { Migration } from "../migrations.ts";

/**
 * IP reputation (issue #5), read and written by `security/reputation/`.
 *
 * `ip_bans`: one row per tracking key (an IPv4 address, or an IPv6 /64 as
 * `trackingKey` writes it). A row outlives its temporary ban: `ban_count`
 * (offences so far) drives escalation, so an expired row is kept; an unban
 * deletes the row (forgiveness: the count starts again). `expires_at` is
 * NULL exactly for permanent bans (the CHECK). Times are written from the
 * application's clock, not `now()`, so every instance compares like with like.
 * The index on `updated_at` serves the resync query ("most recently changed
 * rows first, up to the cache bound"); the one on `expires_at` the load of
 * unexpired bans.
 *
 * `ip_rules`: allow and deny ranges, keyed by the normalised CIDR text
 * (`10.0.0.0/8`, `2001:db8::/32`), so one range has one rule.
 */
export const IP_REPUTATION: Migration = {
  version: 4,
  name: "ip_reputation",
  statements: [
    `CREATE TABLE ip_bans (
      key text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 64),
      kind text NOT NULL CHECK (kind IN ('temp', 'permanent')),
      reason text NOT NULL DEFAULT '',
      detections jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL,
      expires_at timestamptz,
      ban_count int4 NOT NULL DEFAULT 1 CHECK (ban_count >= 0),
      updated_at timestamptz NOT NULL,
      CHECK ((kind = 'permanent') = (expires_at IS NULL))
    )`,
    `CREATE INDEX ip_bans_updated_at ON ip_bans (updated_at DESC)`,
    `CREATE INDEX ip_bans_expires_at ON ip_bans (expires_at)`,
    `CREATE TABLE ip_rules (
      cidr text PRIMARY KEY CHECK (length(cidr) BETWEEN 1 AND 64),
      list text NOT NULL CHECK (list IN ('allow', 'deny')),
      note text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL
    )`,
  ],
};
