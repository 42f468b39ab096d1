/** Property: random signal sequences never throw, scores stay bounded, decisions are well-formed. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { AnomalyDetector } from "../../../src/security/anomaly/anomaly_detector.ts";
import { DecisionEngine } from "../../../src/security/anomaly/decision_engine.ts";
import { HANDSHAKE_FAILURE_REASONS } from "../../../src/security/anomaly/ip_activity.ts";
import { IpRules } from "../../../src/security/ip_rules.ts";
import type { SecuritySignal } from "../../../src/security/types.ts";
import { ManualClock } from "../../../src/util/clock.ts";

const ipArb = fc.oneof(
  fc.constantFrom("192.0.2.1", "192.0.2.2", "10.0.0.1", "2001:db8::1", "2001:db8::2", "garbage"),
  fc.ipV4(),
  fc.ipV6(),
);

const signalArb: fc.Arbitrary<SecuritySignal> = fc.oneof(
  fc.record({ kind: fc.constant("packet" as const), ip: ipArb, bytes: fc.nat(70_000) }),
  fc.record({ kind: fc.constant("connection_opened" as const), ip: ipArb }),
  fc.record({ kind: fc.constant("connection_closed" as const), ip: ipArb }),
  fc.record({
    kind: fc.constant("handshake_failure" as const),
    ip: ipArb,
    reason: fc.constantFrom(...HANDSHAKE_FAILURE_REASONS),
  }),
  fc.record({ kind: fc.constant("protocol_error" as const), ip: ipArb, code: fc.string() }),
  fc.record({ kind: fc.constant("sql_injection_attempt" as const), ip: ipArb }),
  fc.record({ kind: fc.constant("orm_query_flood" as const), ip: ipArb }),
);

// A step: a burst of one signal repeated, then some time passes.
const stepArb = fc.record({
  signal: signalArb,
  repeat: fc.integer({ min: 1, max: 300 }),
  advanceMs: fc.oneof(fc.constant(0), fc.nat(200), fc.nat(70_000)),
});

const KINDS = new Set(["Accept", "RateLimit", "TempBan", "PermanentBan", "QueryThrottle"]);

Deno.test("random signal sequences never throw; scores stay in [0, Σw × buckets]; decisions are one of five", () => {
  fc.assert(
    fc.property(
      fc.array(stepArb, { maxLength: 60 }),
      fc.boolean(),
      fc.nat(30),
      (steps, testMode, limit) => {
        const clock = new ManualClock();
        const detector = new AnomalyDetector({
          clock,
          testMode,
          handshakeFailureLimit: limit,
          maxTrackedIps: 50,
        });
        const bans = new Map<string, number>();
        const engine = new DecisionEngine({
          scores: detector,
          clock,
          history: { banCount: (k) => bans.get(k) ?? 0 },
          allowList: new IpRules(["10.0.0.0/8"]),
          onDecision: (c) => {
            if (c.decision.kind === "TempBan") bans.set(c.key, (bans.get(c.key) ?? 0) + 1);
          },
        });
        const max = detector.maxScore;
        for (const { signal, repeat, advanceMs } of steps) {
          for (let i = 0; i < repeat; i++) detector.observe(signal);
          clock.advance(advanceMs);
          const score = detector.scoreOf(signal.ip);
          assert.ok(score >= 0 && score <= max + 1e-9, `score ${score} > ${max}`);
          const d = engine.decide(signal.ip);
          assert.ok(KINDS.has(d.kind), d.kind);
          if ("durationMs" in d) assert.ok(d.durationMs > 0);
          if (signal.ip.startsWith("10.")) assert.equal(d.kind, "Accept");
          assert.ok(detector.detectionsOf(signal.ip).length <= 16);
          assert.ok(detector.trackedIps <= 50 && detector.scoredIps <= 50);
        }
        detector.sweep();
        engine.sweep();
      },
    ),
    { numRuns: 200 },
  );
});
