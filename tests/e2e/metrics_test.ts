/**
 * The server reports to the monitor's Prometheus metrics: frames by type and
 * direction, request latency by type, errors by code, sessions and
 * handshakes — over a real session.
 */
import assert from "node:assert/strict";
import { SomnyMetrics } from "../../src/monitor/mod.ts";
import { connectClient, startTestServer } from "../_helpers/test_server.ts";

function value(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

Deno.test("metrics: a real session's frames, requests and errors reach /metrics", async () => {
  const built: { server?: ReturnType<typeof startTestServer> } = {};
  const metrics = new SomnyMetrics({
    defaultMetrics: false,
    serverStats: () => built.server!.server.stats(),
  });
  const server = built.server = startTestServer({ metrics });
  try {
    const c = await connectClient(server);
    for (let i = 0; i < 5; i++) await c.request(0x20, new Uint8Array(100));
    await assert.rejects(c.request(0x7e, new Uint8Array(1))); // unknown type → Error 1
    const text = await metrics.metrics();
    assert.equal(value(text, "somnytoo_frames_total", 'direction="in",type="echo"'), 5, text);
    assert.equal(value(text, "somnytoo_frames_total", 'direction="out",type="echo"'), 5);
    assert.equal(value(text, "somnytoo_frame_bytes_total", 'direction="in",type="echo"'), 500);
    assert.equal(
      value(text, "somnytoo_request_duration_seconds_count", 'type="echo"'),
      5,
      "five echo latencies observed",
    );
    assert.ok(value(text, "somnytoo_errors_total", "") >= 1, "the Error 1 is counted");
    assert.match(text, /^somnytoo_sessions 1$/m, "one session");
    await c.close();
  } finally {
    await server.close();
  }
});
