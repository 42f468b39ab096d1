/**
 * The load generator, in its own process. Run by `run.ts`:
 *
 *     deno run -A bench/load_process.ts --mode echo|handshake|idle
 *       --transport somnytoo --port N --psk HEX [--backend NAME]   (or)
 *       --transport tls --port N --ca CERT.pem
 *       [--payload B] [--connections C] [--pipeline P]
 *       [--warmup MS] [--duration MS] [--server-pid PID] [--samples FILE]
 *
 * - `echo`: C connections, P requests outstanding on each (closed loop: a
 *   reply triggers the next request). Warm-up, then a measured window;
 *   every request that completes inside it counts and gives one latency
 *   sample (performance.now() around `request()`).
 * - `handshake`: C workers, each looping connect + handshake + one echo + close.
 * - `idle`: open C sessions (one echo each), print `{"ready": C}`, hold them
 *   until a line (or EOF) on stdin, close them, print `{"closed": C}`.
 *
 * `echo` and `handshake` print one JSON `LoadReport` line; with `--samples`
 * they also write the raw latency samples (ms, Float64 little-endian) to
 * FILE, so that `run.ts` can merge rounds and generators exactly.
 *
 * @module
 */

import { selectCryptoBackend } from "../src/crypto/mod.ts";
import type { CryptoBackendPreference } from "../src/crypto/mod.ts";
import { fromHex } from "../src/util/mod.ts";
import type { LoadReport } from "./cells.ts";
import { type EchoClient, openClient, type Target } from "./clients.ts";
import { cpuSeconds, lines, machineBusySeconds, numFlag, parseFlags } from "./procs.ts";
import { latencySummary, round, Samples } from "./stats.ts";

const flags = parseFlags(Deno.args);
const mode = flags.get("mode") ?? "echo";
const port = numFlag(flags, "port");
const payloadSize = numFlag(flags, "payload", 64);
const connections = numFlag(flags, "connections", 1);
const pipeline = numFlag(flags, "pipeline", 1);
const warmupMs = numFlag(flags, "warmup", 1000);
const durationMs = numFlag(flags, "duration", 3000);
const serverPid = flags.has("server-pid") ? numFlag(flags, "server-pid") : undefined;
const samplesFile = flags.get("samples");

function target(): Target {
  if (flags.get("transport") === "tls") {
    const ca = flags.get("ca");
    if (!ca) throw new Error("--transport tls needs --ca");
    return { transport: "tls", port, caCert: Deno.readTextFileSync(ca) };
  }
  const psk = flags.get("psk");
  if (!psk) throw new Error("--transport somnytoo needs --psk");
  const backend = selectCryptoBackend((flags.get("backend") ?? "auto") as CryptoBackendPreference);
  return { transport: "somnytoo", port, psk: fromHex(psk), backend };
}

/** Open `n` connections, `parallel` handshakes at a time. */
async function openMany(t: Target, n: number, parallel = 32): Promise<EchoClient[]> {
  const out: EchoClient[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        next++;
        out.push(await openClient(t));
      }
    }),
  );
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `workers` closed loops, loop k calling `op(k)`; warm up, then measure a
 * window. `op` resolves false when its result was wrong (counted as an error).
 */
async function measure(workers: number, op: (k: number) => Promise<boolean>): Promise<LoadReport> {
  const samples = new Samples();
  let t0 = Infinity, t1 = Infinity;
  let stop = false, errors = 0;
  const loop = async (k: number) => {
    while (!stop) {
      const s = performance.now();
      let ok: boolean;
      try {
        ok = await op(k);
      } catch (e) {
        if (errors++ === 0) console.error(`load_process: ${(e as Error)?.message ?? e}`);
        if (errors > 1000) stop = true;
        await sleep(1);
        continue;
      }
      const e = performance.now();
      if (!ok) errors++;
      else if (e >= t0 && e < t1) samples.push(e - s);
    }
  };
  const loops = Array.from({ length: workers }, (_, k) => loop(k));
  await sleep(warmupMs);
  const cpu0 = cpuSeconds("self"), srv0 = serverPid ? cpuSeconds(serverPid) : 0;
  const all0 = machineBusySeconds();
  t0 = performance.now();
  await sleep(durationMs);
  t1 = performance.now();
  const cpu1 = cpuSeconds("self"), srv1 = serverPid ? cpuSeconds(serverPid) : 0;
  const all1 = machineBusySeconds();
  stop = true;
  await Promise.all(loops);
  const seconds = (t1 - t0) / 1000;
  const { p50_ms, p99_ms } = latencySummary(samples);
  if (samplesFile) await Deno.writeFile(samplesFile, new Uint8Array(samples.values().buffer));
  return {
    rps: round(samples.count / seconds, 1),
    p50_ms: round(p50_ms, 4),
    p99_ms: round(p99_ms, 4),
    samples: samples.count,
    errors,
    load_cpu: round((cpu1 - cpu0) / seconds, 3),
    server_cpu: round((srv1 - srv0) / seconds, 3),
    other_cpu: round(Math.max(0, all1 - all0 - (cpu1 - cpu0) - (srv1 - srv0)) / seconds, 3),
  };
}

const t = target();
const payload = crypto.getRandomValues(new Uint8Array(payloadSize));
const last = payload.length - 1;
const echoOk = (reply: Uint8Array) =>
  reply.length === payload.length && reply[0] === payload[0] && reply[last] === payload[last];

if (mode === "echo") {
  const clients = await openMany(t, connections);
  // Loop k always uses connection k % connections: exactly `pipeline` requests outstanding on each.
  const report = await measure(
    connections * pipeline,
    (k) => clients[k % connections].request(payload).then(echoOk),
  );
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  console.log(JSON.stringify(report));
} else if (mode === "handshake") {
  const report = await measure(connections, async () => {
    const c = await openClient(t);
    try {
      return echoOk(await c.request(payload));
    } finally {
      await c.close();
    }
  });
  console.log(JSON.stringify(report));
} else if (mode === "idle") {
  const clients = await openMany(t, connections);
  await Promise.all(clients.map((c) => c.request(payload)));
  console.log(JSON.stringify({ ready: clients.length }));
  await lines(Deno.stdin.readable).next();
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  console.log(JSON.stringify({ closed: clients.length }));
} else {
  throw new Error(`unknown --mode ${mode}`);
}
Deno.exit(0);
