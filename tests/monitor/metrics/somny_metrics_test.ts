import assert from "node:assert/strict";
import {
  DB_DURATION_BUCKETS_MS,
  type MetricsDatabaseStats,
  type MetricsSecurityStats,
  type MetricsServerStats,
  REQUEST_BUCKETS_SECONDS,
  SomnyMetrics,
} from "../../../src/monitor/metrics/mod.ts";
import type { DatabaseStats } from "../../../src/db/mod.ts";
import { type SecurityLayerStats, ServerStats } from "../../../src/server/mod.ts";
import { PacketType } from "../../../src/protocol/mod.ts";
import type { CheckResult } from "../../../src/monitor/types.ts";

/** Samples of `name` as "labels → value" (labels text as printed). */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = line.match(/^([a-z_:]+)(\{[^}]*\})? (\S+)$/);
    if (m && m[1] === name) out.set(m[2] ?? "", Number(m[3]));
  }
  return out;
}

function labelValues(text: string, label: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(new RegExp(`${label}="([^"]*)"`, "g"))) out.add(m[1]);
  return out;
}

Deno.test("the snapshot shapes of the server, security layer and database fit the metrics' sources", () => {
  const server: MetricsServerStats = new ServerStats().snapshot();
  const fromSecurity = (s: SecurityLayerStats): MetricsSecurityStats => s;
  const fromDatabase = (s: DatabaseStats): MetricsDatabaseStats => s;
  assert.deepStrictEqual(server.connectionsActive, 0);
  assert.equal(typeof fromSecurity, "function");
  assert.equal(typeof fromDatabase, "function");
});

Deno.test("SomnyMetrics uses its own registry, not prom-client's global one", async () => {
  const a = new SomnyMetrics({ defaultMetrics: false });
  const b = new SomnyMetrics({ defaultMetrics: false });
  a.frame("in", PacketType.Echo, 10);
  assert((await a.metrics()).includes('somnytoo_frames_total{direction="in",type="echo"} 1'));
  assert((await b.metrics()).includes('somnytoo_frames_total{direction="in",type="echo"} 0'));
  assert.deepStrictEqual(a.contentType, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("unknown and unregistered packet types are counted as other, so the type label set is fixed", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false });
  const before = labelValues(await m.metrics(), "type");
  for (let t = -5; t < 400; t++) {
    m.frame("in", t, 1);
    m.frame("out", t, 2);
    m.request(t, 0.001);
  }
  m.frame("in", 0.5, 1);
  m.frame("in", NaN, 1);
  const text = await m.metrics();
  assert.deepStrictEqual(labelValues(text, "type"), before);
  const frames = samples(text, "somnytoo_frames_total");
  // 0x30–0x7F and everything outside the byte range are "other"
  assert(frames.get('{direction="in",type="other"}')! > 300);
  assert.deepStrictEqual(frames.get('{direction="in",type="echo"}'), 1);
  assert.deepStrictEqual(frames.get('{direction="in",type="kv_list"}'), 1);
  assert.deepStrictEqual(frames.get('{direction="out",type="go_away"}'), 1);
  const bytes = samples(text, "somnytoo_frame_bytes_total");
  assert.deepStrictEqual(bytes.get('{direction="out",type="ping"}'), 2);
  // request latency: control types are never request types
  const counts = samples(text, "somnytoo_request_duration_seconds_count");
  assert.deepStrictEqual([...counts.keys()].sort(), [
    '{type="echo"}',
    '{type="kv_delete"}',
    '{type="kv_get"}',
    '{type="kv_list"}',
    '{type="kv_put"}',
    '{type="other"}',
  ]);
  assert.deepStrictEqual(counts.get('{type="echo"}'), 1);
});

Deno.test("registered handler types get their name or hex label; bad registrations throw", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false, requestTypes: { 0x40: "search" } });
  m.registerType(0x30);
  m.frame("in", 0x30, 5);
  m.request(0x30, 0.01);
  m.request(0x40, 0.01);
  const text = await m.metrics();
  assert(text.includes('somnytoo_frames_total{direction="in",type="0x30"} 1'));
  assert(text.includes('somnytoo_request_duration_seconds_count{type="0x30"} 1'));
  assert(text.includes('somnytoo_request_duration_seconds_count{type="search"} 1'));
  assert.throws(() => m.registerType(0x10, "x"), RangeError);
  assert.throws(() => m.registerType(0x80), RangeError);
  assert.throws(() => m.registerType(0x31, "Bad Name"), TypeError);
  assert.throws(() => m.registerType(0x31, "203.0.113.9"), TypeError);
  assert.deepStrictEqual(m.typeLabel(0x01), "ping");
  assert.deepStrictEqual(m.typeLabel(0x31), "other");
});

Deno.test("frames counted before a type is registered stay under other", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false });
  m.frame("in", 0x50, 1);
  m.registerType(0x50, "later");
  m.frame("in", 0x50, 1);
  const frames = samples(await m.metrics(), "somnytoo_frames_total");
  assert.deepStrictEqual(frames.get('{direction="in",type="other"}'), 1);
  assert.deepStrictEqual(frames.get('{direction="in",type="later"}'), 1);
});

Deno.test("no label value is ever an address: handshakes, errors and decisions come from fixed sets", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false });
  m.handshake("192.0.2.1");
  m.handshake("ok");
  m.error(3);
  m.error(250);
  m.error(99999);
  m.decision("Accept");
  m.decision("2001:db8::1");
  const text = await m.metrics();
  assert(!/\d+\.\d+\.\d+\.\d+|::/.test(text.split("\n").filter((l) => !l.startsWith("#")).join()));
  const hs = samples(text, "somnytoo_handshakes_total");
  assert.deepStrictEqual(hs.get('{result="ok"}'), 1);
  assert.deepStrictEqual(hs.get('{result="other"}'), 1);
  const errors = samples(text, "somnytoo_errors_total");
  assert.deepStrictEqual(errors.get('{code="rate_limited"}'), 1);
  assert.deepStrictEqual(errors.get('{code="other"}'), 2);
  assert.deepStrictEqual(errors.size, 8);
  const decisions = samples(text, "somnytoo_security_decisions_total");
  assert.deepStrictEqual(decisions.get('{decision="accept"}'), 1);
  assert.deepStrictEqual(decisions.get('{decision="other"}'), 1);
  for (const v of labelValues(text, "result")) assert.match(v, /^[a-z_]+$/);
});

Deno.test("counters fed from snapshots are monotonic across a reset of their source", async () => {
  let server = new ServerStats();
  let cache = { hits: 0, misses: 0 };
  let security = { refusedAtAccept: 0, rateLimited: 0, queryThrottled: 0 };
  const m = new SomnyMetrics({
    defaultMetrics: false,
    serverStats: () => server.snapshot(),
    securityStats: () => security,
    databaseStats: () => ({
      pool: { max: 1, inUse: 0, idle: 1, waiting: 0 },
      cache,
      queries: { queries: [] },
    }),
  });
  server.handshake("ok");
  server.handshake("ok");
  server.errorSent(5);
  server.shed = 3;
  cache = { hits: 10, misses: 4 };
  security = { refusedAtAccept: 2, rateLimited: 6, queryThrottled: 1 };
  let text = await m.metrics();
  assert.deepStrictEqual(samples(text, "somnytoo_handshakes_total").get('{result="ok"}'), 2);
  assert.deepStrictEqual(samples(text, "somnytoo_requests_shed_total").get(""), 3);
  assert.deepStrictEqual(samples(text, "somnytoo_db_cache_hits_total").get(""), 10);
  // a second scrape with nothing new adds nothing
  text = await m.metrics();
  assert.deepStrictEqual(samples(text, "somnytoo_handshakes_total").get('{result="ok"}'), 2);
  assert.deepStrictEqual(samples(text, "somnytoo_db_cache_hits_total").get(""), 10);
  // the sources restart from zero (a new server, a new database)
  server = new ServerStats();
  server.handshake("ok");
  server.errorSent(5);
  server.shed = 1;
  cache = { hits: 3, misses: 0 };
  security = { refusedAtAccept: 0, rateLimited: 1, queryThrottled: 0 };
  text = await m.metrics();
  assert.deepStrictEqual(samples(text, "somnytoo_handshakes_total").get('{result="ok"}'), 3);
  assert.deepStrictEqual(samples(text, "somnytoo_errors_total").get('{code="overloaded"}'), 2);
  assert.deepStrictEqual(samples(text, "somnytoo_requests_shed_total").get(""), 4);
  assert.deepStrictEqual(samples(text, "somnytoo_db_cache_hits_total").get(""), 13);
  assert.deepStrictEqual(samples(text, "somnytoo_db_cache_misses_total").get(""), 4);
  const d = samples(text, "somnytoo_security_decisions_total");
  assert.deepStrictEqual(d.get('{decision="request_rate_limited"}'), 7);
  assert.deepStrictEqual(d.get('{decision="connection_refused"}'), 2);
  // then grows again from the new base
  server.handshake("ok");
  text = await m.metrics();
  assert.deepStrictEqual(samples(text, "somnytoo_handshakes_total").get('{result="ok"}'), 4);
});

Deno.test("with a serverStats source the handshake, error and shed hooks do not double count", async () => {
  const stats = new ServerStats();
  const m = new SomnyMetrics({ defaultMetrics: false, serverStats: () => stats.snapshot() });
  stats.handshake("ok");
  m.handshake("ok");
  stats.errorSent(4);
  m.error(4);
  m.request(0x20, 0.001, 4);
  stats.shed++;
  m.shed();
  const text = await m.metrics();
  assert.deepStrictEqual(samples(text, "somnytoo_handshakes_total").get('{result="ok"}'), 1);
  assert.deepStrictEqual(samples(text, "somnytoo_errors_total").get('{code="handler_failed"}'), 1);
  assert.deepStrictEqual(samples(text, "somnytoo_requests_shed_total").get(""), 1);
  assert.deepStrictEqual(
    samples(text, "somnytoo_request_duration_seconds_count").get('{type="echo"}'),
    1,
  );
});

Deno.test("without a serverStats source the hooks count handshakes, errors and shed requests", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false });
  m.handshake("replay");
  m.request(0x21, 0.003, 3);
  m.shed();
  m.shed();
  const text = await m.metrics();
  assert.deepStrictEqual(samples(text, "somnytoo_handshakes_total").get('{result="replay"}'), 1);
  assert.deepStrictEqual(samples(text, "somnytoo_errors_total").get('{code="rate_limited"}'), 1);
  assert.deepStrictEqual(samples(text, "somnytoo_requests_shed_total").get(""), 2);
});

Deno.test("the database histogram adds snapshot deltas by operation and survives a reset", async () => {
  const zero = () => new Array(DB_DURATION_BUCKETS_MS.length + 1).fill(0);
  let counts = zero();
  counts[0] = 2; // ≤ 0.5 ms
  counts[5] = 1; // ≤ 25 ms
  let sumMs = 20.5;
  let count = 3;
  const m = new SomnyMetrics({
    defaultMetrics: false,
    databaseStats: () => ({
      pool: { max: 4, inUse: 1, idle: 3, waiting: 0 },
      cache: { hits: 0, misses: 0 },
      queries: {
        queries: [
          { operation: "select", table: "a", duration: { counts, sumMs, count } },
          { operation: "select", table: "b", duration: { counts, sumMs, count } },
          { operation: "vacuum", table: "", duration: { counts: [1], sumMs: 1, count: 1 } },
        ],
      },
    }),
  });
  let text = await m.metrics();
  let b = samples(text, "somnytoo_db_query_duration_seconds_bucket");
  assert.deepStrictEqual(b.get('{le="0.0005",operation="select"}'), 4);
  assert.deepStrictEqual(b.get('{le="0.025",operation="select"}'), 6);
  assert.deepStrictEqual(b.get('{le="+Inf",operation="select"}'), 6);
  assert.deepStrictEqual(
    samples(text, "somnytoo_db_query_duration_seconds_sum").get('{operation="select"}'),
    0.041,
  );
  assert.deepStrictEqual(
    samples(text, "somnytoo_db_query_duration_seconds_count").get('{operation="insert"}'),
    0,
  );
  // reset: a new Database with one new statement
  counts = zero();
  counts[1] = 1;
  sumMs = 1;
  count = 1;
  text = await m.metrics();
  b = samples(text, "somnytoo_db_query_duration_seconds_bucket");
  assert.deepStrictEqual(b.get('{le="0.0005",operation="select"}'), 4);
  assert.deepStrictEqual(b.get('{le="0.001",operation="select"}'), 6);
  assert.deepStrictEqual(b.get('{le="+Inf",operation="select"}'), 8);
  const pool = samples(text, "somnytoo_db_pool_connections");
  assert.deepStrictEqual(pool.get('{state="in_use"}'), 1);
  assert.deepStrictEqual(pool.get('{state="idle"}'), 3);
  assert.deepStrictEqual(pool.get('{state="waiting"}'), 0);
  assert.deepStrictEqual(samples(text, "somnytoo_db_pool_max_connections").get(""), 4);
});

Deno.test("histogram buckets are in seconds, increasing, from sub-millisecond to seconds", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false });
  m.request(0x20, 0.0007);
  m.request(0x20, 3);
  const text = await m.metrics();
  const b = samples(text, "somnytoo_request_duration_seconds_bucket");
  assert.deepStrictEqual(b.get('{le="0.0005",type="echo"}'), 0);
  assert.deepStrictEqual(b.get('{le="0.001",type="echo"}'), 1);
  assert.deepStrictEqual(b.get('{le="5",type="echo"}'), 2);
  for (const bounds of [REQUEST_BUCKETS_SECONDS, DB_DURATION_BUCKETS_MS.map((x) => x / 1000)]) {
    assert(bounds[0] <= 0.001 && bounds.at(-1)! >= 5);
    for (let i = 1; i < bounds.length; i++) assert(bounds[i] > bounds[i - 1]);
  }
  assert.deepStrictEqual(
    samples(text, "somnytoo_request_duration_seconds_sum").get('{type="echo"}'),
    3.0007,
  );
  assert.throws(
    () => new SomnyMetrics({ defaultMetrics: false, requestBucketsSeconds: [1, 1] }),
    RangeError,
  );
});

Deno.test("health gauge: 1 healthy, 0.5 degraded, 0 unhealthy; vanished checks are dropped; names bounded", async () => {
  let results: CheckResult[] = [
    { name: "database", status: "healthy", latencyMs: 1, checkedAtMs: 0 },
    { name: "memory", status: "degraded", latencyMs: 1, checkedAtMs: 0 },
    { name: "event_loop", status: "unhealthy", latencyMs: 1, checkedAtMs: 0 },
  ];
  const m = new SomnyMetrics({
    defaultMetrics: false,
    healthResults: () => results,
    maxHealthChecks: 3,
  });
  let h = samples(await m.metrics(), "somnytoo_health_status");
  assert.deepStrictEqual(h.get('{check="database"}'), 1);
  assert.deepStrictEqual(h.get('{check="memory"}'), 0.5);
  assert.deepStrictEqual(h.get('{check="event_loop"}'), 0);
  results = [
    { name: "database", status: "unhealthy", latencyMs: 1, checkedAtMs: 0 },
    { name: "fourth", status: "healthy", latencyMs: 1, checkedAtMs: 0 },
  ];
  h = samples(await m.metrics(), "somnytoo_health_status");
  assert.deepStrictEqual(h, new Map([['{check="database"}', 0]]));
});

Deno.test("active bans come from the security stats when reported, else from setActiveBans", async () => {
  const m = new SomnyMetrics({ defaultMetrics: false });
  m.setActiveBans(4);
  assert.deepStrictEqual(samples(await m.metrics(), "somnytoo_security_active_bans").get(""), 4);
  const n = new SomnyMetrics({
    defaultMetrics: false,
    securityStats: () => ({ refusedAtAccept: 0, rateLimited: 0, queryThrottled: 0, activeBans: 2 }),
  });
  n.setActiveBans(9);
  assert.deepStrictEqual(samples(await n.metrics(), "somnytoo_security_active_bans").get(""), 2);
});

Deno.test({
  name: "default process metrics are prefixed and the three _total gauges are dropped",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const m = new SomnyMetrics();
    const text = await m.metrics();
    assert(text.includes("# TYPE somnytoo_process_cpu_seconds_total counter"));
    assert(text.includes("# TYPE somnytoo_process_start_time_seconds gauge"));
    assert(!text.includes("somnytoo_nodejs_active_handles_total"));
    assert(!text.includes("somnytoo_nodejs_active_requests_total"));
    assert(!text.includes("somnytoo_nodejs_active_resources_total"));
    for (const line of text.split("\n")) {
      const m = line.match(/^# TYPE (\S+) (\S+)$/);
      if (m && m[2] !== "counter") assert(!m[1].endsWith("_total"), m[1]);
      if (m) assert(m[1].startsWith("somnytoo_"), m[1]);
    }
  },
});
