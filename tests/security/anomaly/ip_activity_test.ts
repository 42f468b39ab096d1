/** IpActivityTracker: rolling per-address counters, LRU bound, sweep (issue #5 "Signals"). */
import assert from "node:assert/strict";
import { IpActivityTracker } from "../../../src/security/anomaly/ip_activity.ts";
import { ManualClock } from "../../../src/util/clock.ts";

function tracker(over: Partial<ConstructorParameters<typeof IpActivityTracker>[0]> = {}) {
  const clock = new ManualClock();
  return { t: new IpActivityTracker({ clock, ...over }), clock };
}

Deno.test("IpActivityTracker counts every signal kind in the window", () => {
  const { t } = tracker();
  const ip = "192.0.2.1";
  t.observe({ kind: "connection_opened", ip });
  t.observe({ kind: "connection_opened", ip });
  t.observe({ kind: "connection_closed", ip });
  t.observe({ kind: "packet", ip, bytes: 10 });
  t.observe({ kind: "packet", ip, bytes: 100 });
  t.observe({ kind: "packet", ip, bytes: 63 });
  t.observe({ kind: "handshake_failure", ip, reason: "decrypt" });
  t.observe({ kind: "handshake_failure", ip, reason: "replay" });
  t.observe({ kind: "handshake_failure", ip, reason: "decrypt" });
  t.observe({ kind: "protocol_error", ip, code: "FRAME_BAD_MAGIC" });
  t.observe({ kind: "sql_injection_attempt", ip });
  t.observe({ kind: "orm_query_flood", ip });
  const s = t.statsOf(ip)!;
  assert.equal(s.key, ip);
  assert.equal(s.packets, 3);
  assert.equal(s.bytes, 173);
  assert.equal(s.smallPackets, 2);
  assert.equal(s.peakBucketPackets, 3);
  assert.ok(Math.abs(s.meanPacketBytes - 173 / 3) < 1e-9);
  const mean = 173 / 3;
  const sd = Math.sqrt((10 ** 2 + 100 ** 2 + 63 ** 2) / 3 - mean * mean);
  assert.ok(Math.abs(s.packetBytesStdDev - sd) < 1e-9);
  assert.equal(s.openConnections, 1);
  assert.equal(s.newConnections, 2);
  assert.equal(s.handshakeFailures, 3);
  assert.equal(s.handshakeFailuresByReason.decrypt, 2);
  assert.equal(s.handshakeFailuresByReason.replay, 1);
  assert.equal(s.handshakeFailuresByReason.timeout, 0);
  assert.equal(s.protocolErrors, 1);
  assert.equal(s.sqlInjectionAttempts, 1);
  assert.equal(s.ormQueryFloods, 1);
  assert.equal(s.spanMs, 1_000);
  assert.equal(t.statsOf("192.0.2.2"), undefined);
});

Deno.test("IpActivityTracker slides its window bucket by bucket", () => {
  const { t, clock } = tracker();
  const ip = "192.0.2.1";
  for (let i = 0; i < 5; i++) t.observe({ kind: "packet", ip, bytes: 100 });
  clock.advance(5_000);
  for (let i = 0; i < 3; i++) t.observe({ kind: "packet", ip, bytes: 100 });
  assert.equal(t.statsOf(ip)!.packets, 8);
  assert.equal(t.statsOf(ip)!.spanMs, 6_000);
  clock.advance(5_000); // the first bucket slides out
  assert.equal(t.statsOf(ip)!.packets, 3);
  assert.equal(t.statsOf(ip)!.spanMs, 10_000);
  clock.advance(60_000); // everything slides out
  assert.equal(t.statsOf(ip)!.packets, 0);
  assert.equal(t.statsOf(ip)!.bytes, 0);
});

Deno.test("IpActivityTracker keeps handshake failures for a minute, not the 10 s window", () => {
  const { t, clock } = tracker();
  const ip = "192.0.2.1";
  for (let i = 0; i < 4; i++) {
    t.observe({ kind: "handshake_failure", ip, reason: "unknown_psk_id" });
  }
  clock.advance(30_000);
  assert.equal(t.statsOf(ip)!.handshakeFailures, 4);
  clock.advance(30_000);
  assert.equal(t.statsOf(ip)!.handshakeFailures, 0);
});

Deno.test("IpActivityTracker never counts below zero open connections", () => {
  const { t } = tracker();
  t.observe({ kind: "connection_closed", ip: "192.0.2.1" });
  assert.equal(t.statsOf("192.0.2.1")!.openConnections, 0);
});

Deno.test("IpActivityTracker shares one entry per IPv6 /64 and per mapped IPv4", () => {
  const { t } = tracker();
  t.observe({ kind: "packet", ip: "2001:db8:1:2::1", bytes: 100 });
  t.observe({ kind: "packet", ip: "2001:db8:1:2:ffff:ffff:ffff:ffff", bytes: 100 });
  t.observe({ kind: "packet", ip: "[2001:db8:1:2::abcd]", bytes: 100 });
  t.observe({ kind: "packet", ip: "2001:db8:1:3::1", bytes: 100 });
  t.observe({ kind: "packet", ip: "::ffff:192.0.2.1", bytes: 100 });
  t.observe({ kind: "packet", ip: "192.0.2.1", bytes: 100 });
  assert.equal(t.trackedIps, 3);
  assert.equal(t.statsOf("2001:db8:1:2::99")!.packets, 3);
  assert.equal(t.statsOf("2001:db8:1:2::99")!.key, "20010db800010002::/64");
  assert.equal(t.statsOf("192.0.2.1")!.packets, 2);
});

Deno.test("IpActivityTracker stays within maxTrackedIps under a 300 000-address flood", () => {
  const { t } = tracker({ maxTrackedIps: 100_000 });
  for (let i = 0; i < 300_000; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    t.observe({ kind: "packet", ip, bytes: 40 });
    assert.ok(t.trackedIps <= 100_000);
  }
  assert.equal(t.trackedIps, 100_000);
  // The most recent survive, the oldest were evicted.
  assert.equal(t.statsOf("10.4.147.223")!.packets, 1); // i = 299 999
  assert.equal(t.statsOf("10.0.0.0"), undefined);
});

Deno.test("IpActivityTracker evicts the least recently active key first", () => {
  const { t, clock } = tracker({ maxTrackedIps: 2 });
  t.observe({ kind: "packet", ip: "192.0.2.1", bytes: 1 });
  t.observe({ kind: "packet", ip: "192.0.2.2", bytes: 1 });
  clock.advance(1_000);
  t.observe({ kind: "packet", ip: "192.0.2.1", bytes: 1 }); // refreshed
  t.observe({ kind: "packet", ip: "192.0.2.3", bytes: 1 });
  assert.ok(t.statsOf("192.0.2.1"));
  assert.equal(t.statsOf("192.0.2.2"), undefined);
  assert.ok(t.statsOf("192.0.2.3"));
});

Deno.test("IpActivityTracker.sweep drops idle keys but keeps ones with open connections", () => {
  const { t, clock } = tracker();
  t.observe({ kind: "packet", ip: "192.0.2.1", bytes: 1 });
  t.observe({ kind: "connection_opened", ip: "192.0.2.2" });
  clock.advance(30_000);
  t.observe({ kind: "packet", ip: "192.0.2.3", bytes: 1 });
  assert.equal(t.sweep(), 0);
  clock.advance(30_000);
  assert.equal(t.sweep(), 1); // 192.0.2.1 idle 60 s
  assert.equal(t.statsOf("192.0.2.1"), undefined);
  assert.ok(t.statsOf("192.0.2.2"));
  assert.equal(t.trackedIps, 2);
  clock.advance(30_000);
  assert.equal(t.sweep(), 1); // 192.0.2.3; .2 still has an open connection
  t.observe({ kind: "connection_closed", ip: "192.0.2.2" });
  clock.advance(60_000);
  assert.equal(t.sweep(), 1);
  assert.equal(t.trackedIps, 0);
});

Deno.test("IpActivityTracker.observe reports a key due at most every evaluateEveryMs", () => {
  const { t, clock } = tracker({ evaluateEveryMs: 100 });
  const ip = "192.0.2.1";
  assert.equal(t.observe({ kind: "packet", ip, bytes: 1 }), true);
  assert.equal(t.observe({ kind: "packet", ip, bytes: 1 }), false);
  clock.advance(99);
  assert.equal(t.observe({ kind: "packet", ip, bytes: 1 }), false);
  clock.advance(1);
  assert.equal(t.observe({ kind: "packet", ip, bytes: 1 }), true);
  assert.equal(t.observe({ kind: "packet", ip: "192.0.2.2", bytes: 1 }), true);
});

Deno.test("IpActivityTracker rejects an invalid window", () => {
  const clock = new ManualClock();
  assert.throws(() => new IpActivityTracker({ clock, windowMs: 1_500 }), RangeError);
  assert.throws(() => new IpActivityTracker({ clock, bucketMs: 0 }), RangeError);
  assert.throws(() => new IpActivityTracker({ clock, maxTrackedIps: -1 }), RangeError);
});
