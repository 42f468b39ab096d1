/**
 * EXPERIMENT, not a server to deploy: the Echo path of protocol v1 driven by
 * a plain read loop instead of the Web Streams pipeline, to measure what the
 * pipeline costs. Same protocol code as the real server (`FrameDecoder`,
 * `acceptClientHello`, `TransportReceiver`/`TransportSender`, the selected
 * crypto backend); none of its policy (no liveness, limits, scheduler,
 * GoAway handling beyond closing, Ping or Error replies).
 *
 * Per connection: one reused read buffer, every complete frame of a read
 * opened and answered at once, all replies of one read in one write.
 *
 *     deno task bench --server-script bench/experiments/direct_server_process.ts
 *
 * Same stdout/stdin contract as `../server_process.ts`.
 *
 * @module
 */

import { CONFIG_DEFAULTS } from "../../src/config/mod.ts";
import { type CryptoBackendPreference, selectCryptoBackend } from "../../src/crypto/mod.ts";
import {
  acceptClientHello,
  FrameDecoder,
  PacketType,
  ReplayCache,
  type SessionKeys,
} from "../../src/protocol/mod.ts";
import { fromHex } from "../../src/util/mod.ts";
import { parseFlags, serveControl } from "../procs.ts";

const flags = parseFlags(Deno.args);
const pskHex = flags.get("psk");
if (!pskHex) throw new Error("usage: direct_server_process.ts --psk HEX [--backend NAME]");
const psk = fromHex(pskHex);
const backend = selectCryptoBackend((flags.get("backend") ?? "auto") as CryptoBackendPreference);
const o = CONFIG_DEFAULTS.server;
const replayCache = new ReplayCache(o.replayCacheSize);
const READ_BUFFER = 4096;

async function writeAll(conn: Deno.Conn, parts: Uint8Array[]): Promise<void> {
  let out = parts[0];
  if (parts.length > 1) {
    out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
  }
  for (let at = 0; at < out.length;) at += await conn.write(out.subarray(at));
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const decoder = new FrameDecoder({ expect: "server" });
  const buf = new Uint8Array(READ_BUFFER);
  let keys: SessionKeys | undefined;
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      const out: Uint8Array[] = [];
      // Complete frames are views into `buf`: all are used before the next read.
      for (const frame of decoder.push(buf.subarray(0, n))) {
        if (!keys) {
          const accepted = await acceptClientHello(backend, frame, {
            lookupPsk: (id) => (id === "" ? psk : undefined),
            nowMs: Date.now(),
            clockSkewMs: o.clockSkewMs,
            replayCache,
            sessionId: crypto.getRandomValues(new Uint8Array(16)),
            heartbeatIntervalMs: o.heartbeatIntervalMs,
            idleTimeoutMs: o.idleTimeoutMs,
          });
          keys = accepted.keys;
          out.push(accepted.serverHello);
          continue;
        }
        const m = await keys.receiver.open(frame);
        if (m.type === PacketType.GoAway) return;
        if (m.type === PacketType.Echo) {
          out.push(await keys.sender.seal(m.type, m.requestId, m.payload));
        }
      }
      if (out.length > 0) await writeAll(conn, out);
    }
  } catch {
    // A refused hello or a bad frame: close silently, as the real server does.
  } finally {
    keys?.sender.destroy();
    keys?.receiver.destroy();
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
(async () => {
  for await (const conn of listener) serve(conn);
})();
const port = (listener.addr as Deno.NetAddr).port;
console.log(JSON.stringify({ port, pid: Deno.pid, backend: backend.name }));
await serveControl();
Deno.exit(0);
