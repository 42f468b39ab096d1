import assert from "node:assert/strict";
import { createLogger, ManualClock } from "../../../src/util/mod.ts";
import {
  AlertManager,
  createAlerting,
  WebhookNotifier,
  type WebhookPayload,
} from "../../../src/monitor/alerts/mod.ts";

interface Received {
  path: string;
  headers: Headers;
  body: WebhookPayload;
}

/** A real HTTP receiver on loopback; `respond` picks each status (default 200). */
function startReceiver(respond: (n: number) => number | Promise<number> = () => 200) {
  const received: Received[] = [];
  let n = 0;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (req) => {
      const body = await req.json();
      const url = new URL(req.url);
      received.push({ path: url.pathname + url.search, headers: req.headers, body });
      const status = await respond(n++);
      return new Response(status === 200 ? "ok" : "nope", { status });
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { server, base, received };
}

async function closedPortUrl(): Promise<string> {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await Promise.resolve();
  return `http://user:pa55@127.0.0.1:${port}/hooks/secret-path?token=secret-query`;
}

function recorder() {
  const delays: number[] = [];
  const sleep = (ms: number) => {
    delays.push(ms);
    return Promise.resolve();
  };
  return { delays, sleep };
}

function logCapture(clock: ManualClock) {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", clock, sink: (l) => lines.push(l) });
  return { lines, logger };
}

Deno.test("WebhookNotifier: a real receiver gets { event, alert } JSON for raised, escalated and resolved, in order", async () => {
  const { server, base, received } = startReceiver();
  const clock = new ManualClock(0);
  const manager = new AlertManager({ clock });
  const webhook = new WebhookNotifier({ url: `${base}/hook?x=1`, clock });
  const detach = webhook.attach(manager);
  try {
    const a = manager.raise({ key: "check:db", level: "warning", title: "db", message: "slow" });
    manager.raise({ key: "check:db", level: "warning", title: "db", message: "slow" }); // dedup
    manager.raise({ key: "check:db", level: "critical", title: "db", message: "down" });
    manager.acknowledge(a.id, "ann"); // not forwarded
    manager.resolve("check:db");
    await webhook.flush();
    assert.deepEqual(received.map((r) => r.body.event), ["raised", "escalated", "resolved"]);
    assert.equal(received[0].path, "/hook?x=1");
    assert.equal(received[0].headers.get("content-type"), "application/json");
    assert.equal(received[0].body.alert.id, a.id);
    assert.equal(received[0].body.alert.level, "warning");
    assert.equal(received[1].body.alert.level, "critical");
    assert.equal(received[2].body.alert.resolvedAtMs, 0);
    assert.deepEqual(webhook.stats, {
      delivered: 3,
      failed: 0,
      failedAttempts: 0,
      retries: 0,
      dropped: 0,
      queued: 0,
    });
    assert.equal(clock.pendingTimers, 0, "every timeout timer was cleared");
  } finally {
    detach();
    await webhook.close();
    await server.shutdown();
  }
});

Deno.test("WebhookNotifier: retries with backoff after the receiver returns 500, then delivers on 200", async () => {
  const { server, base, received } = startReceiver((n) => (n < 2 ? 500 : 200));
  const clock = new ManualClock(0);
  const { delays, sleep } = recorder();
  const webhook = new WebhookNotifier({ url: `${base}/h`, clock, sleep, backoffMs: 100 });
  try {
    const manager = new AlertManager({ clock });
    webhook.attach(manager);
    manager.raise({ key: "k", level: "error", title: "t", message: "m" });
    await webhook.flush();
    assert.equal(received.length, 3);
    assert.deepEqual(delays, [100, 200]);
    assert.equal(webhook.stats.delivered, 1);
    assert.equal(webhook.stats.retries, 2);
    assert.equal(webhook.stats.failedAttempts, 2);
    assert.equal(webhook.stats.failed, 0);
  } finally {
    await webhook.close();
    await server.shutdown();
  }
});

Deno.test("WebhookNotifier: a 4xx other than 408/429 is not retried", async () => {
  const { server, base, received } = startReceiver(() => 400);
  const { delays, sleep } = recorder();
  const webhook = new WebhookNotifier({ url: base, clock: new ManualClock(0), sleep });
  try {
    const manager = new AlertManager({ clock: new ManualClock(0) });
    webhook.attach(manager);
    manager.raise({ key: "k", level: "error", title: "t", message: "m" });
    await webhook.flush();
    assert.equal(received.length, 1);
    assert.deepEqual(delays, []);
    assert.equal(webhook.stats.failed, 1);
  } finally {
    await webhook.close();
    await server.shutdown();
  }
});

Deno.test("WebhookNotifier: a closed port never throws, counts failures, and logs only the origin", async () => {
  const url = await closedPortUrl();
  const clock = new ManualClock(0);
  const { lines, logger } = logCapture(clock);
  const { delays, sleep } = recorder();
  const webhook = new WebhookNotifier({
    url,
    clock,
    sleep,
    logger,
    maxRetries: 4,
    backoffMs: 500,
    maxBackoffMs: 3000,
  });
  const manager = new AlertManager({ clock, logger });
  webhook.attach(manager);
  manager.raise({ key: "a", level: "error", title: "A", message: "m" });
  manager.raise({ key: "b", level: "error", title: "B", message: "m" });
  await webhook.flush();
  assert.equal(webhook.stats.failed, 2);
  assert.equal(webhook.stats.failedAttempts, 10);
  assert.equal(webhook.stats.delivered, 0);
  assert.deepEqual(delays, [500, 1000, 2000, 3000, 500, 1000, 2000, 3000]);
  const origin = new URL(url).origin;
  assert.equal(webhook.origin, origin);
  const out = lines.join("\n");
  const failures = lines.map((l) => JSON.parse(l)).filter((r) =>
    r.msg === "alert webhook delivery failed"
  );
  assert.equal(failures.length, 2);
  assert.equal(failures[0].webhook, origin);
  assert.equal(failures[0].reason, "network error");
  for (const secret of ["secret-path", "secret-query", "pa55", "user:"]) {
    assert.ok(!out.includes(secret), `log leaks ${secret}`);
  }
  await webhook.close();
});

Deno.test("WebhookNotifier: the queue is bounded, drops the oldest, and counts drops", async () => {
  const { server, base, received } = startReceiver();
  const clock = new ManualClock(0);
  const webhook = new WebhookNotifier({ url: base, clock, maxQueue: 2 });
  try {
    const manager = new AlertManager({ clock });
    webhook.attach(manager);
    for (const key of ["a", "b", "c", "d", "e"]) {
      manager.raise({ key, level: "info", title: key, message: "" });
    }
    assert.equal(webhook.stats.queued, 2);
    assert.equal(webhook.stats.dropped, 3);
    await webhook.flush();
    assert.deepEqual(received.map((r) => r.body.alert.key), ["d", "e"]);
    assert.equal(webhook.stats.delivered, 2);
  } finally {
    await webhook.close();
    await server.shutdown();
  }
});

Deno.test("WebhookNotifier: an attempt that outlives timeoutMs is aborted on the injected clock", async () => {
  let arrived!: () => void;
  const arrival = new Promise<void>((r) => arrived = r);
  let release!: () => void;
  const held = new Promise<number>((r) => release = () => r(200));
  const { server, base } = startReceiver(() => {
    arrived();
    return held;
  });
  const clock = new ManualClock(0);
  const { lines, logger } = logCapture(clock);
  const webhook = new WebhookNotifier({ url: base, clock, logger, timeoutMs: 2000, maxRetries: 0 });
  try {
    webhook.notify({ event: "raised", alert: sampleAlert() });
    await arrival;
    clock.advance(1999);
    assert.equal(webhook.stats.failed, 0);
    clock.advance(1);
    await webhook.flush();
    assert.equal(webhook.stats.failed, 1);
    assert.ok(lines.some((l) => JSON.parse(l).reason === "timeout"));
  } finally {
    release();
    await webhook.close();
    await server.shutdown();
  }
});

Deno.test("WebhookNotifier: URL credentials become a Basic authorization header", async () => {
  const { server, base, received } = startReceiver();
  const url = base.replace("http://", "http://hook%40user:s3cr%3At@") + "/p";
  const webhook = new WebhookNotifier({ url, clock: new ManualClock(0) });
  try {
    webhook.notify({ event: "resolved", alert: sampleAlert() });
    await webhook.flush();
    assert.equal(received.length, 1);
    assert.equal(received[0].headers.get("authorization"), "Basic " + btoa("hook@user:s3cr:t"));
    assert.equal(webhook.origin, base);
  } finally {
    await webhook.close();
    await server.shutdown();
  }
});

Deno.test("WebhookNotifier: close aborts the backoff, drops what is queued, refuses later events", async () => {
  const url = await closedPortUrl();
  const clock = new ManualClock(0);
  // Default sleep: on the manual clock, so the backoff waits until close() aborts it.
  const webhook = new WebhookNotifier({ url, clock, maxQueue: 10 });
  webhook.notify({ event: "raised", alert: sampleAlert() });
  webhook.notify({ event: "raised", alert: sampleAlert("a-2") });
  for (let i = 0; i < 50 && clock.pendingTimers === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(clock.pendingTimers, 1, "waiting in backoff");
  await webhook.close();
  webhook.notify({ event: "raised", alert: sampleAlert("a-3") });
  assert.equal(webhook.stats.dropped, 3);
  assert.equal(webhook.stats.delivered, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("WebhookNotifier: rejects bad URLs without echoing them; createAlerting wires one when configured", async () => {
  for (const url of ["not a url token=abc", "ftp://h/token=abc"]) {
    assert.throws(
      () => new WebhookNotifier({ url }),
      (e: Error) => e instanceof TypeError && !e.message.includes("abc"),
    );
  }
  assert.throws(() => new WebhookNotifier({ url: "http://h", maxQueue: 0 }), RangeError);
  const { server, base, received } = startReceiver();
  const alerting = createAlerting(
    { alertWebhookUrl: base, retentionDays: 7, maxAlerts: 10 },
    { clock: new ManualClock(0) },
  );
  try {
    alerting.manager.raise({ key: "k", level: "info", title: "t", message: "m" });
    await alerting.webhook!.flush();
    assert.equal(received.length, 1);
  } finally {
    await alerting.close();
    await server.shutdown();
  }
});

function sampleAlert(id = "a-1") {
  return {
    id,
    key: "check:x",
    level: "error" as const,
    title: "x",
    message: "m",
    raisedAtMs: 0,
    lastSeenAtMs: 0,
    occurrences: 1,
    resolvedAtMs: null,
    acknowledgedAtMs: null,
    acknowledgedBy: null,
  };
}
