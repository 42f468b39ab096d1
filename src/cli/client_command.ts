/**
 * `main.ts client …`: ping, echo and a small load test against a server.
 * Takes its environment as arguments so it can be tested without a shell.
 */

import { parseArgs } from "node:util";
import { ConfigError } from "../errors.ts";
import type { CryptoBackend } from "../protocol/mod.ts";
import { type ClientSession, connect } from "../client/mod.ts";

/** What the command needs from the outside world. */
export interface ClientCommandEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): Promise<string>;
  print(line: string): void;
  readonly backend: CryptoBackend;
  parseKey(hex: string): Uint8Array;
}

const DEFAULT_PSK_FILE = "./.somnytoo/psk";

/** Run the client command; returns the process exit code. */
export async function runClientCommand(args: string[], io: ClientCommandEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      psk: { type: "string" },
      "psk-file": { type: "string" },
      "psk-id": { type: "string" },
      connections: { type: "string" },
      seconds: { type: "string" },
      payload: { type: "string" },
      pipeline: { type: "string" },
    },
  });
  const [action, ...rest] = positionals;
  const host = values.host ?? "127.0.0.1";
  const port = intOption("--port", values.port ?? io.env.SERVER_PORT ?? "8000", 1, 65535);
  const psk = await resolvePsk(values, io);
  const session = await connect({
    host,
    port,
    psk,
    pskId: values["psk-id"] ?? "",
    backend: io.backend,
  });
  try {
    switch (action) {
      case "ping": {
        for (let i = 0; i < 3; i++) io.print(`pong in ${(await session.ping()).toFixed(3)} ms`);
        return 0;
      }
      case "echo": {
        const reply = await session.request(0x20, new TextEncoder().encode(rest.join(" ")));
        io.print(new TextDecoder().decode(reply));
        return 0;
      }
      case "bench":
        await bench(session, {
          host,
          port,
          psk,
          pskId: values["psk-id"] ?? "",
          connections: intOption("--connections", values.connections ?? "16", 1, 1024),
          seconds: intOption("--seconds", values.seconds ?? "5", 1, 3600),
          payload: intOption("--payload", values.payload ?? "1024", 0, 65470),
          pipeline: intOption("--pipeline", values.pipeline ?? "1", 1, 1024),
        }, io);
        return 0;
      default:
        io.print(`Unknown client action "${action ?? ""}": use ping, echo <text> or bench`);
        return 2;
    }
  } finally {
    await session.close();
  }
}

function intOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError("CONFIG_INVALID", `${name} must be an integer in ${min}–${max}`);
  }
  return n;
}

async function resolvePsk(
  values: { psk?: string; "psk-file"?: string },
  io: ClientCommandEnv,
): Promise<Uint8Array> {
  const hex = values.psk ?? (values["psk-file"] ? undefined : io.env.PSK_SECRET);
  if (hex !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex.trim())) {
      throw new ConfigError(
        "CONFIG_INVALID",
        "--psk / PSK_SECRET must be 64 hex characters (32 bytes)",
      );
    }
    return io.parseKey(hex.trim());
  }
  const file = values["psk-file"] ?? DEFAULT_PSK_FILE;
  let text: string;
  try {
    text = await io.readFile(file);
  } catch {
    throw new ConfigError(
      "CONFIG_FILE_UNREADABLE",
      `Cannot read PSK file ${file}: pass --psk-file, --psk or set PSK_SECRET`,
    );
  }
  const t = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(t)) {
    throw new ConfigError("CONFIG_INVALID", `PSK file ${file} must hold 64 hex characters`);
  }
  return io.parseKey(t);
}

interface BenchOptions {
  host: string;
  port: number;
  psk: Uint8Array;
  pskId: string;
  connections: number;
  seconds: number;
  payload: number;
  pipeline: number;
}

async function bench(first: ClientSession, o: BenchOptions, io: ClientCommandEnv): Promise<void> {
  const sessions: ClientSession[] = [first];
  for (let i = 1; i < o.connections; i++) {
    sessions.push(
      await connect({
        host: o.host,
        port: o.port,
        psk: o.psk,
        pskId: o.pskId,
        backend: io.backend,
      }),
    );
  }
  const payload = new Uint8Array(o.payload);
  const latencies: number[] = [];
  const end = performance.now() + o.seconds * 1000;
  const worker = async (s: ClientSession) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await s.request(0x20, payload);
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(sessions.flatMap((s) => Array.from({ length: o.pipeline }, () => worker(s))));
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(sessions.slice(1).map((s) => s.close()));
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  io.print(
    `${latencies.length} requests in ${elapsed.toFixed(1)} s: ${
      (latencies.length / elapsed).toFixed(0)
    } req/s, ` +
      `p50 ${pct(0.5).toFixed(3)} ms, p99 ${pct(0.99).toFixed(3)} ms ` +
      `(${o.connections} connections × ${o.pipeline}, ${o.payload} B)`,
  );
}
