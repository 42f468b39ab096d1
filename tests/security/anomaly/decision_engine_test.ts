/** DecisionEngine: scores and history to decisions (issue #5 "decisions"). */
import assert from "node:assert/strict";
import { AnomalyDetector } from "../../../src/security/anomaly/anomaly_detector.ts";
import {
  type AnomalyScores,
  type DecisionChange,
  DecisionEngine,
  type DecisionEngineOptions,
} from "../../../src/security/anomaly/decision_engine.ts";
import { DETECTION_KINDS } from "../../../src/security/anomaly/detectors.ts";
import { IpRules } from "../../../src/security/ip_rules.ts";
import type { Detection, DetectionKind } from "../../../src/security/types.ts";
import { ManualClock } from "../../../src/util/clock.ts";

const IP = "203.0.113.5";

/** Scores set by hand. */
class FakeScores implements AnomalyScores {
  by = new Map<string, Partial<Record<DetectionKind, number>>>();
  set(ip: string, s: Partial<Record<DetectionKind, number>>) {
    this.by.set(ip, s);
  }
  scoreByKind(ip: string): Readonly<Record<DetectionKind, number>> {
    const s = this.by.get(ip) ?? {};
    return Object.fromEntries(DETECTION_KINDS.map((k) => [k, s[k] ?? 0])) as Record<
      DetectionKind,
      number
    >;
  }
  detectionsOf(): readonly Detection[] {
    return [];
  }
}

/** Offence history a test can bump. */
class FakeHistory {
  counts = new Map<string, number>();
  banCount(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  bump(key: string) {
    this.counts.set(key, this.banCount(key) + 1);
  }
}

function engine(over: Partial<DecisionEngineOptions> = {}) {
  const clock = new ManualClock();
  const scores = new FakeScores();
  const history = new FakeHistory();
  const changes: DecisionChange[] = [];
  const e = new DecisionEngine({
    scores,
    history,
    clock,
    onDecision: (c) => changes.push(c),
    ...over,
  });
  return { e, clock, scores, history, changes };
}

Deno.test("DecisionEngine maps score bands to Accept, RateLimit and TempBan", () => {
  const { e, scores } = engine();
  assert.deepEqual(e.decide(IP), { kind: "Accept" });
  scores.set("198.51.100.1", { HighPacketRate: 0.4 });
  assert.deepEqual(e.decide("198.51.100.1"), { kind: "Accept" });
  scores.set("198.51.100.2", { ConnectionFlood: 0.5 });
  assert.deepEqual(e.decide("198.51.100.2"), { kind: "RateLimit", durationMs: 10_000 });
  scores.set("198.51.100.3", { HighPacketRate: 0.4, SmallPacketFlood: 0.59 });
  assert.equal(e.decide("198.51.100.3").kind, "RateLimit");
  scores.set("198.51.100.4", { HighPacketRate: 0.4, SmallPacketFlood: 0.6 });
  assert.deepEqual(e.decide("198.51.100.4"), { kind: "TempBan", durationMs: 60_000 });
});

Deno.test("DecisionEngine escalates temp bans with the offence history, then bans for good", () => {
  const { e, scores, history, clock, changes } = engine();
  scores.set(IP, { HighPacketRate: 1.2 });
  const seen: unknown[] = [];
  for (let i = 0; i < 7; i++) {
    const d = e.decide(IP);
    seen.push(d);
    if (d.kind === "TempBan") {
      history.bump(IP); // the owner records the ban …
      assert.deepEqual(e.decide(IP), d); // … and the same offence does not escalate
      clock.advance(d.durationMs);
    }
  }
  assert.deepEqual(seen, [
    { kind: "TempBan", durationMs: 60_000 },
    { kind: "TempBan", durationMs: 600_000 },
    { kind: "TempBan", durationMs: 3_600_000 },
    { kind: "TempBan", durationMs: 86_400_000 },
    { kind: "TempBan", durationMs: 86_400_000 },
    { kind: "PermanentBan" },
    { kind: "PermanentBan" },
  ]);
  assert.equal(changes.length, 6);
  assert.equal(changes[5].decision.kind, "PermanentBan");
  scores.set(IP, {});
  assert.equal(e.decide(IP).kind, "PermanentBan"); // permanent stays
});

Deno.test("DecisionEngine takes the ban policy from its options", () => {
  const { e, scores, history } = engine({
    policy: { banDurationsMs: [5_000, 50_000], permanentBanAfter: 2, banScore: 2 },
  });
  scores.set(IP, { HighPacketRate: 1.5 });
  assert.equal(e.decide(IP).kind, "RateLimit");
  scores.set("198.51.100.9", { HighPacketRate: 2 });
  history.counts.set("198.51.100.9", 1);
  assert.deepEqual(e.decide("198.51.100.9"), { kind: "TempBan", durationMs: 50_000 });
  scores.set("198.51.100.10", { HighPacketRate: 2 });
  history.counts.set("198.51.100.10", 2);
  assert.deepEqual(e.decide("198.51.100.10"), { kind: "PermanentBan" });
  assert.throws(
    () => engine({ policy: { banDurationsMs: [] } }),
    RangeError,
  );
  assert.throws(() => engine({ policy: { rateLimitScore: 2, banScore: 1 } }), RangeError);
});

Deno.test("DecisionEngine throttles queries first when SQL/ORM dominate the score", () => {
  const { e, scores } = engine();
  scores.set(IP, { SQLInjectionAttempt: 0.8 });
  assert.deepEqual(e.decide(IP), { kind: "QueryThrottle", durationMs: 60_000 });
  scores.set("198.51.100.1", { SQLInjectionAttempt: 0.8, ORMQueryFlood: 0.4 });
  assert.equal(e.decide("198.51.100.1").kind, "QueryThrottle");
  scores.set("198.51.100.2", { SQLInjectionAttempt: 0.8, HighPacketRate: 0.4 });
  assert.equal(e.decide("198.51.100.2").kind, "QueryThrottle");
  // Persistent injection attempts end in a ban.
  scores.set("198.51.100.3", { SQLInjectionAttempt: 4 });
  assert.equal(e.decide("198.51.100.3").kind, "TempBan");
  // Traffic dominates: not a query matter.
  scores.set("198.51.100.4", { SQLInjectionAttempt: 0.8, HighPacketRate: 1.2 });
  assert.equal(e.decide("198.51.100.4").kind, "TempBan");
});

Deno.test("DecisionEngine bans on handshake failures directly", () => {
  const { e, scores } = engine();
  scores.set(IP, { HandshakeFailures: 1 });
  assert.deepEqual(e.decide(IP), { kind: "TempBan", durationMs: 60_000 });
});

Deno.test("DecisionEngine never bans an allow-listed address, even with huge scores", () => {
  const { e, scores, changes } = engine({
    allowList: new IpRules(["10.0.0.0/8", "2001:db8:aa::/48"]),
    denyList: new IpRules(["10.0.0.0/8"]),
  });
  const all = Object.fromEntries(DETECTION_KINDS.map((k) => [k, 1_000]));
  for (const ip of ["10.1.2.3", "2001:db8:aa:1::5"]) {
    scores.set(ip, all);
    assert.deepEqual(e.decide(ip), { kind: "Accept" });
  }
  assert.equal(changes.length, 0);
});

Deno.test("DecisionEngine always bans a deny-listed address for good", () => {
  const { e, changes } = engine({ denyList: new IpRules(["192.0.2.0/24", "2001:db8:bad::/48"]) });
  assert.deepEqual(e.decide("192.0.2.77"), { kind: "PermanentBan" });
  assert.deepEqual(e.decide("2001:db8:bad:1::1"), { kind: "PermanentBan" });
  assert.equal(e.decide("192.0.3.1").kind, "Accept");
  assert.equal(changes.length, 2);
});

Deno.test("DecisionEngine calls onDecision on Accept → X and on upgrades only", () => {
  const { e, scores, clock, changes } = engine();
  scores.set(IP, { ConnectionFlood: 0.5 });
  e.decide(IP);
  e.decide(IP);
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0].previous, { kind: "Accept" });
  assert.deepEqual(changes[0].decision, { kind: "RateLimit", durationMs: 10_000 });
  assert.equal(changes[0].key, IP);
  assert.equal(changes[0].score, 0.5);
  scores.set(IP, { ConnectionFlood: 1 });
  assert.equal(e.decide(IP).kind, "TempBan");
  assert.equal(changes.length, 2);
  assert.equal(changes[1].previous.kind, "RateLimit");
  // A weaker score while the ban is in force: still banned, no call.
  scores.set(IP, { ConnectionFlood: 0.5 });
  assert.equal(e.decide(IP).kind, "TempBan");
  assert.equal(changes.length, 2);
  // After the ban: back to Accept without a call, then a new offence calls again.
  clock.advance(60_000);
  scores.set(IP, {});
  assert.equal(e.decide(IP).kind, "Accept");
  scores.set(IP, { ConnectionFlood: 0.5 });
  assert.equal(e.decide(IP).kind, "RateLimit");
  assert.equal(changes.length, 3);
});

Deno.test("DecisionEngine survives a throwing onDecision", () => {
  const { e, scores } = engine({
    onDecision: () => {
      throw new Error("audit log down");
    },
  });
  scores.set(IP, { HandshakeFailures: 1 });
  assert.equal(e.decide(IP).kind, "TempBan");
});

Deno.test("DecisionEngine decides an IPv6 /64 as one address", () => {
  const clock = new ManualClock();
  const detector = new AnomalyDetector({ clock, handshakeFailureLimit: 20 });
  const history = new FakeHistory();
  const e = new DecisionEngine({ scores: detector, history, clock });
  for (let i = 0; i < 20; i++) {
    detector.observe({
      kind: "handshake_failure",
      ip: `2001:db8:7:8::${i + 1}`,
      reason: "decrypt",
    });
  }
  assert.equal(e.decide("2001:db8:7:8:aaaa::1").kind, "TempBan");
  assert.equal(e.decide("2001:db8:7:9::1").kind, "Accept");
});

Deno.test("DecisionEngine bans dozens of wrong-key hellos within a minute (end to end)", () => {
  const clock = new ManualClock();
  const detector = new AnomalyDetector({ clock, handshakeFailureLimit: 20 });
  const history = new FakeHistory();
  const changes: DecisionChange[] = [];
  const e = new DecisionEngine({
    scores: detector,
    history,
    clock,
    allowList: new IpRules(["127.0.0.1"]),
    onDecision: (c) => changes.push(c),
  });
  for (let i = 0; i < 30; i++) {
    detector.observe({ kind: "handshake_failure", ip: IP, reason: "unknown_psk_id" });
    detector.observe({ kind: "handshake_failure", ip: "127.0.0.1", reason: "unknown_psk_id" });
    clock.advance(1_500);
  }
  assert.equal(e.decide(IP).kind, "TempBan");
  assert.equal(e.decide("127.0.0.1").kind, "Accept");
  assert.equal(changes.length, 1);
  assert.ok(changes[0].detections.some((d) => d.kind === "HandshakeFailures"));
  assert.match(changes[0].detections.at(-1)!.detail, /unknown_psk_id/);
});

Deno.test("DecisionEngine.sweep drops expired decisions and forget unbans", () => {
  const { e, scores, clock } = engine();
  scores.set(IP, { HighPacketRate: 1 });
  e.decide(IP);
  scores.set("198.51.100.1", { HighPacketRate: 0.5 });
  e.decide("198.51.100.1");
  assert.equal(e.trackedIps, 2);
  clock.advance(10_000);
  assert.equal(e.sweep(), 1);
  assert.equal(e.forget(IP), true);
  assert.equal(e.trackedIps, 0);
});
