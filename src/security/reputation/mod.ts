/**
 * IP reputation (issue #5): a decaying score per address and the ban
 * store shared through PostgreSQL, with allow and deny CIDR lists. IPv6
 * addresses are tracked per /64 (`trackingKey`).
 *
 * @example Score an address: each point is worth half after the half-life
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReputationScore } from "./mod.ts";
 *
 * const scores = new ReputationScore({ halfLifeMs: 600_000 });
 * scores.add("2001:db8::1", 1, 0);
 * assert.equal(scores.get("2001:db8::1", 600_000), 0.5);
 * ```
 *
 * @module
 */

export { ReputationScore, type ReputationScoreOptions } from "./reputation_score.ts";
export {
  type BanExplanation,
  type BanKind,
  type BanOptions,
  type BanRecord,
  type BanResult,
  type IpRule,
  type ReputationDatabase,
  ReputationStore,
  type ReputationStoreOptions,
  type ReputationStoreStats,
  type RuleList,
} from "./reputation_store.ts";
