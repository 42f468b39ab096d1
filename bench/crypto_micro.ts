/**
 * Per-call cost of the hot-path primitives (AES-256-GCM seal/open, HMAC with
 * an imported key) for every available CryptoBackend.
 *
 *     deno run -A bench/crypto_micro.ts [--ms=200]
 *
 * Sync backends are timed without `await`: at ~1 µs per call, a microtask
 * per call would be a visible share of what is measured. Each cell reports
 * the best of three timed runs, which filters out GC pauses and JIT tiering.
 *
 * @module
 */

import { type CryptoBackend, webCryptoBackend } from "../src/protocol/mod.ts";
import { loadLibcryptoBackend, nodeCryptoBackend } from "../src/crypto/mod.ts";

const SIZES = [64, 1024, 16 * 1024];
const REPEATS = 5;
const msArg = Deno.args.find((a) => a.startsWith("--ms="));
const RUN_MS = msArg ? Number(msArg.slice(5)) : 200;

type Op = () => unknown;

// Results flow here so the JIT cannot discard the calls.
let sink = 0;

function consume(v: unknown): void {
  if (v instanceof Uint8Array) sink += v.length;
  else if (v === null) sink++;
}

/** Best per-call time in µs over REPEATS runs of about RUN_MS each. */
async function measure(op: Op): Promise<number> {
  const isAsync = op() instanceof Promise;
  const runBatch = isAsync
    ? async (n: number) => {
      for (let i = 0; i < n; i++) consume(await op());
    }
    : (n: number) => {
      for (let i = 0; i < n; i++) consume(op());
    };
  // Calibrate (and warm up) until one batch takes a measurable time.
  let n = 16;
  for (;;) {
    const t0 = performance.now();
    await runBatch(n);
    const dt = performance.now() - t0;
    if (dt >= 20) {
      n = Math.max(1, Math.round((n * RUN_MS) / dt));
      break;
    }
    n *= 4;
  }
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    await runBatch(n);
    best = Math.min(best, ((performance.now() - t0) * 1000) / n);
  }
  return best;
}

const backends: CryptoBackend[] = [];
let libcrypto: CryptoBackend | undefined;
try {
  libcrypto = loadLibcryptoBackend();
} catch (e) {
  console.error(`libcrypto failed to initialise: ${e instanceof Error ? e.message : e}`);
}
if (libcrypto) backends.push(libcrypto);
else console.error("note: libcrypto backend not available (needs --allow-ffi and OpenSSL 3)");
backends.push(nodeCryptoBackend, webCryptoBackend);

const rows: { backend: string; op: string; us: number[] }[] = [];
const raw = crypto.getRandomValues(new Uint8Array(32));
const nonce = crypto.getRandomValues(new Uint8Array(12));
const aad = crypto.getRandomValues(new Uint8Array(16));

for (const b of backends) {
  const aeadKey = await b.importAeadKey(raw);
  const macKey = await b.importMacKey(raw);
  const seal: number[] = [];
  const open: number[] = [];
  const mac: number[] = [];
  for (const size of SIZES) {
    const pt = crypto.getRandomValues(new Uint8Array(size));
    const ct = await b.seal(aeadKey, nonce, aad, pt);
    // Reusing a nonce is fine here: nothing is ever sent, only timed.
    seal.push(await measure(() => b.seal(aeadKey, nonce, aad, pt)));
    open.push(await measure(() => b.open(aeadKey, nonce, aad, ct)));
    mac.push(await measure(() => b.mac(macKey, pt)));
  }
  b.destroyKey?.(aeadKey);
  b.destroyKey?.(macKey);
  rows.push({ backend: b.name, op: "seal", us: seal });
  rows.push({ backend: b.name, op: "open", us: open });
  rows.push({ backend: b.name, op: "mac", us: mac });
}

const label = (n: number) => (n >= 1024 ? `${n / 1024} KiB` : `${n} B`);
const header = ["backend", "op", ...SIZES.map(label)];
const body = rows.map((r) => [r.backend, r.op, ...r.us.map((u) => u.toFixed(2))]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
const fmt = (cells: string[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");

console.log(`µs per call (best of ${REPEATS} × ~${RUN_MS} ms), Deno ${Deno.version.deno}`);
console.log(fmt(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of body) console.log(fmt(row));
if (sink < 0) console.log(sink); // keeps `sink` observable
