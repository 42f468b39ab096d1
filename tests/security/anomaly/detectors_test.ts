/** Detectors: each fires at its threshold and not below (issue #5 "Anomaly detection"). */
import assert from "node:assert/strict";
import {
  type AnomalyThresholds,
  DEFAULT_ANOMALY_THRESHOLDS,
  detectBurstTraffic,
  detectConnectionFlood,
  detectHandshakeFailures,
  detectHighPacketRate,
  DETECTION_KINDS,
  detectOrmQueryFlood,
  DETECTORS,
  detectSmallPacketFlood,
  detectSqlInjectionAttempt,
  detectUnusualPacketSize,
  relaxedThresholds,
  weightsByKind,
} from "../../../src/security/anomaly/detectors.ts";
import type { IpActivityStats } from "../../../src/security/anomaly/ip_activity.ts";
import { CONFIG_DEFAULTS } from "../../../src/config/mod.ts";

const T = DEFAULT_ANOMALY_THRESHOLDS;

function stats(over: Partial<IpActivityStats> = {}): IpActivityStats {
  return {
    key: "192.0.2.1",
    windowMs: 10_000,
    bucketMs: 1_000,
    spanMs: 10_000,
    packets: 0,
    bytes: 0,
    smallPackets: 0,
    peakBucketPackets: 0,
    currentBucketPackets: 0,
    currentBucketSmallPackets: 0,
    meanPacketBytes: 0,
    packetBytesStdDev: 0,
    openConnections: 0,
    newConnections: 0,
    handshakeFailures: 0,
    handshakeWindowMs: 60_000,
    handshakeFailuresByReason: {
      malformed: 0,
      version: 0,
      unknown_psk_id: 0,
      decrypt: 0,
      clock_skew: 0,
      replay: 0,
      replay_cache_full: 0,
      timeout: 0,
    },
    protocolErrors: 0,
    sqlInjectionAttempts: 0,
    ormQueryFloods: 0,
    ...over,
  };
}

Deno.test("every detector is silent on an idle address", () => {
  for (const kind of DETECTION_KINDS) assert.equal(DETECTORS[kind](stats(), T), undefined, kind);
});

Deno.test("HighPacketRate fires at highPacketRatePerSecond in the current bucket, not below", () => {
  assert.equal(detectHighPacketRate(stats({ currentBucketPackets: 1_999 }), T), undefined);
  assert.equal(
    detectHighPacketRate(stats({ currentBucketPackets: 2_000 }), T),
    "2000 packets in 1 s",
  );
  // The rest of the window does not count: each bucket is judged on its own.
  assert.equal(
    detectHighPacketRate(stats({ packets: 100_000, currentBucketPackets: 10 }), T),
    undefined,
  );
  // Buckets of 2 s need twice the packets.
  assert.equal(
    detectHighPacketRate(stats({ bucketMs: 2_000, currentBucketPackets: 3_999 }), T),
    undefined,
  );
});

Deno.test("BurstTraffic fires on a bucket far above the mean, not on a steady rate", () => {
  const burst = stats({ packets: 1_000, currentBucketPackets: 1_000 }); // 10× the mean
  assert.equal(detectBurstTraffic(burst, T), "1000 packets in 1 s (10× the mean)");
  assert.equal(
    detectBurstTraffic(stats({ packets: 999, currentBucketPackets: 999 }), T),
    undefined,
  );
  // Steady 1500/s: current = mean.
  assert.equal(
    detectBurstTraffic(stats({ packets: 15_000, currentBucketPackets: 1_500 }), T),
    undefined,
  );
  // Factor boundary: exactly 4× the mean fires, just below does not.
  assert.ok(detectBurstTraffic(stats({ packets: 5_000, currentBucketPackets: 2_000 }), T));
  assert.equal(
    detectBurstTraffic(stats({ packets: 5_001, currentBucketPackets: 2_000 }), T),
    undefined,
  );
});

Deno.test("SmallPacketFlood needs both the rate and the share of small packets", () => {
  const cur = (packets: number, small: number) =>
    stats({ currentBucketPackets: packets, currentBucketSmallPackets: small });
  assert.ok(detectSmallPacketFlood(cur(500, 500), T));
  assert.equal(detectSmallPacketFlood(cur(499, 499), T), undefined);
  assert.equal(detectSmallPacketFlood(cur(1_000, 799), T), undefined);
  assert.equal(
    detectSmallPacketFlood(cur(1_000, 800), T),
    "800 small packets in 1 s (80% of packets)",
  );
});

Deno.test("ConnectionFlood fires on the new-connection rate or on open connections", () => {
  assert.equal(detectConnectionFlood(stats({ newConnections: 199 }), T), undefined);
  assert.equal(
    detectConnectionFlood(stats({ newConnections: 200 }), T),
    "200 new connections in 10 s",
  );
  assert.equal(detectConnectionFlood(stats({ openConnections: 199 }), T), undefined);
  assert.equal(detectConnectionFlood(stats({ openConnections: 200 }), T), "200 connections open");
});

Deno.test("UnusualPacketSize fires on a large mean or a wild spread, with enough packets", () => {
  const big = { meanPacketBytes: 16_384, packetBytesStdDev: 10 };
  assert.ok(detectUnusualPacketSize(stats({ packets: 50, ...big }), T));
  assert.equal(detectUnusualPacketSize(stats({ packets: 49, ...big }), T), undefined);
  assert.equal(
    detectUnusualPacketSize(stats({ packets: 50, meanPacketBytes: 16_383 }), T),
    undefined,
  );
  const spread = { packets: 100, meanPacketBytes: 100 };
  assert.ok(detectUnusualPacketSize(stats({ ...spread, packetBytesStdDev: 400 }), T));
  assert.equal(
    detectUnusualPacketSize(stats({ ...spread, packetBytesStdDev: 399 }), T),
    undefined,
  );
});

Deno.test("SQLInjectionAttempt and ORMQueryFlood fire on one event by default", () => {
  assert.equal(detectSqlInjectionAttempt(stats(), T), undefined);
  assert.equal(
    detectSqlInjectionAttempt(stats({ sqlInjectionAttempts: 1 }), T),
    "1 SQL injection attempt(s) in 10 s",
  );
  const two: AnomalyThresholds = { ...T, sqlInjectionAttempts: 2, ormQueryFloods: 2 };
  assert.equal(detectSqlInjectionAttempt(stats({ sqlInjectionAttempts: 1 }), two), undefined);
  assert.equal(detectOrmQueryFlood(stats({ ormQueryFloods: 1 }), two), undefined);
  assert.equal(
    detectOrmQueryFlood(stats({ ormQueryFloods: 1 }), T),
    "1 ORM query flood(s) in 10 s",
  );
});

Deno.test("HandshakeFailures fires at the limit, names reasons, and 0 disables it", () => {
  const by = { ...stats().handshakeFailuresByReason, decrypt: 15, replay: 5 };
  assert.equal(
    detectHandshakeFailures(stats({ handshakeFailures: 20, handshakeFailuresByReason: by }), T),
    "20 handshake failures in 60 s (decrypt 15, replay 5)",
  );
  assert.equal(detectHandshakeFailures(stats({ handshakeFailures: 19 }), T), undefined);
  assert.equal(
    detectHandshakeFailures(stats({ handshakeFailures: 10_000 }), { ...T, handshakeFailures: 0 }),
    undefined,
  );
});

Deno.test("details carry numbers only, never an address", () => {
  const s = stats({
    packets: 100_000,
    smallPackets: 100_000,
    peakBucketPackets: 100_000,
    currentBucketPackets: 100_000,
    currentBucketSmallPackets: 100_000,
    newConnections: 1_000,
    sqlInjectionAttempts: 3,
    ormQueryFloods: 3,
    handshakeFailures: 50,
    meanPacketBytes: 20_000,
  });
  for (const kind of DETECTION_KINDS) {
    const d = DETECTORS[kind](s, T);
    assert.ok(d, kind);
    assert.ok(!d.includes("192.0.2.1"), d);
    assert.ok(d.length < 100, d);
  }
});

Deno.test("relaxedThresholds makes traffic detectors 10× harder, not the attack evidence", () => {
  const r = relaxedThresholds(T);
  const flood = stats({ currentBucketPackets: 2_000 });
  assert.ok(detectHighPacketRate(flood, T));
  assert.equal(detectHighPacketRate(flood, r), undefined);
  assert.ok(detectHighPacketRate(stats({ currentBucketPackets: 20_000 }), r));
  assert.equal(detectConnectionFlood(stats({ newConnections: 200 }), r), undefined);
  const small = stats({ currentBucketPackets: 500, currentBucketSmallPackets: 500 });
  assert.ok(detectSmallPacketFlood(small, T));
  assert.equal(detectSmallPacketFlood(small, r), undefined);
  assert.equal(r.sqlInjectionAttempts, T.sqlInjectionAttempts);
  assert.equal(r.handshakeFailures, T.handshakeFailures);
  for (const k of Object.keys(T) as (keyof AnomalyThresholds)[]) assert.ok(r[k] >= T[k], k);
  assert.throws(() => relaxedThresholds(T, 0.5), RangeError);
});

Deno.test("weightsByKind maps the seed's weights and HandshakeFailures = 1", () => {
  const w = weightsByKind(CONFIG_DEFAULTS.security.anomalyWeights);
  assert.deepEqual({ ...w }, {
    HighPacketRate: 0.4,
    BurstTraffic: 0.3,
    SmallPacketFlood: 0.6,
    ConnectionFlood: 0.5,
    UnusualPacketSize: 0.2,
    SQLInjectionAttempt: 0.8,
    ORMQueryFlood: 0.4,
    HandshakeFailures: 1,
  });
});
