/** HandshakeGuard: refusing addresses after repeated handshake failures (protocol-v1 §2). */
import assert from "node:assert/strict";
import { HandshakeGuard, type HandshakeGuardOptions } from "../../src/security/handshake_guard.ts";
import { IpRules } from "../../src/security/ip_rules.ts";
import { ManualClock } from "../../src/util/clock.ts";

const BAD = "198.51.100.7";

function guard(over: Partial<HandshakeGuardOptions> = {}) {
  const clock = new ManualClock();
  const g = new HandshakeGuard({
    failureLimit: 3,
    allowList: new IpRules(["10.0.0.0/8", "2001:db8:aa::/48"]),
    clock,
    ...over,
  });
  return { g, clock };
}

function fail(g: HandshakeGuard, ip: string, n: number): boolean[] {
  return Array.from({ length: n }, () => g.recordFailure(ip));
}

Deno.test("HandshakeGuard refuses an address once it reaches the failure limit within the window", () => {
  const { g, clock } = guard();
  assert.ok(g.allow(BAD));
  assert.deepEqual(fail(g, BAD, 2), [false, false]);
  assert.ok(g.allow(BAD));
  clock.advance(59_999);
  assert.equal(g.recordFailure(BAD), true);
  assert.ok(!g.allow(BAD));
  assert.ok(g.allow("198.51.100.8"), "other addresses are unaffected");
});

Deno.test("HandshakeGuard starts a new window after windowMs, forgetting older failures", () => {
  const { g, clock } = guard();
  fail(g, BAD, 2);
  clock.advance(60_000);
  assert.deepEqual(fail(g, BAD, 2), [false, false]);
  assert.ok(g.allow(BAD));
  assert.equal(g.recordFailure(BAD), true);
  assert.ok(!g.allow(BAD));
});

Deno.test("HandshakeGuard refusal lasts refuseForMs (default windowMs), then the address is allowed", () => {
  const { g, clock } = guard();
  fail(g, BAD, 3);
  clock.advance(59_999);
  assert.ok(!g.allow(BAD));
  clock.advance(1);
  assert.ok(g.allow(BAD));

  const custom = guard({ windowMs: 1000, refuseForMs: 10_000 });
  fail(custom.g, BAD, 3);
  custom.clock.advance(9_999);
  assert.ok(!custom.g.allow(BAD));
  custom.clock.advance(1);
  assert.ok(custom.g.allow(BAD));
});

Deno.test("HandshakeGuard keeps refusing during the refusal even after the failure window has moved on", () => {
  const { g, clock } = guard({ windowMs: 1000, refuseForMs: 5000 });
  fail(g, BAD, 3);
  clock.advance(2000);
  assert.equal(g.recordFailure(BAD), true, "a failure in a fresh window does not lift the refusal");
  assert.ok(!g.allow(BAD));
  clock.advance(3000);
  assert.ok(g.allow(BAD));
});

Deno.test("HandshakeGuard with failureLimit 0 never refuses and tracks nothing", () => {
  const { g } = guard({ failureLimit: 0 });
  assert.deepEqual(fail(g, BAD, 100).filter(Boolean), []);
  assert.ok(g.allow(BAD));
  assert.equal(g.trackedIps, 0);
});

Deno.test("HandshakeGuard never refuses an allow-listed address", () => {
  const { g } = guard({ failureLimit: 1 });
  for (const ip of ["10.1.2.3", "::ffff:10.9.9.9", "2001:db8:aa:1::5"]) {
    assert.deepEqual(fail(g, ip, 10), Array(10).fill(false), ip);
    assert.ok(g.allow(ip), ip);
  }
  assert.equal(g.trackedIps, 0);
  // An allow-listed host sharing a refused neighbour's IPv6 /64 is still allowed.
  const { g: g6 } = guard({ failureLimit: 1, allowList: new IpRules(["2001:db8:1:2::7"]) });
  assert.equal(g6.recordFailure("2001:db8:1:2::666"), true);
  assert.ok(!g6.allow("2001:db8:1:2::1"));
  assert.ok(g6.allow("2001:db8:1:2::7"));
});

Deno.test("HandshakeGuard counts IPv6 failures per /64", () => {
  const { g } = guard();
  g.recordFailure("2001:db8:5:6::1");
  g.recordFailure("2001:db8:5:6::2");
  assert.equal(g.recordFailure("2001:db8:5:6:ffff::3"), true);
  assert.ok(!g.allow("2001:db8:5:6::99"));
  assert.ok(g.allow("2001:db8:5:7::1"));
  assert.equal(g.trackedIps, 1);
});

Deno.test("HandshakeGuard tracks at most maxTrackedIps addresses, evicting the least recently failed", () => {
  const { g } = guard({ maxTrackedIps: 3, failureLimit: 2 });
  g.recordFailure("192.0.2.1");
  g.recordFailure("192.0.2.2");
  g.recordFailure("192.0.2.3");
  assert.equal(g.trackedIps, 3);
  g.recordFailure("192.0.2.1"); // refreshes .1, which is now refused
  assert.ok(!g.allow("192.0.2.1"));
  g.recordFailure("192.0.2.4"); // evicts .2, the least recently failed
  assert.equal(g.trackedIps, 3);
  assert.equal(g.recordFailure("192.0.2.2"), false, ".2 starts from zero again"); // evicts .3
  assert.equal(g.recordFailure("192.0.2.3"), false, ".3 was evicted too"); // evicts .1
  assert.equal(g.trackedIps, 3);
  for (let i = 10; i < 100; i++) g.recordFailure(`192.0.2.${i}`);
  assert.equal(g.trackedIps, 3);
});

// Regression (fixed): src/security/handshake_guard.ts:37-42 spreads `...options` after the
// defaults, so an option present with the value `undefined` (allowed by the
// optional property types) replaces its default: refuseForMs undefined makes
// refusedUntil NaN, and a refused address is then refused forever (while
// recordFailure reports false); windowMs undefined never resets the window;
// maxTrackedIps undefined removes the bound. Fix: spread first, then apply
// `??` defaults.
Deno.test({
  name: "HandshakeGuard treats options given as undefined as their defaults",
  fn: () => {
    const { g, clock } = guard({
      windowMs: undefined,
      refuseForMs: undefined,
      maxTrackedIps: undefined,
    });
    assert.deepEqual(fail(g, BAD, 3), [false, false, true]);
    clock.advance(60_000);
    assert.ok(g.allow(BAD));
  },
});
