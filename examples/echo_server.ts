/**
 * A minimal server: Echo plus one custom handler, on a fixed key.
 *
 *   PSK_SECRET=$(deno task -q keygen | cut -d= -f2) deno run -A examples/echo_server.ts
 */
import { CONFIG_DEFAULTS, createLogger, createServer, registerEcho } from "../mod.ts";

const hex = Deno.env.get("PSK_SECRET");
if (!hex || !/^[0-9a-f]{64}$/i.test(hex)) {
  console.error("Set PSK_SECRET to 64 hex characters (deno task keygen makes one).");
  Deno.exit(2);
}
const psk = Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));

const server = createServer(
  { ...CONFIG_DEFAULTS.server, ...CONFIG_DEFAULTS.security, host: "127.0.0.1", port: 8000 },
  { psks: new Map([["", psk]]), logger: createLogger({ level: "info" }) },
);
registerEcho(server.dispatcher);
server.listen();
Deno.addSignalListener("SIGINT", () => server.shutdown());
await server.closed;
