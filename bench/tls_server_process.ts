/**
 * The baseline server: Echo over Deno's TLS 1.3 (`Deno.listenTls`, rustls)
 * with the plain framing of `framing.ts`. Run by `run.ts`:
 *
 *     deno run -A bench/tls_server_process.ts --cert CERT.pem --key KEY.pem
 *
 * Prints `{"port", "pid"}` as the first stdout line. stdin commands, one per
 * line: `gc` (collect garbage, needs `--v8-flags=--expose-gc`; answers
 * `{"gc": true|false}`), `nodelay` (answers whether every accepted socket has
 * TCP_NODELAY). EOF on stdin ends the process.
 *
 * @module
 */

import { CoalescingWriter, encodePlainFrame, FrameReader } from "./framing.ts";
import { acceptedNoDelay, setListenerNoDelay } from "./nodelay.ts";
import { parseFlags, serveControl } from "./procs.ts";

const flags = parseFlags(Deno.args);
const certFile = flags.get("cert"), keyFile = flags.get("key");
if (!certFile || !keyFile) throw new Error("usage: tls_server_process.ts --cert FILE --key FILE");

const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile),
});
const port = (listener.addr as Deno.NetAddr).port;
// Deno.TlsConn has no setNoDelay: set it on the listening socket; accepted sockets inherit it.
setListenerNoDelay(port);

async function serve(conn: Deno.TlsConn): Promise<void> {
  const reader = new FrameReader(conn);
  const writer = new CoalescingWriter(conn);
  try {
    for (;;) {
      const frames = await reader.next();
      if (frames === null || writer.error) break;
      // Echo: same type, same request id, same payload (copied out of the read buffer).
      for (const f of frames) writer.write(encodePlainFrame(f.type, f.requestId, f.payload));
    }
  } catch {
    // A reset or a malformed frame ends this connection only.
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

(async () => {
  for await (const conn of listener) serve(conn);
})();

console.log(JSON.stringify({ port, pid: Deno.pid }));
await serveControl({ nodelay: () => acceptedNoDelay(port) });
Deno.exit(0);
