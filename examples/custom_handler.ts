/**
 * Registering application handlers: priorities, timeouts, payload limits and
 * typed errors. Runs a server and a client in one process and prints replies.
 *
 *   deno run -A examples/custom_handler.ts
 */
import {
  CONFIG_DEFAULTS,
  connect,
  createServer,
  HandlerError,
  Priority,
  RemoteError,
  WireErrorCode,
} from "../mod.ts";

const UPPERCASE = 0x30;
const SLOW_REPORT = 0x31;

const psk = crypto.getRandomValues(new Uint8Array(32));
const server = createServer(
  { ...CONFIG_DEFAULTS.server, ...CONFIG_DEFAULTS.security, host: "127.0.0.1", port: 0 },
  { psks: new Map([["", psk]]) },
);

server.dispatcher
  // A High-priority handler with a 1 KiB payload limit (bigger requests get Error 7).
  .register(UPPERCASE, ({ payload }) => {
    const text = new TextDecoder("utf-8", { fatal: false }).decode(payload);
    if (text.length === 0) throw new HandlerError(WireErrorCode.MalformedRequest, "empty text");
    return new TextEncoder().encode(text.toUpperCase());
  }, { priority: Priority.High, maxPayloadBytes: 1024 })
  // A Low-priority async handler: shed first under overload, cancelled after 2 s.
  .register(SLOW_REPORT, async ({ signal, session }) => {
    await new Promise((r) => setTimeout(r, 50));
    signal.throwIfAborted();
    return new TextEncoder().encode(`report for session ${session.id.slice(0, 8)}…`);
  }, { priority: Priority.Low, timeoutMs: 2_000 });

const { port } = server.listen();
const session = await connect({ port, psk });
const dec = new TextDecoder();
console.log(dec.decode(await session.request(UPPERCASE, new TextEncoder().encode("hello"))));
console.log(dec.decode(await session.request(SLOW_REPORT, new Uint8Array(0))));
try {
  await session.request(UPPERCASE, new Uint8Array(0));
} catch (e) {
  if (e instanceof RemoteError) console.log(`Error ${e.wireCode}: ${e.message}`);
}
await session.close();
await server.shutdown();
