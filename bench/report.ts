/**
 * What the bench prints: one progress line per cell, then the summary
 * tables (results with ratios, idle memory, ORM vs postgres.js, targets
 * with PASS/FAIL).
 *
 * @module
 */

import { type CellResult, findResult, targetRatio, TARGETS, verdict } from "./cells.ts";
import { fmtBytes, fmtInt, fmtMs, fmtRatio, table } from "./stats.ts";

/** Cores busy with other processes above which a measurement counts as noisy. */
export const NOISE_CORES = 0.3;

/** Cores other processes used while `r` was measured. */
export const noise = (r: CellResult): number => r.other_cpu ?? 0;

/** A cell's display name: "echo 1 KiB ×16", "handshake ×8 workers", … */
export function cellName(
  c: { suite: string; payload: number; connections: number; pipeline: number; query?: string },
): string {
  switch (c.suite) {
    case "orm":
      return `orm ${c.query} ×${c.connections}`;
    case "handshake":
      return `handshake ×${c.connections} workers`;
    case "idle_rss":
      return `idle RSS ${c.connections} conns`;
    default:
      return `${c.suite} ${fmtBytes(c.payload)} ×${c.connections}` +
        (c.pipeline > 1 ? ` ×${c.pipeline} pipelined` : "");
  }
}

function side(r: CellResult): string {
  const noisy = noise(r) > NOISE_CORES ? ` NOISE(other ${noise(r).toFixed(2)})` : "";
  const errs = r.errors ? ` ERRORS ${r.errors}` : "";
  const cpu = `cpu srv ${r.server_cpu?.toFixed(2)} gen ${r.load_cpu?.toFixed(2)}`;
  return `${r.transport} ${fmtInt(r.rps).padStart(7)}/s p50 ${fmtMs(r.p50_ms).padStart(5)} ` +
    `p99 ${fmtMs(r.p99_ms).padStart(5)} ms (${cpu}, ${r.server_us_per_op} µs/op)${noisy}${errs}`;
}

/** The progress line of one cell: ours, then TLS's and the ratios when given. */
export function progressLine(s: CellResult, t?: CellResult): string {
  const label = cellName(s) + (s.suite === "echo_backend" ? ` [${s.backend}]` : "");
  const parts = [label.padEnd(30), side(s)];
  if (t) {
    parts.push(
      side(t),
      `ratio rps ${fmtRatio(s.rps / t.rps)} p99 ${fmtRatio(s.p99_ms / t.p99_ms)}`,
    );
  }
  return parts.join(" | ");
}

/** The progress line of the memory cell. */
export function rssLine(r: CellResult, note = ""): string {
  return `${cellName(r).padEnd(30)} | ${r.transport} RSS ${fmtInt(r.rss_before_kib as number)} → ` +
    `${fmtInt(r.rss_after_kib as number)} KiB = ${r.rss_kib_per_conn?.toFixed(1)} KiB/conn` +
    ` (plain GC: ${r.rss_plain_gc_kib_per_conn?.toFixed(1)})` +
    ` (live heap ${r.heap_kib_per_conn?.toFixed(1)}, external ${
      r.external_kib_per_conn?.toFixed(1)
    } KiB/conn)${note}`;
}

/** One side of an `orm` cell. */
function ormSide(r: CellResult): string {
  const noisy = noise(r) > NOISE_CORES ? ` NOISE(other ${noise(r).toFixed(2)})` : "";
  const errs = r.errors ? ` ERRORS ${r.errors}` : "";
  return `${r.transport} ${fmtInt(r.rps).padStart(6)}/s p50 ${fmtMs(r.p50_ms).padStart(4)} ` +
    `p99 ${fmtMs(r.p99_ms).padStart(4)} ms (cpu bench ${r.load_cpu?.toFixed(2)} ` +
    `db ${r.db_cpu?.toFixed(2)}, ${r.client_us_per_op} µs/call)${noisy}${errs}`;
}

/** The progress line of an `orm` cell: the ORM side, the postgres.js side, the ratios. */
export function ormLine(orm: CellResult, raw: CellResult): string {
  return [
    cellName(orm).padEnd(30),
    ormSide(orm),
    ormSide(raw),
    `ratio p50 ${fmtRatio(orm.p50_ms / raw.p50_ms)} p99 ${fmtRatio(orm.p99_ms / raw.p99_ms)}`,
  ].join(" | ");
}

/** The progress line of the builder's compile cost (`orm_compile` cells). */
export function compileLine(cells: readonly CellResult[]): string {
  return `${"orm builder + compile()".padEnd(30)} | ` +
    cells.map((c) => `${c.query} ${c.compile_us?.toFixed(1)} µs`).join(", ");
}

/** ORM vs hand-written postgres.js, one row per query and concurrency. */
function ormTable(results: readonly CellResult[], markdown: boolean): string {
  const cells = results.filter((r) => r.suite === "orm" && r.transport === "orm");
  const rows = cells.map((o) => {
    const r = findResult(results, o, "postgres.js");
    const c = findResult(results, { ...o, suite: "orm_compile", connections: 0 }, "orm");
    return [
      o.query ?? "?",
      String(o.connections),
      fmtMs(o.p50_ms),
      fmtMs(r?.p50_ms ?? NaN),
      fmtRatio(r ? o.p50_ms / r.p50_ms : undefined),
      fmtMs(o.p99_ms),
      fmtMs(r?.p99_ms ?? NaN),
      fmtRatio(r ? o.p99_ms / r.p99_ms : undefined),
      fmtInt(o.rps),
      fmtInt(r?.rps ?? NaN),
      String(o.client_us_per_op ?? "—"),
      String(r?.client_us_per_op ?? "—"),
      c?.compile_us?.toFixed(1) ?? "—",
      (Math.max(noise(o), r ? noise(r) : 0)).toFixed(2),
    ];
  });
  const header = "query|outstanding|p50 orm|p50 pg.js|p50 ratio|p99 orm|p99 pg.js|p99 ratio|" +
    "calls/s orm|calls/s pg.js|bench µs/call orm|bench µs/call pg.js|compile µs|other cores";
  return table(header.split("|"), rows, { markdown });
}

function resultsTable(results: readonly CellResult[], markdown: boolean): string {
  const cells = results.filter((r) => r.transport === "somnytoo" && r.suite !== "idle_rss");
  const rows = cells.map((s) => {
    const suite = s.suite === "echo_backend" ? "echo" : s.suite;
    const t = findResult(results, { ...s, suite }, "tls");
    return [
      cellName(s) + (s.suite === "echo_backend" ? ` [${s.backend}]` : ""),
      fmtInt(s.rps),
      fmtInt(t?.rps ?? NaN),
      fmtRatio(t ? s.rps / t.rps : undefined),
      fmtMs(s.p50_ms),
      fmtMs(t?.p50_ms ?? NaN),
      fmtMs(s.p99_ms),
      fmtMs(t?.p99_ms ?? NaN),
      fmtRatio(t ? s.p99_ms / t.p99_ms : undefined),
      String(s.server_us_per_op ?? "—"),
      String(t?.server_us_per_op ?? "—"),
      (Math.max(noise(s), t ? noise(t) : 0)).toFixed(2),
    ];
  });
  const header = "cell|req/s ours|req/s tls|ratio|p50 ours|p50 tls|p99 ours|p99 tls|p99 ratio|" +
    "srv µs/op ours|srv µs/op tls|other cores";
  return table(header.split("|"), rows, { markdown });
}

/** Print the summary: results with ratios, idle memory, targets. */
export function printSummary(results: readonly CellResult[], markdown = false): void {
  if (results.some((r) => !["idle_rss", "orm", "orm_compile"].includes(r.suite))) {
    console.log(
      "\nResults (ours = somnytoo; req/s is handshakes/s for handshake; latency in ms; " +
        "srv µs/op = server CPU per request or handshake; other cores = noise from other processes)\n",
    );
    console.log(resultsTable(results, markdown));
  }
  const idle = results.filter((r) => r.suite === "idle_rss");
  if (idle.length > 0) {
    console.log("\nServer RSS per idle connection\n");
    console.log(table(
      [
        "transport",
        "connections",
        "before KiB",
        "after KiB",
        "KiB/conn",
        "KiB/conn, plain GC",
        "live heap KiB/conn",
        "external KiB/conn",
      ],
      idle.map((r) => [
        r.transport,
        String(r.connections),
        fmtInt(r.rss_before_kib as number),
        fmtInt(r.rss_after_kib as number),
        (r.rss_kib_per_conn ?? NaN).toFixed(1),
        (r.rss_plain_gc_kib_per_conn ?? NaN).toFixed(1),
        (r.heap_kib_per_conn ?? NaN).toFixed(1),
        (r.external_kib_per_conn ?? NaN).toFixed(1),
      ]),
      { markdown },
    ));
  }
  if (results.some((r) => r.suite === "orm")) {
    console.log(
      "\nORM (builder → compile → Database.execute) vs hand-written postgres.js, same process " +
        "(latency in ms; bench µs/call = CPU of the bench process per call; compile µs = " +
        "building and compiling the query once)\n",
    );
    console.log(ormTable(results, markdown));
  }
  console.log("\nTargets (ratio = somnytoo / tls; ORM: orm / postgres.js)\n");
  console.log(table(
    ["target", "ratio", "bound", "goal", "verdict"],
    TARGETS.map((t) => {
      const ratio = targetRatio(results, t);
      const unit = t.unit === undefined ? "×" : ` ${t.unit}`;
      return [
        t.name,
        t.unit === undefined || ratio === undefined
          ? fmtRatio(ratio)
          : `${ratio.toFixed(1)}${unit}`,
        t.min !== undefined ? `≥ ${t.min}${unit}` : `≤ ${t.max}${unit}`,
        t.goal !== undefined ? `${t.goal}×` : "",
        verdict(t, ratio),
      ];
    }),
    { markdown },
  ));
}
