/**
 * Starting the server processes and running load-generator processes
 * against them; merging several measurements of one cell.
 *
 * @module
 */

import type { CellResult, LoadCell, LoadReport, Timing, Transport } from "./cells.ts";
import { DenoChild, machineBusySeconds } from "./procs.ts";
import { latencySummary, round, Samples } from "./stats.ts";

/** What every process of one run shares. */
export interface Env {
  /** Temporary directory (certificate, sample files). */
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  /** Hex PSK given to our server and clients. */
  readonly psk: string;
  /** Crypto backend preference for our server and clients. */
  readonly backend: string;
  /** Our server's entry point (default `server_process.ts`; an experiment may replace it). */
  readonly serverScript?: string;
}

/** A running server child. */
export interface Server {
  readonly transport: Transport;
  readonly proc: DenoChild;
  readonly port: number;
  /** The backend our server actually selected. */
  readonly backend?: string;
}

/** One load-generator measurement: its report and raw latency samples. */
export interface Measured {
  readonly report: LoadReport;
  readonly samples: Float64Array;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A self-signed P-256 certificate for localhost, valid one day, written to `dir`. */
export async function makeCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`, key = `${dir}/key.pem`;
  // rustls refuses a CA certificate as an end entity, and wants a subjectAltName.
  const args = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 " +
    "-subj /CN=localhost -addext basicConstraints=critical,CA:FALSE " +
    "-addext subjectAltName=DNS:localhost";
  const out = await new Deno.Command("openssl", {
    args: [...args.split(" "), "-keyout", key, "-out", cert],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
  return { cert, key };
}

/** Start a server process and wait for its port. */
export async function startServer(
  env: Env,
  transport: Transport,
  opts: { backend?: string; denoFlags?: string[]; security?: boolean } = {},
): Promise<Server> {
  const proc = transport === "somnytoo"
    ? new DenoChild(
      env.serverScript ?? "./server_process.ts",
      [
        "--psk",
        env.psk,
        "--backend",
        opts.backend ?? env.backend,
        ...(opts.security ? ["--security", "on"] : []),
      ],
      opts.denoFlags,
    )
    : new DenoChild(
      "./tls_server_process.ts",
      ["--cert", env.cert, "--key", env.key],
      opts.denoFlags,
    );
  const info = await proc.nextJson<{ port: number; backend?: string }>();
  return { transport, proc, port: info.port, backend: info.backend };
}

/** `{a: 1}` → `["--a", "1"]`. */
function argv(o: Record<string, string | number>): string[] {
  return Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)]);
}

/** load_process.ts arguments for `server` plus `o`. */
export function loadArgs(env: Env, server: Server, o: Record<string, string | number>): string[] {
  const to: Record<string, string> = server.transport === "somnytoo"
    ? { psk: env.psk, backend: server.backend ?? env.backend }
    : { ca: env.cert };
  return argv({ transport: server.transport, port: server.port, ...to, ...o });
}

/** Split `n` into at most `parts` near-equal positive shares. */
function split(n: number, parts: number): number[] {
  const k = Math.max(1, Math.min(parts, n));
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

let nextSamplesFile = 0;

/** One load-generator process running `connections` of `cell`. */
async function runGenerator(
  env: Env,
  server: Server,
  cell: LoadCell,
  t: Pick<Timing, "warmupMs" | "durationMs">,
  connections: number,
): Promise<Measured> {
  const file = `${env.dir}/samples-${nextSamplesFile++}.f64`;
  const gen = new DenoChild(
    "./load_process.ts",
    loadArgs(env, server, {
      mode: cell.suite === "handshake" ? "handshake" : "echo",
      payload: cell.payload,
      connections,
      pipeline: cell.pipeline,
      warmup: t.warmupMs,
      duration: t.durationMs,
      "server-pid": server.proc.pid,
      samples: file,
    }),
  );
  const report = await gen.nextJson<LoadReport>();
  await gen.end();
  const raw = await Deno.readFile(file);
  await Deno.remove(file);
  return { report, samples: new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8) };
}

/**
 * Measure `cell` once against `server`, from `generators` processes at once
 * sharing its connections (default 1).
 */
export async function measure(
  env: Env,
  server: Server,
  cell: LoadCell,
  t: Pick<Timing, "warmupMs" | "durationMs">,
  generators = 1,
): Promise<Measured> {
  const parts = await Promise.all(
    split(cell.connections, generators).map((n) => runGenerator(env, server, cell, t, n)),
  );
  return parts.length === 1 ? parts[0] : combine(parts, "parallel");
}

/**
 * Several measurements of one cell as one. `parallel` (generators running
 * at once): rates and generator CPU add up. `sequential` (rounds): rates and
 * CPU average. Percentiles always come from all samples together.
 */
export function combine(parts: readonly Measured[], how: "parallel" | "sequential"): Measured {
  const all = new Samples();
  for (const p of parts) all.pushAll(p.samples);
  const reports = parts.map((p) => p.report);
  const sum = (f: (r: LoadReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const mean = (f: (r: LoadReport) => number) => sum(f) / reports.length;
  let load = mean((r) => r.load_cpu), other = mean((r) => r.other_cpu), rps = mean((r) => r.rps);
  if (how === "parallel") {
    // Each generator's "other" includes its siblings: other + self = machine − server.
    rps = sum((r) => r.rps);
    load = sum((r) => r.load_cpu);
    other = Math.max(0, mean((r) => r.other_cpu + r.load_cpu) - load);
  }
  return {
    report: {
      rps: round(rps, 1),
      ...latencySummary(all),
      samples: all.count,
      errors: sum((r) => r.errors),
      load_cpu: round(load, 3),
      server_cpu: round(mean((r) => r.server_cpu), 3),
      other_cpu: round(other, 3),
    },
    samples: all.values(),
  };
}

/** The `--json` record of a measured cell. */
export function toResult(cell: LoadCell, server: Server, r: LoadReport): CellResult {
  const handshake = cell.suite === "handshake";
  return {
    suite: cell.suite,
    transport: server.transport,
    payload: handshake ? 0 : cell.payload,
    connections: cell.connections,
    pipeline: cell.pipeline,
    rps: r.rps,
    p50_ms: round(r.p50_ms, 4),
    p99_ms: round(r.p99_ms, 4),
    ...(handshake ? { echo_payload: cell.payload } : {}),
    ...(server.backend ? { backend: server.backend } : {}),
    server_cpu: r.server_cpu,
    load_cpu: r.load_cpu,
    other_cpu: r.other_cpu,
    server_us_per_op: r.rps > 0 ? round((r.server_cpu / r.rps) * 1e6, 1) : undefined,
    errors: r.errors,
  };
}

/** Cores used by the whole machine over `ms`. */
export async function machineLoad(ms: number): Promise<number> {
  const a = machineBusySeconds();
  await sleep(ms);
  return (machineBusySeconds() - a) / (ms / 1000);
}
