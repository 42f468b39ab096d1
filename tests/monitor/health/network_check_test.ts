import assert from "node:assert/strict";
import { networkCheck, parseNetworkTarget } from "../../../src/monitor/health/mod.ts";

const signal = () => new AbortController().signal;

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** A listener that accepts and closes every connection. */
function openPort(): { port: number; close(): Promise<void> } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const loop = (async () => {
    for await (const c of l) c.close();
  })().catch(() => {});
  return {
    port: (l.addr as Deno.NetAddr).port,
    close: async () => {
      l.close();
      await loop;
    },
  };
}

Deno.test("parseNetworkTarget reads host:port, [v6]:port and URLs", () => {
  assert.deepEqual(parseNetworkTarget("10.0.0.1:80"), {
    label: "10.0.0.1:80",
    hostname: "10.0.0.1",
    port: 80,
  });
  assert.deepEqual(parseNetworkTarget("[::1]:5432"), {
    label: "[::1]:5432",
    hostname: "::1",
    port: 5432,
  });
  assert.equal(parseNetworkTarget("https://example.com").port, 443);
  assert.equal(parseNetworkTarget("http://example.com:8080/x").port, 8080);
  assert.equal(parseNetworkTarget("postgres://u@db/x").port, 5432);
  for (const bad of ["example.com", "host:0", "host:70000", "ftp://x", ":80", "a b:1"]) {
    assert.throws(() => parseNetworkTarget(bad), TypeError, bad);
  }
});

Deno.test("networkCheck with no targets contacts nothing and is healthy", async () => {
  const check = networkCheck();
  assert.equal(check.name, "network");
  assert.deepEqual(await check.run(signal()), { status: "healthy", details: { targets: 0 } });
});

Deno.test("networkCheck is healthy with the connect latency of a listening port", async () => {
  const srv = openPort();
  try {
    const label = `127.0.0.1:${srv.port}`;
    const o = await networkCheck({ targets: [label] }).run(signal());
    assert.equal(o.status, "healthy", o.message);
    assert.equal(o.details?.targets, 1);
    assert.equal(o.details?.reachable, 1);
    const latency = o.details?.latencyMs as Record<string, number>;
    assert.equal(typeof latency[label], "number");
    assert.ok(latency[label] >= 0);
  } finally {
    await srv.close();
  }
});

Deno.test("networkCheck is unhealthy when every target is closed", async () => {
  const label = `127.0.0.1:${closedPort()}`;
  const o = await networkCheck({ targets: [label] }).run(signal());
  assert.equal(o.status, "unhealthy");
  assert.equal(o.message, "no network target reachable");
  assert.equal(o.details?.reachable, 0);
  assert.match((o.details?.failed as Record<string, string>)[label], /refused/i);
});

Deno.test("networkCheck is degraded when some targets fail", async () => {
  const srv = openPort();
  try {
    const o = await networkCheck({
      targets: [`127.0.0.1:${srv.port}`, `127.0.0.1:${closedPort()}`],
    }).run(signal());
    assert.equal(o.status, "degraded");
    assert.equal(o.message, "1 of 2 network targets unreachable");
    assert.equal(o.details?.reachable, 1);
  } finally {
    await srv.close();
  }
});

Deno.test("networkCheck is degraded when a connect is slower than degradedMs", async () => {
  const srv = openPort();
  try {
    const o = await networkCheck({ targets: [`127.0.0.1:${srv.port}`], degradedMs: 0 })
      .run(signal());
    assert.equal(o.status, "degraded");
    assert.match(o.message!, /^slow connect/);
  } finally {
    await srv.close();
  }
});

Deno.test("networkCheck stops connecting when the runner aborts", async () => {
  const srv = openPort();
  try {
    const c = new AbortController();
    c.abort(new Error("stop"));
    const o = await networkCheck({ targets: [`127.0.0.1:${srv.port}`] }).run(c.signal);
    assert.equal(o.status, "unhealthy");
  } finally {
    await srv.close();
  }
});

Deno.test("networkCheck rejects a malformed target when created", () => {
  assert.throws(() => networkCheck({ targets: ["no-port"] }), TypeError);
});
