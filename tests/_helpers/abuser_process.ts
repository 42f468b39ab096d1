/**
 * An abusive client in its own process (so its CPU is not the good client's
 * event loop), speaking from a chosen loopback address:
 *
 *     deno run -A tests/_helpers/abuser_process.ts --port P --psk HEX \
 *       --local 127.0.0.2 --mode flood|connections|badhello --ms 4000 [--hold 5]
 *
 * - `flood`: one session, 64 small Echo requests in flight at all times.
 * - `connections`: opens and drops TCP connections as fast as it can (4 at a time),
 *   each dropped after `--hold` ms unless the server closed it first.
 * - `badhello`: full handshakes with a wrong key, one after another.
 *
 * With `--wait`, it first prints `{"ready":true}` (for `flood`: once its
 * session is up) and starts only when a line arrives on stdin, so that the
 * cost of starting a process is not part of what a test measures. Runs
 * until `--ms` elapse or the server stops accepting it, then prints one
 * JSON line of counts.
 *
 * @module
 */

import net from "node:net";
import { parseArgs } from "node:util";
import { connect, RemoteError } from "../../src/client/mod.ts";
import { fromHex } from "../../src/util/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    psk: { type: "string" },
    local: { type: "string" },
    mode: { type: "string" },
    ms: { type: "string" },
    hold: { type: "string" },
    wait: { type: "boolean" },
  },
});
const port = Number(values.port);
const localAddress = values.local!;
let end = Infinity;

/** With --wait: say "ready", then wait for the go line on stdin. */
async function readyThenGo(): Promise<void> {
  if (values.wait) {
    console.log(JSON.stringify({ ready: true }));
    const reader = Deno.stdin.readable.getReader();
    await reader.read();
    reader.releaseLock();
  }
  end = performance.now() + Number(values.ms ?? 4000);
}
/** `connections`: how long to wait for the server to close a connection. */
const holdMs = Number(values.hold ?? 5);
const counts = { ok: 0, rateLimited: 0, otherErrors: 0, sessionsEnded: 0, refused: 0, attempts: 0 };

async function flood(): Promise<void> {
  const open = () =>
    connect({
      port,
      psk: fromHex(values.psk!),
      localAddress,
      handshakeTimeoutMs: 2000,
      retries: 0, // an abuser ignores retry_after_ms
    });
  counts.attempts++;
  let first: Awaited<ReturnType<typeof open>> | undefined = await open();
  await readyThenGo();
  while (performance.now() < end) {
    let session = first;
    first = undefined;
    if (!session) {
      try {
        counts.attempts++;
        session = await open();
      } catch {
        counts.refused++;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
    }
    const s = session;
    let alive = true;
    const worker = async () => {
      while (alive && performance.now() < end) {
        try {
          await s.request(0x20, new Uint8Array(16));
          counts.ok++;
        } catch (e) {
          if (e instanceof RemoteError && e.wireCode === 3) counts.rateLimited++;
          else {
            counts.otherErrors++;
            alive = false;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    counts.sessionsEnded++;
    await s.close().catch(() => {});
  }
}

/** Open a TCP connection from `localAddress`; resolves when it closes or after `holdMs`. */
function tcpOnce(holdMs: number, hello?: Uint8Array): Promise<"closed" | "held"> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    const timer = setTimeout(() => {
      s.destroy();
      resolve("held");
    }, holdMs);
    s.on("connect", () => {
      if (hello) s.write(hello);
    });
    const done = () => {
      clearTimeout(timer);
      resolve("closed");
    };
    s.on("close", done);
    s.on("error", () => {});
  });
}

async function connections(): Promise<void> {
  // Four at a time, each dropped after 5 ms unless the server closes it
  // first (a refusal at accept closes before any byte is read).
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < end) {
      counts.attempts++;
      if (await tcpOnce(holdMs) === "closed") counts.refused++;
    }
  }));
}

async function badHello(): Promise<void> {
  while (performance.now() < end) {
    counts.attempts++;
    try {
      const s = await connect({
        port,
        psk: crypto.getRandomValues(new Uint8Array(32)), // the wrong key
        localAddress,
        handshakeTimeoutMs: 1000,
      });
      counts.ok++; // must not happen
      await s.close();
    } catch {
      counts.refused++;
    }
  }
}

switch (values.mode) {
  case "flood":
    await flood();
    break;
  case "connections":
    await readyThenGo();
    await connections();
    break;
  case "badhello":
    await readyThenGo();
    await badHello();
    break;
  default:
    throw new Error(`unknown --mode ${values.mode}`);
}
console.log(JSON.stringify(counts));
Deno.exit(0);
