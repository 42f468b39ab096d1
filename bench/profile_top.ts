/**
 * Summarise a V8 `.cpuprofile` (from `deno task bench --cpu-prof DIR`):
 * the functions with the most self time and the most inclusive time.
 *
 *     deno run --allow-read bench/profile_top.ts FILE.cpuprofile [--top 25]
 *
 * @module
 */

import { numFlag, parseFlags } from "./procs.ts";
import { table } from "./stats.ts";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** "fn (file:line)" with the path shortened to the repository. */
function label(n: ProfileNode): string {
  const f = n.callFrame;
  const name = f.functionName || "(anonymous)";
  if (!f.url) return name;
  const file = f.url.replace(/^.*\/work\/main\//, "").replace(/^ext:/, "ext:");
  return `${name} (${file}:${f.lineNumber + 1})`;
}

/** Self and inclusive milliseconds per function label. */
export function summarise(p: Profile): {
  totalMs: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
} {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    let id: number | undefined = p.samples[i];
    const first = byId.get(id)!;
    self.set(label(first), (self.get(label(first)) ?? 0) + ms);
    const seen = new Set<string>();
    while (id !== undefined) {
      const l = label(byId.get(id)!);
      if (!seen.has(l)) {
        seen.add(l);
        inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
      }
      id = parent.get(id);
    }
  }
  return { totalMs, self, inclusive };
}

/** Self time grouped: our crypto backends, our protocol/server/client code, Web Streams, ops, GC. */
export function byArea(self: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [l, ms] of self) {
    const area = /src\/crypto\//.test(l)
      ? "crypto backend (src/crypto, FFI calls inlined)"
      : /src\/protocol\/noise|src\/protocol\/(transport|handshake)/.test(l)
      ? "protocol crypto framing (transport.ts, handshake, noise)"
      : /src\//.test(l)
      ? "other src/ (pipeline, connection, frame, outbox, …)"
      : /06_streams|webidl/.test(l)
      ? "Web Streams (ext:deno_web)"
      : /^op_/.test(l)
      ? "Deno ops (I/O syscalls)"
      : l === "(garbage collector)"
      ? "garbage collector"
      : l === "(idle)"
      ? "(idle)"
      : "other runtime (promises, timers, core, program)";
    out.set(area, (out.get(area) ?? 0) + ms);
  }
  return out;
}

if (import.meta.main) {
  const file = Deno.args[0];
  if (!file) throw new Error("usage: profile_top.ts FILE.cpuprofile [--top N]");
  const top = numFlag(parseFlags(Deno.args.slice(1)), "top", 25);
  const { totalMs, self, inclusive } = summarise(JSON.parse(Deno.readTextFileSync(file)));
  const busyMs = totalMs - (self.get("(idle)") ?? 0);
  const rows = (m: Map<string, number>) =>
    [...m].filter(([l]) => l !== "(idle)" && l !== "(root)").sort((a, b) => b[1] - a[1])
      .slice(0, top).map(([l, ms]) => [l, ms.toFixed(0), `${((100 * ms) / busyMs).toFixed(1)}%`]);
  console.log(
    `profile: ${totalMs.toFixed(0)} ms sampled, ${busyMs.toFixed(0)} ms busy (shares are of busy)`,
  );
  console.log(`\nself time\n`);
  console.log(table(["function", "ms", "share"], rows(self)));
  console.log(`\ninclusive time\n`);
  console.log(table(["function", "ms", "share"], rows(inclusive)));
  console.log(`\nself time by area\n`);
  console.log(table(["area", "ms", "share"], rows(byArea(self))));
}
