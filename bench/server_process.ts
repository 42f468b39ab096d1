/**
 * The SomnyToo server under test, alone in its process: the default
 * configuration (`CONFIG_DEFAULTS`) serving Echo (0x20) on 127.0.0.1. Run
 * by `run.ts`:
 *
 *     deno run -A bench/server_process.ts --psk HEX [--backend auto|webcrypto|node|libcrypto]
 *       [--security on]
 *
 * Prints `{"port", "pid", "backend"}` as the first stdout line. stdin
 * commands, one per line: `gc` (needs `--v8-flags=--expose-gc`), `stats`
 * (the server's counters). EOF on stdin shuts the server down and exits,
 * which also writes a `--cpu-prof` profile when one was requested.
 *
 * Departure from the defaults: every connection comes from 127.0.0.1, so the
 * per-IP connection cap (256) is raised for the 1 000-session memory cell.
 *
 * `--security on` adds the security layer (issue #5) with every part
 * working: each frame goes through the anomaly detector and the AIMD
 * limiter. Because the whole load comes from one address at tens of
 * thousands of frames per second, the rate thresholds and the AIMD limits
 * are raised so that the load generator is measured, not banned; the cost
 * per frame is the same.
 *
 * @module
 */

import { CONFIG_DEFAULTS } from "../src/config/mod.ts";
import { type CryptoBackendPreference, selectCryptoBackend } from "../src/crypto/mod.ts";
import { createServer, registerEcho, SecurityLayer } from "../src/server/mod.ts";
import { fromHex } from "../src/util/mod.ts";
import { parseFlags, serveControl } from "./procs.ts";
import { benchSecurityOptions } from "./security_options.ts";

const flags = parseFlags(Deno.args);
const pskHex = flags.get("psk");
if (!pskHex) throw new Error("usage: server_process.ts --psk HEX [--backend NAME]");
const backend = selectCryptoBackend((flags.get("backend") ?? "auto") as CryptoBackendPreference);

const security = flags.get("security") === "on"
  ? new SecurityLayer(benchSecurityOptions())
  : undefined;
security?.start();

const server = createServer(
  {
    ...CONFIG_DEFAULTS.server,
    ...CONFIG_DEFAULTS.security,
    host: "127.0.0.1",
    port: 0,
    maxConnectionsPerIp: CONFIG_DEFAULTS.server.maxConnections,
  },
  { psks: new Map([["", fromHex(pskHex)]]), backend, security },
);
registerEcho(server.dispatcher);
const { port } = server.listen();

console.log(JSON.stringify({ port, pid: Deno.pid, backend: backend.name }));
await serveControl({
  stats: () => ({
    ...server.stats(),
    pipelines: server.sessions().filter((s) => s.hasPipeline).length,
  }),
});
await server.shutdown();
security?.close();
Deno.exit(0);
