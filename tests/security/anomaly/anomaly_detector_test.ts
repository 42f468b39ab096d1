/** AnomalyDetector: scores per address over a sliding window (issue #5). */
import assert from "node:assert/strict";
import {
  AnomalyDetector,
  type AnomalyDetectorOptions,
} from "../../../src/security/anomaly/anomaly_detector.ts";
import { ManualClock } from "../../../src/util/clock.ts";

const IP = "203.0.113.5";

function detector(over: Partial<AnomalyDetectorOptions> = {}) {
  const clock = new ManualClock();
  return { d: new AnomalyDetector({ clock, ...over }), clock };
}

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≉ ${b}`);

/** `perSecond` packets of `bytes` for `seconds`, in 10 ms steps. */
function flood(
  d: AnomalyDetector,
  clock: ManualClock,
  ip: string,
  perSecond: number,
  seconds: number,
  bytes = 200,
) {
  const perStep = perSecond / 100;
  for (let step = 0; step < seconds * 100; step++) {
    for (let i = 0; i < perStep; i++) d.observe({ kind: "packet", ip, bytes });
    clock.advance(10);
  }
}

Deno.test("AnomalyDetector scores a SQL-injection attempt with its weight and explains it", () => {
  const { d, clock } = detector();
  const fired = d.observe({ kind: "sql_injection_attempt", ip: IP });
  assert.equal(fired.length, 1);
  assert.equal(d.scoreOf(IP), 0.8);
  const [det] = d.detectionsOf(IP);
  assert.equal(det.kind, "SQLInjectionAttempt");
  assert.equal(det.weight, 0.8);
  assert.equal(det.atMs, clock.now());
  assert.equal(det.detail, "1 SQL injection attempt(s) in 10 s");
  assert.equal(d.scoreOf("203.0.113.6"), 0);
  assert.deepEqual(d.detectionsOf("203.0.113.6"), []);
});

Deno.test("AnomalyDetector sums the weights of different kinds", () => {
  const { d } = detector({
    weights: {
      highPacketRate: 0.4,
      burstTraffic: 0.3,
      smallPacketFlood: 0.6,
      connectionFlood: 0.5,
      unusualPacketSize: 0.2,
      sqlInjectionAttempt: 0.25,
      ormQueryFlood: 0.125,
    },
    handshakeFailureLimit: 2,
  });
  d.observe({ kind: "sql_injection_attempt", ip: IP });
  d.observe({ kind: "orm_query_flood", ip: IP });
  near(d.scoreOf(IP), 0.375);
  d.observe({ kind: "handshake_failure", ip: IP, reason: "decrypt" });
  d.observe({ kind: "handshake_failure", ip: IP, reason: "decrypt" });
  near(d.scoreOf(IP), 1.375);
  const by = d.scoreByKind(IP);
  assert.equal(by.SQLInjectionAttempt, 0.25);
  assert.equal(by.ORMQueryFlood, 0.125);
  assert.equal(by.HandshakeFailures, 1);
  assert.equal(by.HighPacketRate, 0);
});

Deno.test("AnomalyDetector counts a kind once per bucket, so persistence raises the score", () => {
  const { d, clock } = detector();
  for (let i = 0; i < 5; i++) d.observe({ kind: "sql_injection_attempt", ip: IP });
  assert.equal(d.scoreOf(IP), 0.8);
  assert.equal(d.detectionsOf(IP).length, 1);
  clock.advance(1_000);
  d.observe({ kind: "sql_injection_attempt", ip: IP });
  near(d.scoreOf(IP), 1.6);
});

Deno.test("AnomalyDetector's score decays as the window slides", () => {
  const { d, clock } = detector();
  d.observe({ kind: "sql_injection_attempt", ip: IP });
  clock.advance(5_000);
  for (let i = 0; i < 10; i++) d.observe({ kind: "packet", ip: IP, bytes: 100 }); // no new evidence
  d.observe({ kind: "orm_query_flood", ip: IP });
  near(d.scoreOf(IP), 1.2);
  clock.advance(5_000); // the SQL-injection bucket slid out
  near(d.scoreOf(IP), 0.4);
  clock.advance(5_000);
  assert.equal(d.scoreOf(IP), 0);
  assert.equal(d.detectionsOf(IP).length, 2); // kept for "explain"
});

Deno.test("AnomalyDetector scores a sustained packet flood 0.4 per second", () => {
  const { d, clock } = detector();
  flood(d, clock, IP, 3_000, 3);
  const by = d.scoreByKind(IP);
  near(by.HighPacketRate, 1.2);
  assert.equal(by.BurstTraffic, 0);
  assert.equal(by.SmallPacketFlood, 0);
  assert.ok(d.detectionsOf(IP).every((x) => x.kind === "HighPacketRate"));
  assert.match(d.detectionsOf(IP)[0].detail, /^\d+ packets in 1 s$/);
});

Deno.test("AnomalyDetector sees a small-packet flood and a burst", () => {
  const { d, clock } = detector();
  flood(d, clock, IP, 100, 5, 100); // quiet history
  flood(d, clock, IP, 1_500, 1, 20); // then a one-second burst of tiny packets
  flood(d, clock, IP, 100, 3, 100); // and quiet again: no new detections
  const by = d.scoreByKind(IP);
  near(by.BurstTraffic, 0.3);
  near(by.SmallPacketFlood, 0.6);
  assert.equal(by.HighPacketRate, 0);
  assert.equal(d.detectionsOf(IP).length, 2);
});

Deno.test("AnomalyDetector judges UnusualPacketSize at most once per window", () => {
  const { d, clock } = detector();
  flood(d, clock, IP, 100, 5, 30_000);
  assert.equal(d.scoreByKind(IP).UnusualPacketSize, 0.2);
  flood(d, clock, IP, 100, 4, 30_000);
  assert.equal(d.scoreByKind(IP).UnusualPacketSize, 0.2);
  assert.equal(d.detectionsOf(IP).length, 1);
});

Deno.test("AnomalyDetector sees a connection flood at once, and only while it lasts", () => {
  const { d, clock } = detector();
  for (let i = 0; i < 199; i++) d.observe({ kind: "connection_opened", ip: IP });
  assert.equal(d.scoreOf(IP), 0);
  const fired = d.observe({ kind: "connection_opened", ip: IP });
  assert.equal(fired[0]?.kind, "ConnectionFlood");
  assert.equal(d.scoreOf(IP), 0.5);
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000);
    d.observe({ kind: "packet", ip: IP, bytes: 100 });
    d.observe({ kind: "connection_closed", ip: IP });
  }
  assert.equal(d.scoreOf(IP), 0.5);
});

Deno.test("AnomalyDetector reaches a ban-level score from handshake failures alone", () => {
  const { d } = detector({ handshakeFailureLimit: 20 });
  for (let i = 0; i < 19; i++) d.observe({ kind: "handshake_failure", ip: IP, reason: "decrypt" });
  assert.equal(d.scoreOf(IP), 0);
  d.observe({ kind: "handshake_failure", ip: IP, reason: "unknown_psk_id" });
  assert.equal(d.scoreByKind(IP).HandshakeFailures, 1);
  const off = detector({ handshakeFailureLimit: 0 }).d;
  for (let i = 0; i < 100; i++) {
    off.observe({ kind: "handshake_failure", ip: IP, reason: "replay" });
  }
  assert.equal(off.scoreOf(IP), 0);
});

Deno.test("AnomalyDetector in test mode relaxes the traffic thresholds", () => {
  const prod = detector();
  flood(prod.d, prod.clock, IP, 3_000, 3);
  assert.ok(prod.d.scoreOf(IP) > 1);
  const test = detector({ testMode: true });
  flood(test.d, test.clock, IP, 3_000, 3);
  assert.equal(test.d.scoreOf(IP), 0);
  for (let i = 0; i < 250; i++) test.d.observe({ kind: "connection_opened", ip: IP });
  assert.equal(test.d.scoreOf(IP), 0);
  assert.equal(test.d.thresholds.highPacketRatePerSecond, 20_000);
  // Attack evidence is not relaxed.
  test.d.observe({ kind: "sql_injection_attempt", ip: IP });
  assert.equal(test.d.scoreOf(IP), 0.8);
});

Deno.test("AnomalyDetector scores an IPv6 /64 as one address", () => {
  const { d } = detector();
  d.observe({ kind: "sql_injection_attempt", ip: "2001:db8:5:6::1" });
  assert.equal(d.scoreOf("2001:db8:5:6:ffff::9"), 0.8);
  assert.equal(d.scoreOf("2001:db8:5:7::1"), 0);
  assert.equal(d.keyOf("2001:db8:5:6::1"), "20010db800050006::/64");
});

Deno.test("AnomalyDetector keeps at most maxDetectionsPerIp detections, newest last", () => {
  const { d, clock } = detector({ maxDetectionsPerIp: 4 });
  for (let i = 0; i < 10; i++) {
    d.observe({ kind: "sql_injection_attempt", ip: IP });
    clock.advance(1_000);
  }
  const dets = d.detectionsOf(IP);
  assert.equal(dets.length, 4);
  assert.ok(dets[0].atMs < dets[3].atMs);
  assert.equal(dets[3].atMs, clock.now() - 1_000);
});

Deno.test("AnomalyDetector bounds its score table and sweeps old state", () => {
  const { d, clock } = detector({ maxTrackedIps: 1_000 });
  for (let i = 0; i < 5_000; i++) {
    d.observe({ kind: "sql_injection_attempt", ip: `10.0.${i >> 8}.${i & 255}` });
  }
  assert.equal(d.scoredIps, 1_000);
  assert.equal(d.trackedIps, 1_000);
  assert.equal(d.scoreOf("10.0.0.0"), 0); // evicted
  assert.equal(d.scoreOf("10.0.19.135"), 0.8); // i = 4999
  clock.advance(60_000);
  d.sweep();
  assert.equal(d.trackedIps, 0);
  assert.equal(d.scoredIps, 1_000); // detections are kept for explain …
  clock.advance(900_000);
  d.sweep();
  assert.equal(d.scoredIps, 0); // … until retainDetectionsMs
});

Deno.test("AnomalyDetector.forget clears an address", () => {
  const { d } = detector();
  d.observe({ kind: "sql_injection_attempt", ip: IP });
  d.forget(IP);
  assert.equal(d.scoreOf(IP), 0);
  assert.equal(d.statsOf(IP), undefined);
});

Deno.test("AnomalyDetector rejects invalid weights", () => {
  const clock = new ManualClock();
  assert.throws(() => new AnomalyDetector({ clock, handshakeFailuresWeight: 0 }), RangeError);
  assert.throws(
    () =>
      new AnomalyDetector({
        clock,
        weights: {
          highPacketRate: -1,
          burstTraffic: 0.3,
          smallPacketFlood: 0.6,
          connectionFlood: 0.5,
          unusualPacketSize: 0.2,
          sqlInjectionAttempt: 0.8,
          ormQueryFlood: 0.4,
        },
      }),
    RangeError,
  );
});

Deno.test("AnomalyDetector.maxScore is Σ weights × buckets", () => {
  const { d } = detector();
  near(d.maxScore, (0.4 + 0.3 + 0.6 + 0.5 + 0.2 + 0.8 + 0.4 + 1) * 10);
});
