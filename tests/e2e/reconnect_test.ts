/**
 * Reconnecting client over real loopback TCP: server A goes away (GoAway 2),
 * server B comes up on the same port, and the next request succeeds on a new
 * connection.
 */
import assert from "node:assert/strict";
import { SessionError } from "../../src/errors.ts";
import {
  connect,
  type ConnectOptions,
  openConnection,
  ReconnectingClient,
} from "../../src/client/mod.ts";
import type { SessionOptions } from "../../src/client/client.ts";
import {
  bytes,
  defaultBackend,
  pollUntil,
  randomPsk,
  startTestServer,
  text,
} from "../_helpers/test_server.ts";

Deno.test("reconnect: after server A shuts down, the next request succeeds on server B on the same port", async () => {
  const psk = randomPsk();
  const psks = new Map([["", psk]]);
  const a = startTestServer({ psks });
  let b: ReturnType<typeof startTestServer> | undefined;
  try {
    const goAways: number[] = [];
    const s = await connect({
      port: a.port,
      psk,
      backend: defaultBackend,
      reconnect: { baseDelayMs: 10 },
      onGoAway: (r) => goAways.push(r),
    }) as ReconnectingClient<SessionOptions>;
    assert.equal(text(await s.request(0x20, bytes("on A"))), "on A");
    const firstId = s.details!.sessionId;
    assert.equal(s.connections, 1);

    await a.close();
    await pollUntil(() => goAways.length === 1, "GoAway from A");
    assert.deepEqual(goAways, [2]);
    b = startTestServer({ psks, port: a.port });
    assert.equal(b.port, a.port);

    assert.equal(text(await s.request(0x20, bytes("on B"))), "on B");
    assert.equal(s.connections, 2);
    assert.notEqual(s.details!.sessionId, firstId, "a new session");
    assert.equal(b.server.stats().handshakes.ok, 1);
    assert.equal(a.server.stats().requests, 1);
    assert.equal(b.server.stats().requests, 1);
    await s.close();
    assert.equal((await s.closed).cause, "local");
  } finally {
    await a.close();
    await b?.close();
  }
});

Deno.test("reconnect: a request made while no server is up waits with backoff until one appears", async () => {
  const psk = randomPsk();
  const psks = new Map([["", psk]]);
  const a = startTestServer({ psks });
  let b: ReturnType<typeof startTestServer> | undefined;
  try {
    let attempts = 0;
    let goAway = false;
    const options: ConnectOptions = {
      port: a.port,
      psk,
      backend: defaultBackend,
      onGoAway: () => (goAway = true),
    };
    const s = new ReconnectingClient(
      options,
      { baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 200 },
      (o: ConnectOptions) => {
        attempts++;
        return openConnection(o);
      },
    );
    await s.ready;
    await s.request(0x20, bytes("warm"));
    await a.close();
    await pollUntil(() => goAway, "GoAway seen by the client");
    // Nothing listens now: the request keeps trying to connect...
    const pending = s.request(0x20, bytes("eventually"));
    await pollUntil(() => attempts >= 4, "a few failed attempts");
    b = startTestServer({ psks, port: a.port });
    // ...and goes through once server B is up.
    assert.equal(text(await pending), "eventually");
    assert.equal(s.connections, 2);
    await s.close();
  } finally {
    await a.close();
    await b?.close();
  }
});

Deno.test("reconnect: a wrong key after the restart gives up after maxAttempts", async () => {
  const a = startTestServer();
  let b: ReturnType<typeof startTestServer> | undefined;
  try {
    let goAway = false;
    const s = await connect({
      port: a.port,
      psk: a.psk,
      backend: defaultBackend,
      reconnect: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 },
      onGoAway: () => (goAway = true),
    });
    await s.request(0x20, bytes("x"));
    await a.close();
    await pollUntil(() => goAway, "GoAway seen by the client");
    b = startTestServer({ port: a.port }); // a different random key
    await assert.rejects(
      s.request(0x20, bytes("y")),
      (e: unknown) =>
        e instanceof SessionError && /Reconnect failed after 3 attempts/.test(e.message),
    );
    assert.equal((await s.closed).cause, "error");
    await b.close();
    assert.ok((b.server.stats().handshakes.decrypt ?? 0) >= 3);
  } finally {
    await a.close();
    await b?.close();
  }
});
