/**
 * Bans and allow/deny rules per address, kept in PostgreSQL (`ip_bans`,
 * `ip_rules`, migration 4) so they survive restarts and are shared by every
 * instance on the same database, with an in-memory mirror for the accept
 * path.
 *
 * - **Hot path.** {@linkcode ReputationStore.isBanned} is synchronous: one
 *   map lookup by tracking key (IPv4 address, IPv6 /64), the deny ranges,
 *   and, only when that says "banned", the allow ranges (allow wins). A
 *   temporary ban stops applying at its expiry on the injected clock, before
 *   any resync.
 * - **Sharing.** Every change is written to the table first, then announced
 *   with `NOTIFY somnytoo_bans` (`{"action":"ban"|"unban"|"rule","key":…}`).
 *   Listening instances re-read the named key (or the rules) at once, in
 *   notification order, so a ban or unban elsewhere applies well within
 *   1 s. A periodic resync (default every 5 s) reloads everything, which
 *   covers missed notifications (a dropped LISTEN connection) and the
 *   embedded database, where LISTEN is not used.
 * - **Bounded memory.** The mirror holds at most `maxCachedBans` bans,
 *   unexpired ones first (most recently changed first), then expired ones of
 *   the last `historyMs` (for {@linkcode ReputationStore.banCount}). While
 *   every unexpired ban fits, the mirror is complete and a miss means "not
 *   banned". When more exist, a miss still answers "not banned" at once
 *   (the accept path never waits for the database) but queues a lookup of
 *   that key off the hot path; a ban found is mirrored, evicting the least
 *   recently used entry, so the address's next connection is refused.
 *   Negative answers are remembered until the next resync.
 * - **Escalation.** `ban_count` counts bans of a key; a row outlives its
 *   temporary ban so the count does too. An unban deletes the row: the
 *   count starts again (an administrator's unban is forgiveness).
 *
 * This module imports no database code: it runs on anything shaped like
 * {@linkcode ReputationDatabase}, which the database layer's `Database`
 * satisfies.
 *
 * @module
 */

import { SecurityError } from "../../errors.ts";
import {
  createQueryBuilder,
  excluded,
  int4,
  jsonb,
  type QueryExecutor,
  table,
  text,
  timestamptz,
} from "../../orm/mod.ts";
import { type Clock, type Logger, noopLogger, systemClock } from "../../util/mod.ts";
import { type CidrRange, IpRules, parseIp, trackingKey } from "../ip_rules.ts";
import type { Detection, OffenceHistory } from "../types.ts";
import { keyOf, normaliseCidr } from "./_address.ts";

/**
 * The database the store needs (the database layer's `Database` has it all).
 *
 * @example
 * ```ts
 * import type { ReputationDatabase } from "./mod.ts";
 *
 * // Any object of this shape works; production passes the database layer's `Database`.
 * function describe(db: ReputationDatabase): string {
 *   return typeof db.listen === "function" ? "can listen" : "cannot";
 * }
 * void describe;
 * ```
 */
export interface ReputationDatabase extends QueryExecutor {
  /** Run `fn` in one transaction. */
  transaction<T>(
    fn: (tx: QueryExecutor) => Promise<T>,
    options?: { readonly isolation?: "repeatable read"; readonly readOnly?: boolean },
  ): Promise<T>;
  /** `LISTEN channel`; `onPayload` gets each notification's payload. */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
  ): Promise<{ unlisten(): Promise<void> }>;
  /** `NOTIFY channel, payload`. */
  notify(channel: string, payload: string): Promise<void>;
}

/**
 * Options for {@linkcode ReputationStore}.
 *
 * @example
 * ```ts
 * import { IpRules } from "../mod.ts";
 * import type { ReputationStoreOptions } from "./mod.ts";
 *
 * const options: ReputationStoreOptions = {
 *   listen: true, // a real PostgreSQL server
 *   allowList: new IpRules(["10.0.0.0/8"]),
 *   resyncIntervalMs: 5_000,
 * };
 * void options;
 * ```
 */
export interface ReputationStoreOptions {
  /**
   * Subscribe to ban notifications (LISTEN). True on a real PostgreSQL
   * server. False on the embedded database: its socket server accepts one
   * connection, which the pool holds, and one process owns its data, so
   * the periodic resync is enough.
   */
  readonly listen: boolean;
  /** Static allow-list (IP_WHITELIST), merged with the table's allow rules. @default empty */
  readonly allowList?: IpRules;
  /** Time for expiry and the resync timer. @default systemClock */
  readonly clock?: Clock;
  /** Where failed refreshes are reported. @default noopLogger */
  readonly logger?: Logger;
  /** Notification channel. @default "somnytoo_bans" */
  readonly channel?: string;
  /** Full reload period. @default 5 000 */
  readonly resyncIntervalMs?: number;
  /** Bans mirrored in memory at most. @default 100 000 */
  readonly maxCachedBans?: number;
  /** Expired bans stay mirrored this long, for `banCount`. @default 86 400 000 (24 h) */
  readonly historyMs?: number;
  /** Temporary ban length when `ban()` gives none. @default 3 600 000 (1 h) */
  readonly defaultBanMs?: number;
}

/**
 * `temp` bans expire; `permanent` ones last until an unban.
 *
 * @example
 * ```ts
 * import type { BanKind } from "./mod.ts";
 * const kind: BanKind = "temp";
 * void kind;
 * ```
 */
export type BanKind = "temp" | "permanent";

/**
 * Which list a rule belongs to.
 *
 * @example
 * ```ts
 * import type { RuleList } from "./mod.ts";
 * const list: RuleList = "deny";
 * void list;
 * ```
 */
export type RuleList = "allow" | "deny";

/**
 * What {@linkcode ReputationStore.ban} records.
 *
 * @example
 * ```ts
 * import type { BanOptions } from "./mod.ts";
 * const options: BanOptions = {
 *   reason: "anomaly score 0.93",
 *   durationMs: 600_000,
 *   detections: [{ kind: "HighPacketRate", weight: 0.6, atMs: 0, detail: "412 packets/s" }],
 * };
 * void options;
 * ```
 */
export interface BanOptions {
  /** A ban without expiry. @default false */
  readonly permanent?: boolean;
  /** Temporary ban length. @default the store's `defaultBanMs` */
  readonly durationMs?: number;
  /** Short, secret-free reason ("anomaly score 0.93", "admin"). */
  readonly reason: string;
  /** What led to the ban (kept for `explain`; at most 50 are kept). */
  readonly detections?: readonly Detection[];
}

/**
 * One ban as stored. Times are wall-clock ms.
 *
 * @example
 * ```ts
 * import type { BanRecord } from "./mod.ts";
 * const ban: BanRecord = {
 *   key: "192.0.2.7",
 *   kind: "temp",
 *   reason: "admin",
 *   detections: [],
 *   firstBannedAtMs: 0,
 *   bannedAtMs: 0,
 *   expiresAtMs: 600_000,
 *   banCount: 1,
 * };
 * void ban;
 * ```
 */
export interface BanRecord {
  /** Tracking key: the IPv4 address, or the IPv6 /64 (`trackingKey`). */
  readonly key: string;
  /** Temporary or permanent. */
  readonly kind: BanKind;
  /** Why, as given to `ban()` (the latest ban's reason). */
  readonly reason: string;
  /** The latest ban's detections. */
  readonly detections: readonly Detection[];
  /** First ban of this key (since the last unban). */
  readonly firstBannedAtMs: number;
  /** Start of the current ban. */
  readonly bannedAtMs: number;
  /** Null for a permanent ban. */
  readonly expiresAtMs: number | null;
  /** Bans of this key so far, this one included. */
  readonly banCount: number;
}

/**
 * What {@linkcode ReputationStore.ban} did.
 *
 * @example
 * ```ts
 * import type { BanResult } from "./mod.ts";
 * function describe(r: BanResult): string {
 *   return r.applied ? `banned until ${r.ban.expiresAtMs ?? "forever"}` : `allow-listed by ${r.matchedRule}`;
 * }
 * void describe;
 * ```
 */
export type BanResult =
  | { readonly applied: true; readonly ban: BanRecord }
  | {
    readonly applied: false;
    readonly reason: "allow_listed";
    /** The allow rule that matched (`"IP_WHITELIST"` for the static list). */
    readonly matchedRule: string;
  };

/**
 * Why an address is (or is not) refused.
 *
 * @example
 * ```ts
 * import type { BanExplanation } from "./mod.ts";
 * function summary(e: BanExplanation): string {
 *   if (!e.banned) return e.allowListed ? `allowed by ${e.matchedRule}` : "not banned";
 *   return e.denyListed ? `denied by ${e.matchedRule}` : `${e.kind} ban: ${e.reason}`;
 * }
 * void summary;
 * ```
 */
export interface BanExplanation {
  /** The tracking key the address falls under. */
  readonly key: string;
  /** True when `isBanned` refuses it now. */
  readonly banned: boolean;
  /** The stored ban, if one applies now (even if an allow rule overrides it). */
  readonly kind: BanKind | null;
  /** The ban's reason (null without a ban in force). */
  readonly reason: string | null;
  /** The detections behind the ban (empty without a ban in force). */
  readonly detections: readonly Detection[];
  /** Start of the ban in force (wall-clock ms). */
  readonly bannedAtMs: number | null;
  /** Its expiry (wall-clock ms); null when permanent or without a ban. */
  readonly expiresAtMs: number | null;
  /** Offences so far (expired bans included; 0 when none). */
  readonly banCount: number;
  /** An allow rule (or IP_WHITELIST) matches: never refused. */
  readonly allowListed: boolean;
  /** A deny rule matches. */
  readonly denyListed: boolean;
  /** The deciding rule: an allow rule if any matches, else a deny rule, else null. */
  readonly matchedRule: string | null;
}

/**
 * One allow or deny rule.
 *
 * @example
 * ```ts
 * import type { IpRule } from "./mod.ts";
 * const rule: IpRule = { cidr: "2001:db8::/32", list: "deny", note: "", createdAtMs: 0 };
 * void rule;
 * ```
 */
export interface IpRule {
  /** Normalised CIDR (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.1/32`). */
  readonly cidr: string;
  /** Allow or deny. */
  readonly list: RuleList;
  /** Free text for administrators. */
  readonly note: string;
  /** When the rule was first added (wall-clock ms). */
  readonly createdAtMs: number;
}

/**
 * Figures for monitoring.
 *
 * @example
 * ```ts
 * import type { ReputationStoreStats } from "./mod.ts";
 * const healthy = (s: ReputationStoreStats): boolean => s.complete && s.resyncFailures === 0;
 * void healthy;
 * ```
 */
export interface ReputationStoreStats {
  /** Bans mirrored in memory (expired ones kept for `banCount` included). */
  readonly cachedBans: number;
  /** False when more unexpired bans exist than fit in memory. */
  readonly complete: boolean;
  /** Allow and deny rules from the table. */
  readonly rules: number;
  /** Subscribed to ban notifications. */
  readonly listening: boolean;
  /** Completed full reloads. */
  readonly resyncs: number;
  /** Failed full reloads. */
  readonly resyncFailures: number;
}

const ipBans = table("ip_bans", {
  key: text().primaryKey(),
  kind: text(),
  reason: text().default(""),
  detections: jsonb<Detection[]>().default([]),
  created_at: timestamptz(),
  expires_at: timestamptz().nullable(),
  ban_count: int4().default(1),
  updated_at: timestamptz(),
});

const ipRules = table("ip_rules", {
  cidr: text().primaryKey(),
  list: text(),
  note: text().default(""),
  created_at: timestamptz(),
});

type BanRow = {
  key: string;
  kind: string;
  reason: string;
  detections: Detection[];
  created_at: Date;
  expires_at: Date | null;
  ban_count: number;
  updated_at: Date;
};
type RuleRow = { cidr: string; list: string; note: string; created_at: Date };

const MAX_DETECTIONS = 50;
const MAX_PENDING_LOOKUPS = 1000;
const DRAIN_BATCH = 500;
const STATIC_ALLOW = "IP_WHITELIST";

function toRecord(r: BanRow): BanRecord {
  return {
    key: r.key,
    kind: r.kind === "permanent" ? "permanent" : "temp",
    reason: r.reason,
    detections: Array.isArray(r.detections) ? r.detections : [],
    firstBannedAtMs: r.created_at.getTime(),
    bannedAtMs: r.updated_at.getTime(),
    expiresAtMs: r.expires_at === null ? null : r.expires_at.getTime(),
    banCount: r.ban_count,
  };
}

function toRule(r: RuleRow): IpRule {
  return {
    cidr: r.cidr,
    list: r.list === "allow" ? "allow" : "deny",
    note: r.note,
    createdAtMs: r.created_at.getTime(),
  };
}

function isActive(b: BanRecord, nowMs: number): boolean {
  return b.expiresAtMs === null || b.expiresAtMs > nowMs;
}

function invalidCidr(cidr: string): SecurityError {
  return new SecurityError(
    "SECURITY_INVALID_ADDRESS",
    `Invalid IP address or CIDR: ${JSON.stringify(String(cidr).slice(0, 100))}`,
  );
}

// Longest-prefix match among `ranges` (explain only; not the hot path).
function bestMatch(
  ranges: readonly { range: CidrRange; rule: IpRule }[],
  address: string,
): IpRule | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  let best: { range: CidrRange; rule: IpRule } | undefined;
  for (const r of ranges) {
    if (r.range.v6 !== ip.v6) continue;
    const shift = BigInt((ip.v6 ? 128 : 32) - r.range.prefix);
    if ((ip.value >> shift) << shift !== r.range.base) continue;
    if (!best || r.range.prefix > best.range.prefix) best = r;
  }
  return best?.rule;
}

/**
 * Bans, offence counts and allow/deny rules shared through the database
 * (see module doc). Call {@linkcode ReputationStore.start} before use and
 * {@linkcode ReputationStore.close} at shutdown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONFIG_DEFAULTS } from "../../config/mod.ts";
 * import { Database, migrate, PROJECT_MIGRATIONS, startEmbeddedDatabase } from "../../db/mod.ts";
 * import { ReputationStore } from "./mod.ts";
 *
 * const embedded = await startEmbeddedDatabase(); // in memory
 * const db = new Database({ ...CONFIG_DEFAULTS, url: embedded.url, maxConnections: 1 });
 * await migrate(db, PROJECT_MIGRATIONS);
 * // `listen: false` on the embedded database; true on a real server.
 * const store = new ReputationStore(db, { listen: false });
 * await store.start();
 * const r = await store.ban("2001:db8:1:2::7", { reason: "admin", durationMs: 600_000 });
 * assert.ok(r.applied);
 * assert.ok(store.isBanned("2001:db8:1:2::99")); // the same /64
 * assert.equal((await store.explain("2001:db8:1:2::7")).reason, "admin");
 * await store.close();
 * await db.close();
 * await embedded.close();
 * ```
 */
export class ReputationStore implements OffenceHistory {
  readonly #db: ReputationDatabase;
  readonly #listen: boolean;
  readonly #staticAllow: IpRules;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #channel: string;
  readonly #resyncIntervalMs: number;
  readonly #maxCachedBans: number;
  readonly #historyMs: number;
  readonly #defaultBanMs: number;

  #bans = new Map<string, BanRecord>(); // insertion order = LRU order
  #complete = true;
  #rules = new Map<string, IpRule>();
  #allow = new IpRules([]);
  #deny = new IpRules([]);
  #ranges: { range: CidrRange; rule: IpRule }[] = [];

  // Keys to re-read (notifications, misses), drained in order by one loop.
  readonly #dirty = new Set<string>();
  #rulesDirty = false;
  #draining: Promise<void> | undefined;
  // Misses looked up while incomplete: key → monotonic ms until which "absent" holds.
  readonly #absent = new Map<string, number>();
  // Keys changed while a resync reads its snapshot: re-read after it applies.
  #touched: Set<string> | undefined;
  #touchedRules = false;
  #resyncing: Promise<void> | undefined;

  #timer: number | undefined;
  #unlisten: { unlisten(): Promise<void> } | undefined;
  readonly #banListeners: ((key: string) => void)[] = [];
  #started = false;
  #closed = false;
  #resyncs = 0;
  #resyncFailures = 0;

  /**
   * Create a store; nothing is read until {@linkcode ReputationStore.start}.
   * @param db the database (the database layer's `Database`)
   * @param options see {@linkcode ReputationStoreOptions}
   * @throws {RangeError} on a non-positive interval, bound or duration
   */
  constructor(db: ReputationDatabase, options: ReputationStoreOptions) {
    this.#db = db;
    this.#listen = options.listen;
    this.#staticAllow = options.allowList ?? new IpRules([]);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    this.#channel = options.channel ?? "somnytoo_bans";
    this.#resyncIntervalMs = positive("resyncIntervalMs", options.resyncIntervalMs ?? 5_000);
    this.#maxCachedBans = positive("maxCachedBans", options.maxCachedBans ?? 100_000);
    this.#historyMs = options.historyMs ?? 86_400_000;
    if (!(this.#historyMs >= 0)) throw new RangeError(`historyMs must be >= 0: ${this.#historyMs}`);
    this.#defaultBanMs = positive("defaultBanMs", options.defaultBanMs ?? 3_600_000);
  }

  /**
   * Subscribe (when `listen`), load every ban and rule, and start the
   * periodic resync. A failed LISTEN is logged and leaves the resync alone
   * in charge.
   * @throws {SomnyError} when the first load fails
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#listen) {
      // Subscribe before loading: nothing committed in between is missed.
      try {
        this.#unlisten = await this.#db.listen(this.#channel, (p) => this.#onNotification(p));
      } catch (error) {
        this.#logger.warn("ban notifications unavailable; relying on resync", {
          channel: this.#channel,
          error: String(error),
        });
      }
    }
    await this.resync();
    this.#arm();
  }

  /** Stop the resync timer and the subscription; waits for reads in progress. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#unlisten?.unlisten().catch(() => {});
    this.#unlisten = undefined;
    await Promise.allSettled([this.#resyncing, this.#draining]);
  }

  /** See {@linkcode ReputationStoreStats}. */
  stats(): ReputationStoreStats {
    return {
      cachedBans: this.#bans.size,
      complete: this.#complete,
      rules: this.#rules.size,
      listening: this.#unlisten !== undefined,
      resyncs: this.#resyncs,
      resyncFailures: this.#resyncFailures,
    };
  }

  /**
   * True when connections from `address` must be refused: a ban on its
   * tracking key that has not expired, or a deny rule, and no allow rule.
   * Synchronous, no I/O (see module doc for misses beyond the memory bound).
   */
  isBanned(address: string): boolean {
    // One parse: an unparsable address keys as itself and misses.
    const key = trackingKey(address);
    let hit = false;
    const b = this.#bans.get(key);
    if (b) {
      if (isActive(b, this.#clock.now())) {
        hit = true;
        this.#bans.delete(key); // LRU touch
        this.#bans.set(key, b);
      }
    } else if (!this.#complete && parseIp(address)) this.#lookupLater(key);
    if (!hit && (this.#deny.size === 0 || !this.#deny.matches(address))) return false;
    return !this.#staticAllow.matches(address) && !this.#allow.matches(address);
  }

  /** Bans of `key` so far (a tracking key or an address; 0 when unknown or unbanned). */
  banCount(key: string): number {
    const k = keyFor(key) ?? key;
    return this.#bans.get(k)?.banCount ?? 0;
  }

  /**
   * Ban `address` (its tracking key: an IPv6 address bans its /64). The
   * row is upserted (`ban_count` + 1), then announced to other instances. A
   * ban never shortens one in force: a permanent ban stays permanent, and a
   * temporary one keeps the later expiry. An allow-listed address is not
   * banned: the result says so.
   * @param address an IP address, a tracking key, or an IPv6 /64 CIDR
   * @throws {SecurityError} `SECURITY_INVALID_ADDRESS`; `SECURITY_INVALID_INPUT`
   * for a non-positive duration
   * @throws {SomnyError} from the database
   */
  /**
   * Call `listener(key)` whenever a ban becomes active in this store's view:
   * from this instance, or from another one (a notification, a resync, a
   * lookup). The server uses it to close the sessions of an address banned
   * elsewhere.
   *
   * @example
   * ```ts ignore
   * store.onBanned((key) => console.log("banned:", key));
   * ```
   */
  onBanned(listener: (key: string) => void): void {
    this.#banListeners.push(listener);
  }

  async ban(address: string, options: BanOptions): Promise<BanResult> {
    const { key, address: probe } = keyOf(address);
    const permanent = options.permanent === true;
    const durationMs = options.durationMs ?? this.#defaultBanMs;
    if (!permanent && !(Number.isFinite(durationMs) && durationMs > 0)) {
      throw new SecurityError(
        "SECURITY_INVALID_INPUT",
        `Ban duration must be a positive number of ms: ${durationMs}`,
      );
    }
    const allowed = this.#allowRuleFor(probe);
    if (allowed !== undefined) {
      return { applied: false, reason: "allow_listed", matchedRule: allowed };
    }
    const now = this.#clock.now();
    const detections = (options.detections ?? []).slice(-MAX_DETECTIONS);
    const row = await this.#db.transaction(async (tx) => {
      const q = createQueryBuilder(tx);
      const [cur] = await q.selectFrom(ipBans).selectAll().where("key", "=", key).forUpdate()
        .execute();
      let kind: BanKind = permanent ? "permanent" : "temp";
      let expires: Date | null = permanent ? null : new Date(now + durationMs);
      if (cur && (cur.expires_at === null || cur.expires_at.getTime() > now)) {
        if (cur.kind === "permanent") [kind, expires] = ["permanent", null];
        else if (expires !== null && cur.expires_at! > expires) expires = cur.expires_at;
      }
      const at = new Date(now);
      const [r] = await q.insertInto(ipBans).values({
        key,
        kind,
        reason: options.reason,
        detections: detections as Detection[],
        created_at: at,
        expires_at: expires,
        ban_count: 1,
        updated_at: at,
      }).onConflict((oc) =>
        oc.columns("key").doUpdateSet({
          kind: excluded("kind"),
          reason: excluded("reason"),
          detections: excluded("detections"),
          expires_at: excluded("expires_at"),
          updated_at: excluded("updated_at"),
          ban_count: (eb) => eb.op("ip_bans.ban_count", "+", 1),
        })
      ).returningAll().execute();
      return r as BanRow;
    });
    const ban = toRecord(row);
    this.#put(ban);
    this.#touched?.add(key);
    await this.#announce("ban", key);
    return { applied: true, ban };
  }

  /**
   * Lift the ban on `address`'s tracking key and forget its offences.
   * @returns true if there was a ban (active or expired) to remove
   * @throws {SecurityError} `SECURITY_INVALID_ADDRESS`
   * @throws {SomnyError} from the database
   */
  async unban(address: string): Promise<boolean> {
    const { key } = keyOf(address);
    const rows = await createQueryBuilder(this.#db).deleteFrom(ipBans).where("key", "=", key)
      .returning("key").execute();
    this.#bans.delete(key);
    this.#touched?.add(key);
    await this.#announce("unban", key);
    return rows.length > 0;
  }

  /**
   * Bans in force now, read from the database (not the memory mirror),
   * most recent first.
   * @param options `limit` @default 1000; `includeExpired` also lists expired
   * bans still kept for escalation @default false
   */
  async list(
    options: { readonly limit?: number; readonly includeExpired?: boolean } = {},
  ): Promise<BanRecord[]> {
    const limit = options.limit ?? 1000;
    const now = new Date(this.#clock.now());
    const rows = await this.#read(async (q) => {
      const base = q.selectFrom(ipBans).selectAll();
      const filtered = options.includeExpired
        ? base
        : base.where((eb) =>
          eb.or([eb.cmp("expires_at", "is null"), eb.cmp("expires_at", ">", now)])
        );
      return await filtered.orderBy("updated_at", "desc").orderBy("key").limit(limit).execute();
    });
    return rows.map((r) => toRecord(r as BanRow));
  }

  /**
   * Why `address` is or is not refused: its ban (read from the database),
   * the detections behind it, when it expires, and the rules that match.
   * @throws {SecurityError} `SECURITY_INVALID_ADDRESS`
   * @throws {SomnyError} from the database
   */
  async explain(address: string): Promise<BanExplanation> {
    const { key, address: probe } = keyOf(address);
    const [row] = await this.#read((q) =>
      q.selectFrom(ipBans).selectAll().where("key", "=", key).execute()
    );
    const ban = row ? toRecord(row as BanRow) : undefined;
    if (ban) this.#put(ban);
    const active = ban !== undefined && isActive(ban, this.#clock.now()) ? ban : undefined;
    const allowRule = this.#allowRuleFor(probe);
    const denyRule = bestMatch(this.#ranges.filter((r) => r.rule.list === "deny"), probe);
    return {
      key,
      banned: allowRule === undefined && (active !== undefined || denyRule !== undefined),
      kind: active?.kind ?? null,
      reason: active?.reason ?? null,
      detections: active?.detections ?? [],
      bannedAtMs: active?.bannedAtMs ?? null,
      expiresAtMs: active?.expiresAtMs ?? null,
      banCount: ban?.banCount ?? 0,
      allowListed: allowRule !== undefined,
      denyListed: denyRule !== undefined,
      matchedRule: allowRule ?? denyRule?.cidr ?? null,
    };
  }

  /**
   * Add (or replace) an allow or deny rule for a range. Applies here at
   * once and on other instances within the notification delay.
   * @param cidr an address or CIDR, IPv4 or IPv6; stored normalised
   * @throws {SecurityError} `SECURITY_INVALID_ADDRESS` for a bad CIDR,
   * `SECURITY_INVALID_INPUT` for a bad list
   * @throws {SomnyError} from the database
   */
  async addRule(cidr: string, list: RuleList, note = ""): Promise<IpRule> {
    const n = normaliseCidr(String(cidr));
    if (!n) throw invalidCidr(cidr);
    if (list !== "allow" && list !== "deny") {
      throw new SecurityError("SECURITY_INVALID_INPUT", `Rule list must be allow or deny: ${list}`);
    }
    const [row] = await createQueryBuilder(this.#db).insertInto(ipRules).values({
      cidr: n.cidr,
      list,
      note,
      created_at: new Date(this.#clock.now()),
    }).onConflict((oc) =>
      oc.columns("cidr").doUpdateSet({ list: excluded("list"), note: excluded("note") })
    ).returningAll().execute();
    const rule = toRule(row as RuleRow);
    const next = new Map(this.#rules);
    next.set(rule.cidr, rule);
    this.#applyRules([...next.values()]);
    if (this.#touched) this.#touchedRules = true;
    await this.#announce("rule", rule.cidr);
    return rule;
  }

  /**
   * Remove the rule for `cidr` (normalised first, so any spelling works).
   * @returns true if a rule was removed
   * @throws {SecurityError} `SECURITY_INVALID_ADDRESS`
   * @throws {SomnyError} from the database
   */
  async removeRule(cidr: string): Promise<boolean> {
    const n = normaliseCidr(String(cidr));
    if (!n) throw invalidCidr(cidr);
    const rows = await createQueryBuilder(this.#db).deleteFrom(ipRules).where("cidr", "=", n.cidr)
      .returning("cidr").execute();
    const next = new Map(this.#rules);
    next.delete(n.cidr);
    this.#applyRules([...next.values()]);
    if (this.#touched) this.#touchedRules = true;
    await this.#announce("rule", n.cidr);
    return rows.length > 0;
  }

  /** Every allow and deny rule, read from the database, by list then CIDR. */
  async rules(): Promise<IpRule[]> {
    const rows = await this.#read((q) =>
      q.selectFrom(ipRules).selectAll().orderBy("list").orderBy("cidr").execute()
    );
    return rows.map((r) => toRule(r as RuleRow));
  }

  /**
   * Reload every unexpired ban (and recent expired ones) and every rule
   * from one snapshot. Runs every `resyncIntervalMs`; concurrent calls share
   * one reload.
   * @throws {SomnyError} from the database
   */
  resync(): Promise<void> {
    this.#resyncing ??= this.#doResync().finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #doResync(): Promise<void> {
    const touched = new Set<string>();
    this.#touched = touched;
    this.#touchedRules = false;
    try {
      const now = this.#clock.now();
      const max = this.#maxCachedBans;
      const snapshot = await this.#read(async (q) => {
        const active = await q.selectFrom(ipBans).selectAll()
          .where((eb) =>
            eb.or([eb.cmp("expires_at", "is null"), eb.cmp("expires_at", ">", new Date(now))])
          ).orderBy("updated_at", "desc").limit(max + 1).execute();
        const room = max - Math.min(max, active.length);
        const history = room > 0 && this.#historyMs > 0
          ? await q.selectFrom(ipBans).selectAll()
            .where("expires_at", "<=", new Date(now))
            .where("expires_at", ">", new Date(now - this.#historyMs))
            .orderBy("updated_at", "desc").limit(room).execute()
          : [];
        const rules = await q.selectFrom(ipRules).selectAll().execute();
        return { active, history, rules };
      });
      const bans = new Map<string, BanRecord>();
      // Least recently changed first (LRU order): history, then active bans.
      const ordered = [
        ...snapshot.history.slice().reverse(),
        ...snapshot.active.slice(0, max).reverse(),
      ];
      for (const r of ordered) bans.set(r.key, toRecord(r as BanRow));
      const previous = this.#bans;
      this.#bans = bans;
      // Bans this view did not have (a missed notification): tell listeners.
      const nowMs = this.#clock.now();
      for (const b of bans.values()) {
        const was = previous.get(b.key);
        if (
          isActive(b, nowMs) && !(was && isActive(was, nowMs) && was.bannedAtMs === b.bannedAtMs)
        ) {
          this.#notifyBanned(b.key);
        }
      }
      this.#complete = snapshot.active.length <= max;
      this.#absent.clear();
      this.#applyRules(snapshot.rules.map((r) => toRule(r as RuleRow)));
      this.#resyncs++;
    } catch (e) {
      this.#resyncFailures++;
      throw e;
    } finally {
      this.#touched = undefined;
    }
    // Changes that landed while the snapshot was read may be newer than it.
    for (const k of touched) this.#dirty.add(k);
    if (this.#touchedRules) this.#rulesDirty = true;
    this.#drain();
  }

  #arm(): void {
    if (this.#closed) return;
    // Re-armed when the resync settles: never two at once, whatever the clock does.
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.resync().catch((error) =>
        this.#logger.warn("ban resync failed", { error: String(error) })
      ).finally(() => this.#arm());
    }, this.#resyncIntervalMs);
  }

  #onNotification(payload: string): void {
    let msg: { action?: unknown; key?: unknown };
    try {
      msg = JSON.parse(payload);
    } catch {
      return;
    }
    if (msg.action === "rule") this.#rulesDirty = true;
    else if ((msg.action === "ban" || msg.action === "unban") && typeof msg.key === "string") {
      this.#dirty.add(msg.key);
    } else return;
    this.#drain();
  }

  #lookupLater(key: string): void {
    const until = this.#absent.get(key);
    if (until !== undefined && until > this.#clock.monotonic()) return;
    if (this.#dirty.size >= MAX_PENDING_LOOKUPS) return;
    this.#dirty.add(key);
    this.#drain();
  }

  // Re-read dirty keys (and the rules) in batches, one read at a time, so
  // the last read of a key is issued after its last notification arrived.
  #drain(): void {
    if (this.#draining || this.#closed) return;
    if (this.#dirty.size === 0 && !this.#rulesDirty) return;
    this.#draining = (async () => {
      while (!this.#closed && (this.#dirty.size > 0 || this.#rulesDirty)) {
        const keys: string[] = [];
        for (const k of this.#dirty) {
          keys.push(k);
          if (keys.length >= DRAIN_BATCH) break;
        }
        for (const k of keys) this.#dirty.delete(k);
        const rules = this.#rulesDirty;
        this.#rulesDirty = false;
        try {
          const r = await this.#read(async (q) => ({
            bans: keys.length > 0
              ? await q.selectFrom(ipBans).selectAll().where("key", "in", keys).execute()
              : [],
            rules: rules ? await q.selectFrom(ipRules).selectAll().execute() : undefined,
          }));
          const found = new Map(r.bans.map((b) => [b.key, toRecord(b as BanRow)]));
          for (const k of keys) {
            this.#touched?.add(k);
            const b = found.get(k);
            if (b) this.#put(b);
            else {
              this.#bans.delete(k);
              if (!this.#complete) this.#markAbsent(k);
            }
          }
          if (r.rules) {
            if (this.#touched) this.#touchedRules = true;
            this.#applyRules(r.rules.map((x) => toRule(x as RuleRow)));
          }
        } catch (error) {
          // The next resync catches up.
          this.#logger.warn("ban refresh failed", { error: String(error) });
          break;
        }
      }
    })().finally(() => {
      this.#draining = undefined;
    });
  }

  #markAbsent(key: string): void {
    this.#absent.delete(key);
    this.#absent.set(key, this.#clock.monotonic() + this.#resyncIntervalMs);
    if (this.#absent.size > MAX_PENDING_LOOKUPS * 10) {
      this.#absent.delete(this.#absent.keys().next().value!);
    }
  }

  #put(b: BanRecord): void {
    const before = this.#bans.get(b.key);
    const now = this.#clock.now();
    const newlyActive = isActive(b, now) && !(before && isActive(before, now) &&
      before.bannedAtMs === b.bannedAtMs);
    this.#bans.delete(b.key);
    this.#bans.set(b.key, b);
    if (newlyActive) this.#notifyBanned(b.key);
    this.#absent.delete(b.key);
    if (this.#bans.size > this.#maxCachedBans) {
      this.#bans.delete(this.#bans.keys().next().value!);
      this.#complete = false;
    }
  }

  #notifyBanned(key: string): void {
    for (const l of this.#banListeners) {
      try {
        l(key);
      } catch (error) {
        this.#logger.error("ban listener failed", { error: String(error) });
      }
    }
  }

  #applyRules(rules: readonly IpRule[]): void {
    const map = new Map<string, IpRule>();
    const ranges: { range: CidrRange; rule: IpRule }[] = [];
    for (const rule of rules) {
      const n = normaliseCidr(rule.cidr);
      if (!n) {
        this.#logger.warn("ignoring an invalid rule", { cidr: rule.cidr });
        continue;
      }
      map.set(rule.cidr, rule);
      ranges.push({ range: n.range, rule });
    }
    this.#rules = map;
    this.#ranges = ranges;
    this.#allow = new IpRules(
      ranges.filter((r) => r.rule.list === "allow").map((r) => r.rule.cidr),
    );
    this.#deny = new IpRules(ranges.filter((r) => r.rule.list === "deny").map((r) => r.rule.cidr));
  }

  #allowRuleFor(address: string): string | undefined {
    if (this.#staticAllow.matches(address)) return STATIC_ALLOW;
    if (this.#allow.size === 0) return undefined;
    return bestMatch(this.#ranges.filter((r) => r.rule.list === "allow"), address)?.cidr;
  }

  // Reads run in a read-only REPEATABLE READ transaction: one snapshot, and
  // never served from the database layer's result cache, which cannot see
  // other instances' writes.
  #read<T>(fn: (q: ReturnType<typeof createQueryBuilder>) => Promise<T>): Promise<T> {
    return this.#db.transaction(
      (tx) => fn(createQueryBuilder(tx)),
      { isolation: "repeatable read", readOnly: true },
    );
  }

  async #announce(action: "ban" | "unban" | "rule", key: string): Promise<void> {
    try {
      await this.#db.notify(this.#channel, JSON.stringify({ action, key }));
    } catch (error) {
      // The change is committed; other instances see it at their next resync.
      this.#logger.warn("ban notification failed", { action, error: String(error) });
    }
  }
}

function keyFor(address: string): string | undefined {
  try {
    return keyOf(address).key;
  } catch {
    return undefined;
  }
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be positive: ${v}`);
  return v;
}
