/**
 * Process plumbing shared by the bench entry points: flag parsing, line I/O
 * between `run.ts` and its children, and /proc readings (CPU time, RSS).
 * Linux only (/proc).
 *
 * @module
 */

import { readLines } from "../src/util/mod.ts";

/** `--name value` / `--name=value` flags; a flag followed by another flag (or nothing) is "true". */
export function parseFlags(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) {
      out.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
      out.set(a.slice(2), args[++i]);
    } else {
      out.set(a.slice(2), "true");
    }
  }
  return out;
}

/** A required numeric flag. */
export function numFlag(flags: Map<string, string>, name: string, fallback?: number): number {
  const v = flags.get(name);
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`missing --${name}`);
    return fallback;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
  return n;
}

/** Lines of a byte stream, without their newline. */
export const lines: (stream: ReadableStream<Uint8Array>) => AsyncGenerator<string> = readLines;

/**
 * A server child's control loop on stdin: `gc` runs a full collection and
 * `gc-reduce` a memory-reducing one (both need `--v8-flags=--expose-gc`);
 * each answers with the V8 heap's size after it (`Deno.memoryUsage()`). Any other known command calls its
 * handler; each answer is one JSON line on stdout. Returns at EOF.
 */
export async function serveControl(handlers: Record<string, () => unknown> = {}): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for await (const line of lines(Deno.stdin.readable)) {
    const cmd = line.trim();
    if (cmd === "gc" || cmd === "gc-reduce") {
      // "gc-reduce" is V8's last-resort full collection: it also compacts the
      // heap and returns free pages to the OS, as V8's memory reducer would.
      if (cmd === "gc") gc?.();
      else (gc as ((o: unknown) => void) | undefined)?.({ type: "major", flavor: "last-resort" });
      const m = Deno.memoryUsage();
      console.log(JSON.stringify({
        gc: gc !== undefined,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
      }));
    } else if (handlers[cmd]) {
      console.log(JSON.stringify({ [cmd]: handlers[cmd]() }));
    } else if (cmd !== "") {
      console.log(JSON.stringify({ error: `unknown command ${cmd}` }));
    }
  }
}

/** A `deno run` child with line access to its stdout. */
export class DenoChild {
  readonly child: Deno.ChildProcess;
  readonly #out: AsyncGenerator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  /** Start `deno run -A [denoFlags] script args`; stderr goes to ours. */
  constructor(script: string, args: readonly string[], denoFlags: readonly string[] = []) {
    const url = new URL(script, import.meta.url);
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ...denoFlags, url.pathname, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#out = lines(this.child.stdout);
    this.#stdin = this.child.stdin.getWriter();
  }

  /** The process id (`deno run` is the process itself, no wrapper). */
  get pid(): number {
    return this.child.pid;
  }

  /** The next stdout line parsed as JSON. */
  async nextJson<T>(): Promise<T> {
    const r = await this.#out.next();
    if (r.done) throw new Error("child exited without output");
    return JSON.parse(r.value) as T;
  }

  /** Send one line on stdin. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Close stdin (the children exit at EOF) and wait for the exit. */
  async end(): Promise<Deno.CommandStatus> {
    try {
      await this.#stdin.close();
    } catch { /* already gone */ }
    return await this.child.status;
  }
}

/** CPU time (user + system) of `pid` in seconds, from /proc/<pid>/stat (USER_HZ = 100). */
export function cpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Resident set size of `pid` in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** CPU seconds spent in user + nice + system mode by the whole machine (/proc/stat). */
export function machineBusySeconds(): number {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/);
  // cpu user nice system idle iowait irq softirq steal …
  return (Number(f[1]) + Number(f[2]) + Number(f[3])) / 100;
}
