/**
 * The security audit log (issue #5): structured events stored in PostgreSQL
 * (`security_audit_log`, migration 3), chained with HMAC-SHA256 so that an
 * edit or a deletion is detected by {@linkcode AuditLog.verify}.
 *
 * - **Never in the caller's way.** {@linkcode AuditLog.record} validates and
 *   encodes the event at once (so later mutation of the caller's object
 *   changes nothing), appends it to a bounded in-memory queue and returns;
 *   it never throws and never waits. A background writer flushes the queue
 *   in batches (after `flushIntervalMs`, or at once when a batch is full).
 * - **Bounded.** At most `maxQueued` events and `maxQueuedChars` characters
 *   of encoded text wait in memory. When full, new events are dropped and
 *   counted; events with an unknown kind are refused and counted too. The
 *   next batch written ends with one synthetic `audit_dropped` record,
 *   `{"dropped":n,"invalid":m}`, so the loss itself is in the chain.
 * - **One chain, many writers.** Each batch is ONE transaction (READ
 *   COMMITTED) that takes `pg_advisory_xact_lock(AUDIT_LOCK_KEY)`, then
 *   reads the last row (or the retention anchor when the table is empty)
 *   and inserts the batch with consecutive `seq`s and chained MACs. The
 *   lock serialises every instance on the database, and under READ
 *   COMMITTED the read after the lock sees the previous holder's commit, so
 *   seqs stay gap-free and the chain single. (REPEATABLE READ would break
 *   this: its snapshot is taken before the lock is granted.) The primary
 *   key on `seq` refuses a duplicate if anything bypassed the lock.
 * - **Failures.** A failed flush keeps its events at the head of the queue
 *   and is retried with exponential backoff (up to `retryMaxDelayMs`);
 *   meanwhile the bound applies. Delivery is at-least-once: a commit whose
 *   acknowledgement is lost is written again (a duplicate, still chained).
 * - **Retention.** {@linkcode AuditLog.purgeOlderThan} deletes the oldest
 *   records, always a prefix of the chain (the rows before the first one
 *   recorded at or after the cutoff), after verifying them, and moves the
 *   anchor (`security_audit_anchor`: first kept seq + its `prev_mac`, with
 *   an anchor MAC) in the same transaction.
 *
 * **What verification proves** (an attacker with write access to the
 * database but without the key): an edited field, MAC or `prev_mac` of any
 * kept record (`mac_mismatch` / `prev_mismatch`); a deleted or inserted
 * record anywhere before the last one (`gap` / `prev_mismatch`); a purge
 * faked by deleting a prefix (the anchor no longer matches: `gap`), or an
 * anchor moved or edited (`anchor_mismatch`). **What it cannot prove:**
 * that no records were removed from the END (truncating the tail, or the
 * whole table down to the anchor, leaves a valid shorter chain) and that
 * records older than the anchor ever existed in a given form (they are
 * gone). Keep the head `(lastSeq, lastMacHex)` that `verify` returns
 * somewhere else (logs, a monitoring system) and pass it as
 * `expectHead` later to detect truncation up to that point. Anyone holding
 * the key can rewrite everything.
 *
 * @module
 */

import type { CompiledQuery, QueryExecutor, QueryOperation } from "../../orm/mod.ts";
import {
  type Clock,
  fromHex,
  type Logger,
  noopLogger,
  systemClock,
  toHex,
} from "../../util/mod.ts";
import type { AuditEventInput, AuditEventKind, AuditSink } from "../types.ts";
import {
  AUDIT_MAC_BYTES,
  type AuditKey,
  canonicalJson,
  computeAnchorMac,
  computeAuditMac,
  genesisMac,
  importAuditKey,
  macsEqual,
  wellFormedText,
} from "./audit_chain.ts";

/**
 * Table of records (migration 3).
 *
 * @example
 * ```ts
 * import { AUDIT_LOG_TABLE } from "./mod.ts";
 * console.assert(AUDIT_LOG_TABLE === "security_audit_log");
 * ```
 */
export const AUDIT_LOG_TABLE = "security_audit_log";
/**
 * Table of the retention anchor (migration 3).
 *
 * @example
 * ```ts
 * import { AUDIT_ANCHOR_TABLE } from "./mod.ts";
 * console.assert(AUDIT_ANCHOR_TABLE === "security_audit_anchor");
 * ```
 */
export const AUDIT_ANCHOR_TABLE = "security_audit_anchor";
/**
 * `pg_advisory_xact_lock` key of the chain: "SomnyAud" in ASCII as an int8.
 *
 * @example
 * ```ts
 * import { AUDIT_LOCK_KEY } from "./mod.ts";
 * const sql = `SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
 * void sql;
 * ```
 */
export const AUDIT_LOCK_KEY = "6012144348811064676";

/**
 * Kind of the synthetic record reporting dropped and refused events.
 *
 * @example
 * ```ts
 * import { AUDIT_DROPPED_KIND, AUDIT_KINDS } from "./mod.ts";
 * console.assert(AUDIT_KINDS.includes(AUDIT_DROPPED_KIND));
 * ```
 */
export const AUDIT_DROPPED_KIND = "audit_dropped";

/**
 * Every kind the table accepts (the migration's CHECK).
 *
 * @example
 * ```ts
 * import { AUDIT_KINDS } from "./mod.ts";
 * console.assert(AUDIT_KINDS.includes("ban"));
 * ```
 */
export const AUDIT_KINDS: readonly (AuditEventKind | typeof AUDIT_DROPPED_KIND)[] = [
  "handshake_failure",
  "decision",
  "ban",
  "unban",
  "sql_injection_attempt",
  "orm_query_flood",
  "admin_action",
  AUDIT_DROPPED_KIND,
];
const EVENT_KINDS = new Set<string>(AUDIT_KINDS.filter((k) => k !== AUDIT_DROPPED_KIND));

/**
 * Longest `ip` stored (characters; longer is cut).
 *
 * @example
 * ```ts
 * import { AUDIT_MAX_IP_CHARS } from "./mod.ts";
 * console.assert(AUDIT_MAX_IP_CHARS >= 45); // the longest IPv6 text
 * ```
 */
export const AUDIT_MAX_IP_CHARS = 64;
/**
 * Longest `actor` stored (characters; longer is cut).
 *
 * @example
 * ```ts
 * import { AUDIT_MAX_ACTOR_CHARS } from "./mod.ts";
 * console.assert(AUDIT_MAX_ACTOR_CHARS > 0);
 * ```
 */
export const AUDIT_MAX_ACTOR_CHARS = 128;

/**
 * The database the log needs; the database layer's `Database` satisfies it.
 *
 * @example
 * ```ts
 * import type { AuditDatabase } from "./mod.ts";
 * const fake: AuditDatabase = {
 *   execute: () => Promise.resolve([]),
 *   transaction: (fn) => fn({ execute: () => Promise.resolve([]) }),
 * };
 * void fake;
 * ```
 */
export interface AuditDatabase extends QueryExecutor {
  /** Run `fn` in one transaction (READ COMMITTED, the default). */
  transaction<T>(
    fn: (tx: QueryExecutor) => Promise<T>,
    options?: { readonly timeoutMs?: number },
  ): Promise<T>;
}

/**
 * Options for {@linkcode AuditLog}.
 *
 * @example
 * ```ts
 * import type { AuditLogOptions } from "./mod.ts";
 * const options: AuditLogOptions = { key: new Uint8Array(32), flushIntervalMs: 500 };
 * void options;
 * ```
 */
export interface AuditLogOptions {
  /** HMAC_SECRET_KEY: 32 bytes (copied; never logged or put in errors). */
  readonly key: Uint8Array;
  /** Time of events and the writer's timers. @default systemClock */
  readonly clock?: Clock;
  /** Where failed flushes are reported. @default noopLogger */
  readonly logger?: Logger;
  /** Events waiting in memory at most. @default 10 000 */
  readonly maxQueued?: number;
  /** Characters of encoded events waiting in memory at most. @default 4 000 000 */
  readonly maxQueuedChars?: number;
  /** Records per transaction. @default 500 */
  readonly batchSize?: number;
  /** Delay before a partial batch is written. @default 1 000 */
  readonly flushIntervalMs?: number;
  /** Longest canonical details text; longer becomes `{"$truncated":true,…}`. @default 8 192 */
  readonly maxDetailsChars?: number;
  /** Longest delay between retries of a failed flush. @default 30 000 */
  readonly retryMaxDelayMs?: number;
  /** Deadline of one flush, purge or verify-page transaction. @default 30 000 */
  readonly transactionTimeoutMs?: number;
  /** Rows per page read by `verify` and per purge transaction. @default 1 000 */
  readonly pageSize?: number;
}

/**
 * Why verification stopped.
 *
 * @example
 * ```ts
 * import type { AuditVerifyFailure } from "./mod.ts";
 * const reason: AuditVerifyFailure = "gap";
 * void reason;
 * ```
 */
export type AuditVerifyFailure = "mac_mismatch" | "gap" | "prev_mismatch" | "anchor_mismatch";

/**
 * What {@linkcode AuditLog.verify} found.
 *
 * @example
 * ```ts
 * import type { AuditVerifyResult } from "./mod.ts";
 * const r: AuditVerifyResult = { ok: false, checked: 4, firstSeq: 1, firstBrokenSeq: 5, reason: "gap" };
 * console.assert(!r.ok && r.firstBrokenSeq === 5);
 * ```
 */
export interface AuditVerifyResult {
  /** True when every record from the start to the last one verified. */
  readonly ok: boolean;
  /** Records verified before stopping (all of them when `ok`). */
  readonly checked: number;
  /** Seq where the chain starts now (the anchor's, or 1). */
  readonly firstSeq: number;
  /**
   * The first seq that does not verify: the missing seq for `gap`, the
   * anchor's first seq for `anchor_mismatch`, `expectHead.seq` when the
   * head checkpoint is missing or different.
   */
  readonly firstBrokenSeq?: number;
  /** Why the chain breaks at `firstBrokenSeq`. */
  readonly reason?: AuditVerifyFailure;
  /** Last verified record (a checkpoint to keep elsewhere; see module doc). */
  readonly lastSeq?: number;
  /** Its MAC, hex. */
  readonly lastMacHex?: string;
}

/**
 * Options for {@linkcode AuditLog.verify}.
 *
 * @example
 * ```ts
 * import type { AuditVerifyOptions } from "./mod.ts";
 * const o: AuditVerifyOptions = { expectHead: { seq: 42, macHex: "00".repeat(32) } };
 * void o;
 * ```
 */
export interface AuditVerifyOptions {
  /** Rows per page. @default the log's pageSize */
  readonly pageSize?: number;
  /**
   * A head returned by an earlier `verify`: the record at `seq` must still
   * exist with that MAC (unless purged), which detects tail truncation.
   */
  readonly expectHead?: { readonly seq: number; readonly macHex: string };
}

/**
 * What {@linkcode AuditLog.purgeOlderThan} did.
 *
 * @example
 * ```ts
 * import type { AuditPurgeResult } from "./mod.ts";
 * const r: AuditPurgeResult = { deleted: 10, firstSeq: 11 };
 * void r;
 * ```
 */
export interface AuditPurgeResult {
  /** Records deleted. */
  readonly deleted: number;
  /** Where the chain starts now. */
  readonly firstSeq: number;
  /** Set when the purge stopped because the records to delete did not verify. */
  readonly refused?: AuditVerifyResult;
}

/**
 * Counters of an {@linkcode AuditLog}.
 *
 * @example
 * ```ts
 * import type { AuditLogStats } from "./mod.ts";
 * function lost(s: AuditLogStats): number {
 *   return s.droppedTotal + s.invalidTotal;
 * }
 * void lost;
 * ```
 */
export interface AuditLogStats {
  /** Events waiting. */
  readonly queued: number;
  /** Characters of encoded events waiting. */
  readonly queuedChars: number;
  /** Events dropped (queue full or closed) since start. */
  readonly droppedTotal: number;
  /** Events refused (unknown kind, unreadable) since start. */
  readonly invalidTotal: number;
  /** Dropped + refused events not yet reported by an `audit_dropped` record. */
  readonly unreported: number;
  /** Records written (the synthetic ones included). */
  readonly written: number;
  /** Flushes that failed (each is retried). */
  readonly failedFlushes: number;
}

interface Entry {
  readonly atMs: number;
  readonly kind: string;
  readonly ip: string | null;
  readonly actor: string | null;
  readonly details: string;
  readonly chars: number;
}

interface StoredRow {
  seq: number;
  atMs: number;
  kind: string;
  ip: string | null;
  actor: string | null;
  details: string;
  prevMac: Uint8Array;
  mac: Uint8Array;
}

interface Anchor {
  readonly firstSeq: number;
  readonly prevMac: Uint8Array;
  readonly valid: boolean;
}

function q(
  sql: string,
  params: unknown[],
  operation: QueryOperation,
  table: string,
): CompiledQuery {
  const write = operation === "insert" || operation === "update" || operation === "delete";
  return {
    sql,
    params,
    operation,
    reads: write ? [] : [table],
    writes: write ? [table] : [],
    rawText: [],
  };
}

const LOCK = q(`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`, [], "raw", AUDIT_LOG_TABLE);
const LAST_ROW = q(
  `SELECT seq, mac FROM ${AUDIT_LOG_TABLE} ORDER BY seq DESC LIMIT 1`,
  [],
  "raw",
  AUDIT_LOG_TABLE,
);
const ANCHOR = q(
  `SELECT first_seq, prev_mac, mac FROM ${AUDIT_ANCHOR_TABLE} WHERE id = 1`,
  [],
  "raw",
  AUDIT_ANCHOR_TABLE,
);
const MAX_SEQ = q(`SELECT max(seq) AS seq FROM ${AUDIT_LOG_TABLE}`, [], "raw", AUDIT_LOG_TABLE);
// One statement text whatever the batch size (one prepared statement).
const INSERT_SQL = `INSERT INTO ${AUDIT_LOG_TABLE} ` +
  `(seq, occurred_at, kind, ip, actor, details, prev_mac, mac) ` +
  `SELECT u.seq, u.at, u.kind, u.ip, u.actor, u.details, decode(u.prev, 'hex'), decode(u.mac, 'hex') ` +
  `FROM unnest($1::int8[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], ` +
  `$7::text[], $8::text[]) AS u(seq, at, kind, ip, actor, details, prev, mac)`;
// occurred_at as integer ms (extract is numeric, exact, on PostgreSQL ≥ 14).
const ROW_COLUMNS = `seq, round(extract(epoch FROM occurred_at) * 1000)::int8 AS at_ms, ` +
  `kind, ip, actor, details, prev_mac, mac`;
const PAGE_SQL = `SELECT ${ROW_COLUMNS} FROM ${AUDIT_LOG_TABLE} ` +
  `WHERE seq >= $1::int8 AND seq <= $2::int8 ORDER BY seq LIMIT $3::int4`;

/** Checks consecutive rows against the chain, from a starting point. */
class ChainChecker {
  readonly #key: AuditKey;
  nextSeq: number;
  prevMac: Uint8Array;
  checked = 0;
  lastMac: Uint8Array | undefined;

  constructor(key: AuditKey, firstSeq: number, prevMac: Uint8Array) {
    this.#key = key;
    this.nextSeq = firstSeq;
    this.prevMac = prevMac;
  }

  /** The failure of `row`, or undefined (then the checker moves past it). */
  check(row: StoredRow): { seq: number; reason: AuditVerifyFailure } | undefined {
    if (row.seq !== this.nextSeq) return { seq: this.nextSeq, reason: "gap" };
    if (!macsEqual(row.prevMac, this.prevMac)) return { seq: row.seq, reason: "prev_mismatch" };
    let mac: Uint8Array;
    try {
      mac = computeAuditMac(this.#key, row.prevMac, {
        seq: row.seq,
        occurredAtMs: row.atMs,
        kind: row.kind,
        ip: row.ip,
        actor: row.actor,
        details: row.details,
      });
    } catch {
      return { seq: row.seq, reason: "mac_mismatch" };
    }
    if (!macsEqual(mac, row.mac)) return { seq: row.seq, reason: "mac_mismatch" };
    this.prevMac = row.mac;
    this.lastMac = row.mac;
    this.nextSeq++;
    this.checked++;
    return undefined;
  }
}

/**
 * The security audit log (see module doc): an {@linkcode AuditSink} that
 * stores events in PostgreSQL as an HMAC chain.
 *
 * @example
 * ```ts ignore
 * import { AuditLog } from "./mod.ts";
 * // db: the database layer's Database, migrated (PROJECT_MIGRATIONS)
 * const audit = new AuditLog(db, { key: hmacSecretKey });
 * audit.record({ kind: "ban", ip: "198.51.100.7", details: { durationMs: 60_000 } });
 * await audit.flush();
 * console.log(await audit.verify()); // { ok: true, checked: 1, firstSeq: 1, … }
 * await audit.close();
 * ```
 */
export class AuditLog implements AuditSink {
  readonly #db: AuditDatabase;
  readonly #key: AuditKey;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxQueued: number;
  readonly #maxQueuedChars: number;
  readonly #batchSize: number;
  readonly #flushIntervalMs: number;
  readonly #maxDetailsChars: number;
  readonly #retryMaxDelayMs: number;
  readonly #txTimeoutMs: number;
  readonly #pageSize: number;

  #queue: Entry[] = [];
  #queuedChars = 0;
  #dropped = 0;
  #invalid = 0;
  #droppedTotal = 0;
  #invalidTotal = 0;
  #written = 0;
  #failedFlushes = 0;
  #failures = 0;
  #timer: number | undefined;
  #timerAt = Infinity;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Start a log; its writer runs once events are recorded.
   *
   * @param db where records go (migration 3 applied)
   * @param options the key and limits
   * @throws {RangeError} when the key is not 32 bytes or a limit is not a positive integer
   */
  constructor(db: AuditDatabase, options: AuditLogOptions) {
    this.#db = db;
    this.#key = importAuditKey(options.key);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    this.#maxQueued = positive("maxQueued", options.maxQueued ?? 10_000);
    this.#maxQueuedChars = positive("maxQueuedChars", options.maxQueuedChars ?? 4_000_000);
    this.#batchSize = positive("batchSize", options.batchSize ?? 500);
    this.#flushIntervalMs = nonNegative("flushIntervalMs", options.flushIntervalMs ?? 1_000);
    this.#maxDetailsChars = positive("maxDetailsChars", options.maxDetailsChars ?? 8_192);
    this.#retryMaxDelayMs = positive("retryMaxDelayMs", options.retryMaxDelayMs ?? 30_000);
    this.#txTimeoutMs = positive("transactionTimeoutMs", options.transactionTimeoutMs ?? 30_000);
    this.#pageSize = positive("pageSize", options.pageSize ?? 1_000);
  }

  /** Queue one event (see module doc); never throws, never waits. */
  record(event: AuditEventInput): void {
    try {
      if (this.#closed) {
        this.#droppedTotal++;
        return;
      }
      const entry = this.#encode(event);
      if (entry === undefined) {
        this.#invalid++;
        this.#invalidTotal++;
      } else if (
        this.#queue.length >= this.#maxQueued ||
        this.#queuedChars + entry.chars > this.#maxQueuedChars
      ) {
        this.#dropped++;
        this.#droppedTotal++;
      } else {
        this.#queue.push(entry);
        this.#queuedChars += entry.chars;
      }
      this.#schedule();
    } catch {
      // Never into the caller (a throwing clock, say): the event is lost, counted.
      this.#dropped++;
      this.#droppedTotal++;
    }
  }

  /**
   * Write everything queued now (and the pending drop report), in batches.
   * Flushes of one log run one after another.
   * @throws {Error} the database's error when a batch fails (its events stay queued and are retried)
   */
  flush(): Promise<void> {
    const run = this.#chain.then(() => this.#drain());
    this.#chain = run.then(() => this.#afterDrain(undefined), (e) => this.#afterDrain(e));
    return run;
  }

  /**
   * Stop the writer after a last flush. Never rejects: when that flush
   * fails, the events still queued are logged as lost and discarded.
   */
  async close(): Promise<void> {
    if (this.#closed) return await this.#chain;
    this.#closed = true;
    this.#clearTimer();
    try {
      await this.flush();
    } catch (e) {
      this.#logger.error("audit log closed with unwritten events", {
        lost: this.#queue.length,
        error: errorText(e),
      });
    }
    await this.#chain;
    this.#clearTimer();
    this.#droppedTotal += this.#queue.length;
    this.#queue = [];
    this.#queuedChars = 0;
  }

  /** Counters (see {@linkcode AuditLogStats}). */
  stats(): AuditLogStats {
    return {
      queued: this.#queue.length,
      queuedChars: this.#queuedChars,
      droppedTotal: this.#droppedTotal,
      invalidTotal: this.#invalidTotal,
      unreported: this.#dropped + this.#invalid,
      written: this.#written,
      failedFlushes: this.#failedFlushes,
    };
  }

  /**
   * Verify the chain from its start (the anchor, or seq 1) to the last row
   * present when the call began, reading `pageSize` rows at a time. Stops
   * at the first broken link. A purge running meanwhile is followed (the
   * anchor is re-read before reporting a gap).
   * @throws {Error} the database's error when a read fails
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    const pageSize = positive("pageSize", options.pageSize ?? this.#pageSize);
    const [top] = await this.#db.execute<{ seq: unknown }>(MAX_SEQ);
    const maxSeq = top?.seq == null ? 0 : Number(top.seq);
    let anchor = await this.#readAnchor(this.#db);
    const start = (a: Anchor | undefined): ChainChecker =>
      new ChainChecker(this.#key, a?.firstSeq ?? 1, a?.prevMac ?? genesisMac());
    if (anchor && !anchor.valid) {
      return {
        ok: false,
        checked: 0,
        firstSeq: anchor.firstSeq,
        firstBrokenSeq: anchor.firstSeq,
        reason: "anchor_mismatch",
      };
    }
    let checker = start(anchor);
    let checked = 0;
    const result = (
      failure?: { seq: number; reason: AuditVerifyFailure },
    ): AuditVerifyResult => ({
      ok: failure === undefined,
      checked: checked + checker.checked,
      firstSeq: anchor?.firstSeq ?? 1,
      ...(failure ? { firstBrokenSeq: failure.seq, reason: failure.reason } : {}),
      ...(checker.lastMac
        ? { lastSeq: checker.nextSeq - 1, lastMacHex: toHex(checker.lastMac) }
        : {}),
    });
    // A purge moving the anchor past us: continue from the new anchor.
    const followPurge = async (): Promise<boolean> => {
      const a = await this.#readAnchor(this.#db);
      if (!a || !a.valid || a.firstSeq <= checker.nextSeq) return false;
      anchor = a;
      checked += checker.checked;
      checker = start(a);
      return true;
    };
    let head: StoredRow | undefined;
    outer: while (checker.nextSeq <= maxSeq) {
      const rows = await this.#page(this.#db, checker.nextSeq, maxSeq, pageSize);
      if (rows.length === 0) {
        if (await followPurge()) continue;
        return result({ seq: checker.nextSeq, reason: "gap" });
      }
      for (const row of rows) {
        const expect = options.expectHead;
        if (expect && row.seq === expect.seq) head = row;
        const failure = checker.check(row);
        if (failure) {
          if (failure.reason !== "mac_mismatch" && await followPurge()) continue outer;
          return result(failure);
        }
      }
    }
    const expect = options.expectHead;
    if (expect && expect.seq >= checker.nextSeq - checker.checked) {
      // The checkpoint is in the kept range: it must be there, unchanged.
      let same = false;
      try {
        same = head !== undefined && macsEqual(head.mac, fromHex(expect.macHex));
      } catch {
        same = false;
      }
      if (!same) return result({ seq: expect.seq, reason: "gap" });
    }
    return result();
  }

  /**
   * Delete the records older than `days` days (by the log's clock): the
   * prefix of the chain before the first record recorded at or after the
   * cutoff. Each page of records is verified before it is deleted, and
   * the anchor moves in the same transaction; a page that does not verify
   * is left in place and reported in `refused`.
   * @throws {RangeError} when `days` is negative or not finite
   * @throws {Error} the database's error (pages already purged stay purged)
   */
  async purgeOlderThan(days: number): Promise<AuditPurgeResult> {
    if (!Number.isFinite(days) || days < 0) {
      throw new RangeError(`Retention must be a non-negative number of days: ${days}`);
    }
    const cutoff = new Date(this.#clock.now() - days * 86_400_000).toISOString();
    let deleted = 0;
    for (;;) {
      const step = await this.#db.transaction(
        (tx) => this.#purgePage(tx, cutoff),
        { timeoutMs: this.#txTimeoutMs },
      );
      deleted += step.deleted;
      if (step.refused || step.done) {
        return {
          deleted,
          firstSeq: step.firstSeq,
          ...(step.refused ? { refused: step.refused } : {}),
        };
      }
    }
  }

  async #purgePage(
    tx: QueryExecutor,
    cutoff: string,
  ): Promise<{ deleted: number; firstSeq: number; done: boolean; refused?: AuditVerifyResult }> {
    await tx.execute(LOCK);
    const anchor = await this.#readAnchor(tx);
    const firstSeq = anchor?.firstSeq ?? 1;
    if (anchor && !anchor.valid) {
      return {
        deleted: 0,
        firstSeq,
        done: true,
        refused: {
          ok: false,
          checked: 0,
          firstSeq,
          firstBrokenSeq: firstSeq,
          reason: "anchor_mismatch",
        },
      };
    }
    const [keep] = await tx.execute<{ seq: unknown }>(q(
      `SELECT seq FROM ${AUDIT_LOG_TABLE} WHERE occurred_at >= $1::timestamptz ` +
        `ORDER BY seq LIMIT 1`,
      [cutoff],
      "raw",
      AUDIT_LOG_TABLE,
    ));
    let lastToDelete: number;
    if (keep) {
      lastToDelete = Number(keep.seq) - 1;
    } else {
      const [top] = await tx.execute<{ seq: unknown }>(MAX_SEQ);
      lastToDelete = top?.seq == null ? 0 : Number(top.seq);
    }
    if (lastToDelete < firstSeq) return { deleted: 0, firstSeq, done: true };
    const rows = await this.#page(tx, firstSeq, lastToDelete, this.#pageSize);
    const checker = new ChainChecker(this.#key, firstSeq, anchor?.prevMac ?? genesisMac());
    for (const row of rows) {
      const failure = checker.check(row);
      if (failure) {
        return {
          deleted: 0,
          firstSeq,
          done: true,
          refused: {
            ok: false,
            checked: checker.checked,
            firstSeq,
            firstBrokenSeq: failure.seq,
            reason: failure.reason,
          },
        };
      }
    }
    if (rows.length === 0) {
      return {
        deleted: 0,
        firstSeq,
        done: true,
        refused: { ok: false, checked: 0, firstSeq, firstBrokenSeq: firstSeq, reason: "gap" },
      };
    }
    const last = rows[rows.length - 1];
    // `<=`: also any stray row below the anchor (there should be none).
    await tx.execute(q(
      `DELETE FROM ${AUDIT_LOG_TABLE} WHERE seq <= $1::int8`,
      [String(last.seq)],
      "delete",
      AUDIT_LOG_TABLE,
    ));
    const next = last.seq + 1;
    await tx.execute(q(
      `INSERT INTO ${AUDIT_ANCHOR_TABLE} (id, first_seq, prev_mac, mac, updated_at) ` +
        `VALUES (1, $1::int8, decode($2, 'hex'), decode($3, 'hex'), $4::timestamptz) ` +
        `ON CONFLICT (id) DO UPDATE SET first_seq = excluded.first_seq, ` +
        `prev_mac = excluded.prev_mac, mac = excluded.mac, updated_at = excluded.updated_at`,
      [
        String(next),
        toHex(last.mac),
        toHex(computeAnchorMac(this.#key, next, last.mac)),
        new Date(this.#clock.now()).toISOString(),
      ],
      "insert",
      AUDIT_ANCHOR_TABLE,
    ));
    return { deleted: rows.length, firstSeq: next, done: last.seq >= lastToDelete };
  }

  // ---- writer ----

  #encode(event: AuditEventInput): Entry | undefined {
    let kind: unknown, ip: unknown, actor: unknown, details: unknown;
    try {
      ({ kind, ip, actor, details } = event);
    } catch {
      return undefined;
    }
    if (typeof kind !== "string" || !EVENT_KINDS.has(kind)) return undefined;
    const ipText = optionalText(ip, AUDIT_MAX_IP_CHARS);
    const actorText = optionalText(actor, AUDIT_MAX_ACTOR_CHARS);
    const detailsText = canonicalJson(details === undefined ? {} : details, {
      maxChars: this.#maxDetailsChars,
    });
    return {
      atMs: Math.floor(this.#clock.now()),
      kind,
      ip: ipText,
      actor: actorText,
      details: detailsText,
      chars: 64 + kind.length + (ipText?.length ?? 0) + (actorText?.length ?? 0) +
        detailsText.length,
    };
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#queue.length === 0 && this.#dropped + this.#invalid === 0) return;
    const delay = this.#failures > 0
      ? Math.min(this.#retryMaxDelayMs, this.#flushIntervalMs * 2 ** this.#failures)
      : this.#queue.length >= this.#batchSize
      ? 0
      : this.#flushIntervalMs;
    const at = this.#clock.monotonic() + delay;
    if (this.#timer !== undefined) {
      if (at >= this.#timerAt) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      // Failures are counted and logged by #afterDrain.
      this.flush().catch(() => {});
    }, delay);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #afterDrain(error: unknown): void {
    if (error === undefined) {
      this.#failures = 0;
    } else {
      this.#failures = Math.min(this.#failures + 1, 30);
      this.#failedFlushes++;
      this.#logger.warn("audit log flush failed; retrying", {
        queued: this.#queue.length,
        error: errorText(error),
      });
    }
    try {
      this.#schedule();
    } catch {
      // A throwing clock: the next record() or flush() tries again.
    }
  }

  async #drain(): Promise<void> {
    // Only what is queued now (plus the report): a steady stream of new
    // events cannot keep one flush running forever.
    let rounds = Math.ceil(this.#queue.length / this.#batchSize) + 1;
    while (rounds-- > 0 && (this.#queue.length > 0 || this.#dropped + this.#invalid > 0)) {
      await this.#writeBatch();
    }
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#queue.slice(0, this.#batchSize);
    const dropped = this.#dropped;
    const invalid = this.#invalid;
    const entries = batch.slice();
    if (dropped + invalid > 0) {
      const details = canonicalJson({ dropped, invalid });
      entries.push({
        atMs: Math.floor(this.#clock.now()),
        kind: AUDIT_DROPPED_KIND,
        ip: null,
        actor: null,
        details,
        chars: 0,
      });
    }
    await this.#db.transaction(async (tx) => {
      await tx.execute(LOCK);
      let [nextSeq, prevMac] = await this.#head(tx);
      const cols: string[][] = [[], [], [], [], [], [], [], []];
      const ips: (string | null)[] = [];
      const actors: (string | null)[] = [];
      for (const e of entries) {
        const mac = computeAuditMac(this.#key, prevMac, {
          seq: nextSeq,
          occurredAtMs: e.atMs,
          kind: e.kind,
          ip: e.ip,
          actor: e.actor,
          details: e.details,
        });
        cols[0].push(String(nextSeq));
        cols[1].push(new Date(e.atMs).toISOString());
        cols[2].push(e.kind);
        ips.push(e.ip);
        actors.push(e.actor);
        cols[5].push(e.details);
        cols[6].push(toHex(prevMac));
        cols[7].push(toHex(mac));
        prevMac = mac;
        nextSeq++;
      }
      await tx.execute(q(
        INSERT_SQL,
        [cols[0], cols[1], cols[2], ips, actors, cols[5], cols[6], cols[7]],
        "insert",
        AUDIT_LOG_TABLE,
      ));
    }, { timeoutMs: this.#txTimeoutMs });
    this.#queue.splice(0, batch.length);
    for (const e of batch) this.#queuedChars -= e.chars;
    this.#dropped -= dropped;
    this.#invalid -= invalid;
    this.#written += entries.length;
  }

  /** The seq and prev_mac of the next record (under the lock). */
  async #head(tx: QueryExecutor): Promise<[number, Uint8Array]> {
    const [last] = await tx.execute<{ seq: unknown; mac: unknown }>(LAST_ROW);
    if (last) return [Number(last.seq) + 1, toBytes(last.mac)];
    const anchor = await this.#readAnchor(tx);
    if (anchor) return [anchor.firstSeq, anchor.prevMac];
    return [1, genesisMac()];
  }

  async #readAnchor(db: QueryExecutor): Promise<Anchor | undefined> {
    const [row] = await db.execute<{ first_seq: unknown; prev_mac: unknown; mac: unknown }>(
      ANCHOR,
    );
    if (!row) return undefined;
    const firstSeq = Number(row.first_seq);
    const prevMac = toBytes(row.prev_mac);
    const valid = Number.isSafeInteger(firstSeq) && firstSeq >= 1 &&
      prevMac.length === AUDIT_MAC_BYTES &&
      macsEqual(computeAnchorMac(this.#key, firstSeq, prevMac), toBytes(row.mac));
    return { firstSeq: Number.isSafeInteger(firstSeq) ? firstSeq : 1, prevMac, valid };
  }

  async #page(
    db: QueryExecutor,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<StoredRow[]> {
    const rows = await db.execute<Record<string, unknown>>(q(
      PAGE_SQL,
      [String(fromSeq), String(toSeq), limit],
      "raw",
      AUDIT_LOG_TABLE,
    ));
    return rows.map((r) => ({
      seq: Number(r.seq),
      atMs: Number(r.at_ms),
      kind: String(r.kind),
      ip: r.ip == null ? null : String(r.ip),
      actor: r.actor == null ? null : String(r.actor),
      details: String(r.details),
      prevMac: toBytes(r.prev_mac),
      mac: toBytes(r.mac),
    }));
  }
}

function optionalText(v: unknown, maxChars: number): string | null {
  if (v === undefined || v === null) return null;
  let s: string;
  try {
    s = typeof v === "string" ? v : String(v);
  } catch {
    s = "[unreadable]";
  }
  if (s.length > maxChars) s = s.slice(0, maxChars);
  return wellFormedText(s);
}

/** bytea as the driver returns it: Uint8Array (Buffer too), or `\x…` hex text. */
function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string" && v.startsWith("\\x")) {
    try {
      return fromHex(v.slice(2));
    } catch {
      return new Uint8Array(0);
    }
  }
  return new Uint8Array(0);
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`AuditLog option ${name} must be a positive integer: ${v}`);
  }
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`AuditLog option ${name} must be a non-negative number: ${v}`);
  }
  return v;
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${e.message}` : e.message;
  }
  return "unknown error";
}
