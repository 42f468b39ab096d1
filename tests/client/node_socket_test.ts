/**
 * `connect({ localAddress })`: sessions over `node:net` bound to a chosen
 * loopback source address, end to end against a real server.
 */
import assert from "node:assert/strict";
import { SessionError } from "../../src/errors.ts";
import { connectClient, pollUntil, startTestServer } from "../_helpers/test_server.ts";

Deno.test("localAddress: echo works, and the server sees the bound source address", async () => {
  // One connection per address: a second one from 127.0.0.2 is refused at
  // accept, one from 127.0.0.3 is not, so the server saw the bound addresses.
  const ts = startTestServer({ maxConnectionsPerIp: 1 });
  try {
    const a = await connectClient(ts, { localAddress: "127.0.0.2" });
    const payload = crypto.getRandomValues(new Uint8Array(1000));
    assert.deepEqual(await a.request(0x20, payload), payload);
    await assert.rejects(connectClient(ts, { localAddress: "127.0.0.2" }), SessionError);
    const b = await connectClient(ts, { localAddress: "127.0.0.3" });
    assert.deepEqual(await b.request(0x20, payload), payload);
    await a.close();
    await b.close();
  } finally {
    await ts.close();
  }
});

Deno.test("localAddress: large and many pipelined replies arrive whole and in order", async () => {
  const ts = startTestServer();
  try {
    const c = await connectClient(ts, { localAddress: "127.0.0.2" });
    // 64 × 60 KB in flight at once: well past the socket's 256 KiB read high-water mark.
    const payloads = Array.from({ length: 64 }, (_, i) => new Uint8Array(60_000).fill(i));
    const replies = await Promise.all(payloads.map((p) => c.request(0x20, p)));
    replies.forEach((r, i) => assert.deepEqual(r, payloads[i]));
    await c.close();
  } finally {
    await ts.close();
  }
});

Deno.test("localAddress: the server closing the connection ends the session", async () => {
  const ts = startTestServer();
  const c = await connectClient(ts, { localAddress: "127.0.0.2" });
  await ts.close();
  await pollUntil(async () => {
    try {
      await c.request(0x20, new Uint8Array(1));
      return false;
    } catch (e) {
      return e instanceof SessionError;
    }
  }, "the session to fail after shutdown");
});

Deno.test("localAddress: nobody listening → SessionError, not a crash", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const ts = { port, psk: new Uint8Array(32) };
  await assert.rejects(
    connectClient(ts as Parameters<typeof connectClient>[0], { localAddress: "127.0.0.2" }),
    SessionError,
  );
});
