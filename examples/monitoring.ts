/**
 * Monitoring your own handler: a custom health check and a custom metric
 * next to SomnyToo's own, served by the monitoring sub-app.
 *
 *     deno run -A examples/monitoring.ts
 *
 * It starts a server and its monitoring on free ports, sends a few
 * requests, prints what `/health/ready` and `/metrics` say about the custom
 * parts, and stops.
 *
 * @module
 */

import { Counter } from "prom-client";
import {
  CONFIG_DEFAULTS,
  connect,
  createMonitoringApp,
  createRequestMetrics,
  createServer,
  HealthMonitor,
  type SomnyServer,
  startMonitoringServer,
} from "../mod.ts";

const psk = crypto.getRandomValues(new Uint8Array(32));
const built: { server?: SomnyServer } = {};
// The server's frames and requests feed the metrics; the registry is ours to extend.
const metrics = createRequestMetrics({ server: () => built.server });
const server = built.server = createServer(
  { ...CONFIG_DEFAULTS.server, ...CONFIG_DEFAULTS.security, host: "127.0.0.1", port: 0 },
  { psks: new Map([["", psk]]), metrics: metrics.sink },
);

// A custom metric: reversed bytes, on the same registry as SomnyToo's own.
const reversedBytes = new Counter({
  name: "example_reversed_bytes_total",
  help: "Bytes reversed by the 0x30 handler.",
  registers: [metrics.prometheus.registry],
});
metrics.prometheus.registerType(0x30, "reverse");

// A handler with state worth watching: the work queue of a made-up service.
let backlog = 0;
server.dispatcher.register(0x30, ({ payload }) => {
  reversedBytes.inc(payload.length);
  return payload.slice().reverse();
});

// A custom health check: degraded when the backlog grows, unhealthy when it explodes.
const health = new HealthMonitor();
health.register({
  name: "reverse_backlog",
  probes: ["readiness"],
  ttlMs: 0,
  run: () => ({
    status: backlog < 10 ? "healthy" : backlog < 100 ? "degraded" : "unhealthy",
    details: { backlog },
    ...(backlog >= 10 ? { message: `${backlog} items waiting` } : {}),
  }),
});

const app = createMonitoringApp({
  health,
  metrics: metrics.prometheus,
  report: () => Promise.reject(new Error("not used in this example")),
});
const http = startMonitoringServer(app, { host: "127.0.0.1", port: 0 });
const { port } = server.listen();

const session = await connect({ port, psk });
for (const word of ["monitoring", "is", "fun"]) {
  const reply = await session.request(0x30, new TextEncoder().encode(word));
  console.log(`reversed: ${new TextDecoder().decode(reply)}`);
}

const base = `http://127.0.0.1:${http.port}`;
const ready = async () => (await (await fetch(`${base}/health/ready`)).json()).status;
console.log(`ready while the backlog is small: ${await ready()}`);
backlog = 42;
console.log(`ready with a backlog of 42: ${await ready()}`);

const text = await (await fetch(`${base}/metrics`)).text();
for (const line of text.split("\n")) {
  if (
    line.startsWith("example_reversed_bytes_total ") ||
    line.startsWith('somnytoo_request_duration_seconds_count{type="reverse"}')
  ) console.log(`metric: ${line}`);
}

await session.close();
await http.close();
await server.shutdown();
