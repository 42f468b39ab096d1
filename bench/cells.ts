/**
 * What the bench measures: the cells, their timing, the result record (the
 * `--json` schema) and the acceptance targets.
 *
 * @module
 */

/** The two transports compared in every cell. */
export type Transport = "somnytoo" | "tls";

/** The two sides of an `orm` cell: our builder run by `Database`, and hand-written postgres.js. */
export type OrmSide = "orm" | "postgres.js";

/** The two sides of a `security` cell: our server with and without the security layer. */
export type SecuritySide = "security on" | "security off";

/** Suites, selectable with `--only`. */
export const SUITES = [
  "echo",
  "echo_pipelined",
  "handshake",
  "idle_rss",
  "backends",
  "security",
  "orm",
] as const;
/** One of {@linkcode SUITES}. */
export type Suite = typeof SUITES[number];

/** A load cell: closed-loop Echo requests (or full handshakes) over `connections`. */
export interface LoadCell {
  readonly suite: "echo" | "echo_pipelined" | "handshake";
  /** Echo payload bytes (the handshake suite's one echo uses it too). */
  readonly payload: number;
  /** Connections (for `handshake`: concurrent connect-echo-close workers). */
  readonly connections: number;
  /** Requests outstanding per connection. */
  readonly pipeline: number;
}

/** Echo at 64 B / 1 KiB / 16 KiB × 1 / 16 / 64 connections, then 16 × 32 pipelined 1 KiB. */
export const ECHO_CELLS: readonly LoadCell[] = [
  ...[64, 1024, 16 * 1024].flatMap((payload) =>
    [1, 16, 64].map((connections): LoadCell => ({
      suite: "echo",
      payload,
      connections,
      pipeline: 1,
    }))
  ),
  { suite: "echo_pipelined", payload: 1024, connections: 16, pipeline: 32 },
];

/** Full handshakes: 8 workers, each connect + handshake + one 64-byte echo + close. */
export const HANDSHAKE_CELL: LoadCell = {
  suite: "handshake",
  payload: 64,
  connections: 8,
  pipeline: 1,
};

/** The cell of the per-backend comparison. */
export const BACKEND_CELL: LoadCell = {
  suite: "echo",
  payload: 1024,
  connections: 16,
  pipeline: 1,
};

/** The cells of the `security` suite (suite name `echo_security` in results). */
export const SECURITY_CELLS: readonly LoadCell[] = [
  { suite: "echo", payload: 1024, connections: 16, pipeline: 1 },
  { suite: "echo", payload: 64, connections: 16, pipeline: 1 },
];

/** The `orm` suite's queries (orm_bench.ts), in run order. */
export const ORM_QUERIES = ["point select", "insert returning", "upsert", "3-table join"] as const;
/** One of {@linkcode ORM_QUERIES}. */
export type OrmQuery = typeof ORM_QUERIES[number];

/** Durations and sizes of one run. */
export interface Timing {
  /** Load before measuring, per generator process. */
  readonly warmupMs: number;
  /** Measured window of one round. */
  readonly durationMs: number;
  /**
   * Rounds per cell: ours, TLS, ours, TLS, … each in a fresh generator
   * process with its own warm-up, so that slow drift of the (shared, virtual)
   * machine hits both transports alike.
   */
  readonly rounds: number;
  /** Sessions held open for the memory cell. */
  readonly idleSessions: number;
  /**
   * Settling time before each RSS reading. Longer than the server's default
   * `pipelineReleaseAfterMs` (1 s) plus one sweep, so "idle" sessions have
   * been idle long enough for the server to release their pipelines.
   */
  readonly settleMs: number;
}

/** The full run: about 4½ minutes on a quiet machine. */
export const FULL_TIMING: Timing = {
  warmupMs: 1000,
  durationMs: 2500,
  rounds: 2,
  idleSessions: 1000,
  settleMs: 3000,
};
/** `--quick`: a smoke test of every code path (numbers are not meaningful). */
export const QUICK_TIMING: Timing = {
  warmupMs: 200,
  durationMs: 500,
  rounds: 1,
  idleSessions: 100,
  settleMs: 200,
};

/** One measured cell: the `--json` record. */
export interface CellResult {
  readonly suite: string;
  readonly transport: Transport | OrmSide | SecuritySide;
  /** `orm` and `orm_compile` only: one of {@linkcode ORM_QUERIES}. */
  readonly query?: string;
  /** Echo payload bytes; 0 for `handshake` and `idle_rss`. */
  readonly payload: number;
  readonly connections: number;
  readonly pipeline: number;
  /** Requests/s (handshakes/s for `handshake`, 0 for `idle_rss`). */
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  /** `idle_rss` only: server RSS growth per connection, after a memory-reducing GC. */
  readonly rss_kib_per_conn?: number;
  /** `idle_rss` only: the same after a plain full GC (V8 heap still at its high-water mark). */
  readonly rss_plain_gc_kib_per_conn?: number;
  /** `idle_rss` only: growth of the live V8 heap / external memory per connection (after the GC). */
  readonly heap_kib_per_conn?: number;
  readonly external_kib_per_conn?: number;
  /** Crypto backend (somnytoo only). */
  readonly backend?: string;
  /** Share of one core used by the server / the load generator while measuring. */
  readonly server_cpu?: number;
  readonly load_cpu?: number;
  /** Cores busy with other processes meanwhile (noise indicator). */
  readonly other_cpu?: number;
  /** Server CPU time per request (per handshake), µs: server_cpu / rps. */
  readonly server_us_per_op?: number;
  /** Failed requests or handshakes (should be 0). */
  readonly errors?: number;
  /** `orm` only: share of one core used by local postgres processes; bench CPU µs per call. */
  readonly db_cpu?: number;
  readonly client_us_per_op?: number;
  /** `orm_compile` only: µs to build and compile the query once. */
  readonly compile_us?: number;
  /** Anything else worth keeping (RSS before/after, echo size of a handshake cell). */
  readonly [extra: string]: unknown;
}

/** What the load generator prints for one cell. */
export interface LoadReport {
  readonly rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly samples: number;
  readonly errors: number;
  readonly load_cpu: number;
  readonly server_cpu: number;
  /** Cores busy with anything else meanwhile (other processes, roughly): a noise indicator. */
  readonly other_cpu: number;
}

/** An acceptance target: a somnytoo/tls ratio (or a `sides` ratio, or a `unit` value) with a bound. */
export interface Target {
  readonly name: string;
  readonly suite: string;
  readonly payload: number;
  readonly connections: number;
  readonly pipeline: number;
  readonly metric: "rps" | "p50_ms" | "p99_ms" | "rss_kib_per_conn" | "compile_us";
  /** The cell's query (`orm` suites). */
  readonly query?: string;
  /** Numerator and denominator of the ratio. @default ["somnytoo", "tls"] */
  readonly sides?: readonly [CellResult["transport"], CellResult["transport"]];
  /** Bound the value of `sides[0]` itself, not a ratio; printed with this unit. */
  readonly unit?: string;
  /** The ratio must be ≥ min (throughput) or ≤ max (latency, memory). */
  readonly min?: number;
  readonly max?: number;
  /** Where we want to be eventually. */
  readonly goal?: number;
}

const KIB = 1024;
const at = (suite: string, payload: number, connections: number, pipeline = 1) => ({
  suite,
  payload,
  connections,
  pipeline,
});

/** The targets, in report order. */
export const TARGETS: readonly Target[] = [
  { name: "Echo 1 KiB ×16 conn, req/s", ...at("echo", KIB, 16), metric: "rps", min: 0.35, goal: 1 },
  { name: "Echo 64 B ×16 conn, req/s", ...at("echo", 64, 16), metric: "rps", min: 0.35 },
  { name: "Echo 16 KiB ×16 conn, req/s", ...at("echo", 16 * KIB, 16), metric: "rps", min: 0.25 },
  {
    name: "Echo 1 KiB 16 conn ×32 pipelined, req/s",
    ...at("echo_pipelined", KIB, 16, 32),
    metric: "rps",
    min: 0.35,
  },
  { name: "p99 at 1 conn, 64 B", ...at("echo", 64, 1), metric: "p99_ms", max: 2 },
  { name: "p99 at 1 conn, 1 KiB", ...at("echo", KIB, 1), metric: "p99_ms", max: 2 },
  { name: "p99 at 1 conn, 16 KiB", ...at("echo", 16 * KIB, 1), metric: "p99_ms", max: 2 },
  { name: "Full handshakes/s (8 workers)", ...at("handshake", 0, 8), metric: "rps", min: 1.5 },
  ...SECURITY_CELLS.map((c): Target => ({
    name: `Security layer on/off, Echo ${
      c.payload === KIB ? "1 KiB" : `${c.payload} B`
    } ×${c.connections}, req/s`,
    ...at("echo_security", c.payload, c.connections),
    sides: ["security on", "security off"],
    metric: "rps",
    min: 0.9,
  })),
  // connections -1: whatever count the memory cell used (1 000, or 100 with --quick).
  { name: "RSS per idle session", ...at("idle_rss", 0, -1), metric: "rss_kib_per_conn", max: 1 },
  ...ORM_QUERIES.map((query): Target => ({
    name: `ORM p50 overhead vs postgres.js (${query}, 1 outstanding)`,
    ...at("orm", 0, 1),
    query,
    sides: ["orm", "postgres.js"],
    metric: "p50_ms",
    max: 1.05,
  })),
  ...ORM_QUERIES.map((query): Target => ({
    name: `Builder compile cost (${query})`,
    ...at("orm_compile", 0, 0),
    query,
    sides: ["orm", "orm"],
    metric: "compile_us",
    unit: "µs",
    max: 20,
  })),
];

/** Find a result; `connections: -1` matches any count. */
export function findResult(
  results: readonly CellResult[],
  t: Pick<Target, "suite" | "payload" | "connections" | "pipeline" | "query">,
  transport: CellResult["transport"],
): CellResult | undefined {
  return results.find((r) =>
    r.suite === t.suite && r.transport === transport && r.payload === t.payload &&
    (t.connections < 0 || r.connections === t.connections) && r.pipeline === t.pipeline &&
    r.query === t.query
  );
}

/**
 * somnytoo/tls (or `t.sides`) ratio of `metric` for `t` — the value itself
 * for a target with a `unit` — or undefined when a side is missing.
 */
export function targetRatio(results: readonly CellResult[], t: Target): number | undefined {
  const [num, den] = t.sides ?? ["somnytoo", "tls"];
  const s = findResult(results, t, num);
  if (t.unit !== undefined) return typeof s?.[t.metric] === "number" ? s[t.metric] : undefined;
  const l = findResult(results, t, den);
  const a = s?.[t.metric], b = l?.[t.metric];
  if (typeof a !== "number" || typeof b !== "number" || b === 0) return undefined;
  return a / b;
}

/** PASS / FAIL / n/a for a ratio. */
export function verdict(t: Target, ratio: number | undefined): "PASS" | "FAIL" | "n/a" {
  if (ratio === undefined) return "n/a";
  if (t.min !== undefined && ratio < t.min) return "FAIL";
  if (t.max !== undefined && ratio > t.max) return "FAIL";
  return "PASS";
}
