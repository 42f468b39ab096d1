/**
 * Per-source activity counters (issue #5 "Signals"): what each address did
 * over a sliding window, in fixed-size rolling buckets.
 *
 * Memory per tracked address is a small constant: `2·8·buckets +
 * (6·buckets + 8 reasons·6)·4` bytes of counters (592 B at the defaults: 10
 * buckets of 1 s, 6 handshake buckets of 10 s) in a slot of a shared slab
 * (chunks of 1024 slots, reused through a free list; allocating a typed
 * array per address cost ≈ 3 µs) plus one small object; no per-packet
 * storage. The slab keeps its high-water mark (≤ `maxTrackedIps` slots). The
 * table holds at most `maxTrackedIps` keys, least recently active evicted
 * first, and {@linkcode IpActivityTracker.sweep} drops idle ones, so a
 * spoofed-source or many-address flood cannot exhaust memory.
 *
 * @module
 */

import type { Clock } from "../../util/mod.ts";
import { trackingKey } from "../ip_rules.ts";
import { LruMap } from "../../util/mod.ts";
import type { HandshakeFailureReason, SecuritySignal } from "../types.ts";

/**
 * Every handshake failure reason, in the order counters are kept.
 *
 * @example
 * ```ts
 * import { HANDSHAKE_FAILURE_REASONS } from "./ip_activity.ts";
 * console.assert(HANDSHAKE_FAILURE_REASONS.includes("decrypt"));
 * ```
 */
export const HANDSHAKE_FAILURE_REASONS: readonly HandshakeFailureReason[] = Object.freeze([
  "malformed",
  "version",
  "unknown_psk_id",
  "decrypt",
  "clock_skew",
  "replay",
  "replay_cache_full",
  "timeout",
]);
const REASON_INDEX: ReadonlyMap<HandshakeFailureReason, number> = new Map(
  HANDSHAKE_FAILURE_REASONS.map((r, i) => [r, i]),
);
const REASONS = HANDSHAKE_FAILURE_REASONS.length;

// Float64 series (sums that can exceed 2^32).
const F_BYTES = 0;
const F_SIZE_SQ = 1;
const F_SERIES = 2;
// Uint32 series (counts; saturating).
const U_PACKETS = 0;
const U_SMALL = 1;
const U_NEW_CONN = 2;
const U_ERRORS = 3;
const U_SQLI = 4;
const U_ORM = 5;
const U_SERIES = 6;
const U32_MAX = 0xffff_ffff;
/** Handshake failures are counted per minute-ish window in this many buckets. */
const HS_BUCKETS = 6;

/**
 * Options for {@linkcode IpActivityTracker}.
 *
 * @example
 * ```ts
 * import type { IpActivityTrackerOptions } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const options: IpActivityTrackerOptions = { clock: new ManualClock(), windowMs: 30_000 };
 * ```
 */
export interface IpActivityTrackerOptions {
  /** Time source (monotonic ms drive the buckets). */
  readonly clock: Clock;
  /** Sliding window of the traffic counters. @default {10000} */
  readonly windowMs?: number;
  /** Width of one bucket; `windowMs` must be a multiple. @default {1000} */
  readonly bucketMs?: number;
  /** Window of the handshake-failure counters ("per minute"). @default {60000} */
  readonly handshakeWindowMs?: number;
  /** Packets smaller than this count as small. @default {64} */
  readonly smallPacketBytes?: number;
  /** At most this many keys are tracked; the least recently active is evicted. @default {100000} */
  readonly maxTrackedIps?: number;
  /** {@linkcode IpActivityTracker.sweep} drops keys idle this long with no open connection. @default {max(windowMs, handshakeWindowMs)} */
  readonly idleMs?: number;
  /** {@linkcode IpActivityTracker.observe} reports a key as due for evaluation at most this often. @default {100} */
  readonly evaluateEveryMs?: number;
}

/**
 * A snapshot of one key's activity over the window.
 *
 * @example
 * ```ts
 * import { IpActivityTracker, type IpActivityStats } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * tracker.observe({ kind: "connection_opened", ip: "2001:db8::1" });
 * const stats: IpActivityStats | undefined = tracker.statsOf("2001:db8::2");
 * console.assert(stats?.key === "20010db800000000::/64" && stats.openConnections === 1);
 * ```
 */
export interface IpActivityStats {
  /** Tracking key (`trackingKey(ip)`: the IPv4 address or the IPv6 /64). */
  readonly key: string;
  /** Configured window (ms). */
  readonly windowMs: number;
  /** Bucket width (ms). */
  readonly bucketMs: number;
  /** Part of the window this key has been tracked for (≥ one bucket, ≤ windowMs). */
  readonly spanMs: number;
  /** Packets in the window. */
  readonly packets: number;
  /** Bytes in the window. */
  readonly bytes: number;
  /** Packets below `smallPacketBytes` in the window. */
  readonly smallPackets: number;
  /** Most packets in one bucket of the window. */
  readonly peakBucketPackets: number;
  /** Packets in the current (newest, possibly partial) bucket. */
  readonly currentBucketPackets: number;
  /** Small packets in the current bucket. */
  readonly currentBucketSmallPackets: number;
  /** Mean packet size (0 without packets). */
  readonly meanPacketBytes: number;
  /** Standard deviation of packet sizes (0 without packets). */
  readonly packetBytesStdDev: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Connections opened in the window. */
  readonly newConnections: number;
  /** Handshake failures in the handshake window. */
  readonly handshakeFailures: number;
  /** Handshake window (ms). */
  readonly handshakeWindowMs: number;
  /** Handshake failures in the handshake window, by reason. */
  readonly handshakeFailuresByReason: Readonly<Record<HandshakeFailureReason, number>>;
  /** Protocol errors in the window. */
  readonly protocolErrors: number;
  /** SQL-injection attempts reported by the DB layer in the window. */
  readonly sqlInjectionAttempts: number;
  /** ORM query floods reported by the DB layer in the window. */
  readonly ormQueryFloods: number;
}

const CHUNK_SLOTS = 1_024;

interface Entry {
  readonly slot: number;
  readonly f: Float64Array; // the slab chunk; this entry's F_SERIES × buckets start at fo
  readonly fo: number;
  readonly u: Uint32Array; // the slab chunk; U_SERIES × buckets, then REASONS × HS_BUCKETS, from uo
  readonly uo: number;
  head: number; // epoch (bucket index) of the newest bucket
  hsHead: number; // epoch of the newest handshake bucket
  readonly firstEpoch: number;
  open: number;
  lastSeenMs: number;
  dueAtMs: number;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new RangeError(`Invalid ${name}: ${v} (expected a positive integer)`);
  }
  return v;
}

/**
 * Rolling per-address counters fed with {@linkcode SecuritySignal}s.
 *
 * @example
 * ```ts
 * import { IpActivityTracker } from "./ip_activity.ts";
 * import { ManualClock } from "../../util/mod.ts";
 * const tracker = new IpActivityTracker({ clock: new ManualClock() });
 * tracker.observe({ kind: "packet", ip: "192.0.2.1", bytes: 40 });
 * console.assert(tracker.statsOf("192.0.2.1")?.smallPackets === 1);
 * ```
 */
export class IpActivityTracker {
  readonly #clock: Clock;
  readonly #bucketMs: number;
  readonly #buckets: number;
  readonly #hsBucketMs: number;
  readonly #smallPacketBytes: number;
  readonly #maxTrackedIps: number;
  readonly #idleMs: number;
  readonly #evaluateEveryMs: number;
  readonly #entries = new LruMap<string, Entry>();
  readonly #fStride: number;
  readonly #uStride: number;
  readonly #fChunks: Float64Array[] = [];
  readonly #uChunks: Uint32Array[] = [];
  readonly #free: number[] = [];
  #nextSlot = 0;
  // trackingKey parses with BigInt; cache the mapping for hot addresses.
  readonly #keyCache = new Map<string, string>();

  /**
   * Create an empty tracker.
   *
   * @param options see {@linkcode IpActivityTrackerOptions}
   * @throws {RangeError} on a non-positive or inconsistent window/bucket/bound.
   */
  constructor(options: IpActivityTrackerOptions) {
    this.#clock = options.clock;
    const windowMs = positiveInt("windowMs", options.windowMs ?? 10_000);
    this.#bucketMs = positiveInt("bucketMs", options.bucketMs ?? 1_000);
    if (windowMs % this.#bucketMs !== 0) {
      throw new RangeError(`Invalid windowMs: ${windowMs} is not a multiple of ${this.#bucketMs}`);
    }
    this.#buckets = windowMs / this.#bucketMs;
    const hsWindowMs = positiveInt("handshakeWindowMs", options.handshakeWindowMs ?? 60_000);
    this.#hsBucketMs = hsWindowMs / HS_BUCKETS;
    this.#smallPacketBytes = options.smallPacketBytes ?? 64;
    this.#maxTrackedIps = positiveInt("maxTrackedIps", options.maxTrackedIps ?? 100_000);
    this.#idleMs = options.idleMs ?? Math.max(windowMs, hsWindowMs);
    this.#evaluateEveryMs = options.evaluateEveryMs ?? 100;
    this.#fStride = F_SERIES * this.#buckets;
    this.#uStride = U_SERIES * this.#buckets + REASONS * HS_BUCKETS;
  }

  /** Window of the traffic counters (ms). */
  get windowMs(): number {
    return this.#buckets * this.#bucketMs;
  }

  /** Bucket width (ms). */
  get bucketMs(): number {
    return this.#bucketMs;
  }

  /** Keys tracked now. */
  get trackedIps(): number {
    return this.#entries.size;
  }

  /** The key `ip` is tracked under (cached `trackingKey`). */
  keyOf(ip: string): string {
    let key = this.#keyCache.get(ip);
    if (key === undefined) {
      key = trackingKey(ip);
      if (this.#keyCache.size >= 4_096) this.#keyCache.clear();
      this.#keyCache.set(ip, key);
    }
    return key;
  }

  /**
   * Count one signal. Returns true when the key is due for evaluation: its
   * first signal, or the first one at least `evaluateEveryMs` after the
   * last time this returned true for it.
   */
  observe(signal: SecuritySignal): boolean {
    const key = this.keyOf(signal.ip);
    const now = this.#clock.monotonic();
    const epoch = Math.floor(now / this.#bucketMs);
    let e = this.#entries.get(key);
    if (!e) {
      if (this.#entries.size >= this.#maxTrackedIps) this.#release(this.#entries.evictOldest()![1]);
      e = this.#create(epoch, now);
      this.#entries.set(key, e);
    } else if (epoch !== e.head) {
      // Refresh the LRU position at most once per bucket per key.
      this.#entries.set(key, e);
    }
    this.#advance(e, epoch);
    e.lastSeenMs = now;
    const n = this.#buckets;
    const u = e.u;
    const slot = e.uo + (e.head % n); // index of this bucket in u's series 0
    const fslot = e.fo + (e.head % n);
    switch (signal.kind) {
      case "packet": {
        const size = Math.max(0, signal.bytes);
        u[U_PACKETS * n + slot] = Math.min(U32_MAX, u[U_PACKETS * n + slot] + 1);
        if (size < this.#smallPacketBytes) {
          u[U_SMALL * n + slot] = Math.min(U32_MAX, u[U_SMALL * n + slot] + 1);
        }
        e.f[F_BYTES * n + fslot] += size;
        e.f[F_SIZE_SQ * n + fslot] += size * size;
        break;
      }
      case "connection_opened":
        e.open++;
        u[U_NEW_CONN * n + slot] = Math.min(U32_MAX, u[U_NEW_CONN * n + slot] + 1);
        break;
      case "connection_closed":
        if (e.open > 0) e.open--;
        break;
      case "handshake_failure": {
        const r = REASON_INDEX.get(signal.reason) ?? 0;
        const i = e.uo + U_SERIES * n + r * HS_BUCKETS + (e.hsHead % HS_BUCKETS);
        u[i] = Math.min(U32_MAX, u[i] + 1);
        break;
      }
      case "protocol_error":
        u[U_ERRORS * n + slot] = Math.min(U32_MAX, u[U_ERRORS * n + slot] + 1);
        break;
      case "sql_injection_attempt":
        u[U_SQLI * n + slot] = Math.min(U32_MAX, u[U_SQLI * n + slot] + 1);
        break;
      case "orm_query_flood":
        u[U_ORM * n + slot] = Math.min(U32_MAX, u[U_ORM * n + slot] + 1);
        break;
    }
    if (now >= e.dueAtMs) {
      e.dueAtMs = now + this.#evaluateEveryMs;
      return true;
    }
    return false;
  }

  /** A snapshot of `ip`'s key, or undefined when it is not tracked. */
  statsOf(ip: string): IpActivityStats | undefined {
    const key = this.keyOf(ip);
    const e = this.#entries.get(key);
    if (!e) return undefined;
    const now = this.#clock.monotonic();
    this.#advance(e, Math.floor(now / this.#bucketMs));
    const n = this.#buckets;
    const u = e.u;
    const uo = e.uo;
    const fo = e.fo;
    let packets = 0, small = 0, newConn = 0, errors = 0, sqli = 0, orm = 0, peak = 0;
    let bytes = 0, sq = 0;
    for (let i = 0; i < n; i++) {
      const p = u[uo + U_PACKETS * n + i];
      packets += p;
      if (p > peak) peak = p;
      small += u[uo + U_SMALL * n + i];
      newConn += u[uo + U_NEW_CONN * n + i];
      errors += u[uo + U_ERRORS * n + i];
      sqli += u[uo + U_SQLI * n + i];
      orm += u[uo + U_ORM * n + i];
      bytes += e.f[fo + F_BYTES * n + i];
      sq += e.f[fo + F_SIZE_SQ * n + i];
    }
    const byReason = {} as Record<HandshakeFailureReason, number>;
    let hs = 0;
    for (let r = 0; r < REASONS; r++) {
      let c = 0;
      for (let b = 0; b < HS_BUCKETS; b++) c += u[uo + U_SERIES * n + r * HS_BUCKETS + b];
      byReason[HANDSHAKE_FAILURE_REASONS[r]] = c;
      hs += c;
    }
    const mean = packets > 0 ? bytes / packets : 0;
    const variance = packets > 0 ? Math.max(0, sq / packets - mean * mean) : 0;
    const spanBuckets = Math.min(n, Math.max(1, e.head - e.firstEpoch + 1));
    return {
      key,
      windowMs: n * this.#bucketMs,
      bucketMs: this.#bucketMs,
      spanMs: spanBuckets * this.#bucketMs,
      packets,
      bytes,
      smallPackets: small,
      peakBucketPackets: peak,
      currentBucketPackets: u[uo + U_PACKETS * n + (e.head % n)],
      currentBucketSmallPackets: u[uo + U_SMALL * n + (e.head % n)],
      meanPacketBytes: mean,
      packetBytesStdDev: Math.sqrt(variance),
      openConnections: e.open,
      newConnections: newConn,
      handshakeFailures: hs,
      handshakeWindowMs: this.#hsBucketMs * HS_BUCKETS,
      handshakeFailuresByReason: byReason,
      protocolErrors: errors,
      sqlInjectionAttempts: sqli,
      ormQueryFloods: orm,
    };
  }

  /** Stop tracking `ip`'s key. Returns true if it was tracked. */
  forget(ip: string): boolean {
    const key = this.keyOf(ip);
    const e = this.#entries.get(key);
    if (!e) return false;
    this.#entries.delete(key);
    this.#release(e);
    return true;
  }

  /**
   * Drop keys idle for `idleMs` with no open connection (the owner calls
   * this from its maintenance timer). Returns how many were dropped.
   */
  sweep(): number {
    const now = this.#clock.monotonic();
    let dropped = 0;
    for (const [key, e] of this.#entries.entries()) {
      if (now - e.lastSeenMs >= this.#idleMs && e.open === 0) {
        this.#entries.delete(key);
        this.#release(e);
        dropped++;
      }
    }
    return dropped;
  }

  #create(epoch: number, now: number): Entry {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#nextSlot++;
      if (slot % CHUNK_SLOTS === 0) {
        this.#fChunks.push(new Float64Array(this.#fStride * CHUNK_SLOTS));
        this.#uChunks.push(new Uint32Array(this.#uStride * CHUNK_SLOTS));
      }
    }
    const chunk = Math.floor(slot / CHUNK_SLOTS);
    const i = slot % CHUNK_SLOTS;
    return {
      slot,
      f: this.#fChunks[chunk],
      fo: i * this.#fStride,
      u: this.#uChunks[chunk],
      uo: i * this.#uStride,
      head: epoch,
      hsHead: Math.floor((epoch * this.#bucketMs) / this.#hsBucketMs),
      firstEpoch: epoch,
      open: 0,
      lastSeenMs: now,
      dueAtMs: now,
    };
  }

  /** Zero `e`'s counters and return its slot to the free list. */
  #release(e: Entry): void {
    e.f.fill(0, e.fo, e.fo + this.#fStride);
    e.u.fill(0, e.uo, e.uo + this.#uStride);
    this.#free.push(e.slot);
  }

  /** Move `e`'s newest bucket to `epoch`, zeroing the buckets that slid out. */
  #advance(e: Entry, epoch: number): void {
    const n = this.#buckets;
    if (epoch > e.head) {
      const gap = Math.min(epoch - e.head, n);
      for (let i = 1; i <= gap; i++) {
        const slot = (e.head + i) % n;
        for (let s = 0; s < F_SERIES; s++) e.f[e.fo + s * n + slot] = 0;
        for (let s = 0; s < U_SERIES; s++) e.u[e.uo + s * n + slot] = 0;
      }
      e.head = epoch;
    }
    const hsEpoch = Math.floor((epoch * this.#bucketMs) / this.#hsBucketMs);
    if (hsEpoch > e.hsHead) {
      const gap = Math.min(hsEpoch - e.hsHead, HS_BUCKETS);
      for (let i = 1; i <= gap; i++) {
        const slot = (e.hsHead + i) % HS_BUCKETS;
        for (let r = 0; r < REASONS; r++) e.u[e.uo + U_SERIES * n + r * HS_BUCKETS + slot] = 0;
      }
      e.hsHead = hsEpoch;
    }
  }
}
