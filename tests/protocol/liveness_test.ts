/** LivenessTimer (protocol-v1 §5) driven by a ManualClock. */
import assert from "node:assert/strict";
import { type LivenessOptions, LivenessTimer } from "../../src/protocol/liveness.ts";
import { ManualClock } from "../../src/util/clock.ts";

function setup(hb: number, idle: number) {
  const clock = new ManualClock();
  const events: string[] = [];
  const options: LivenessOptions = {
    heartbeatIntervalMs: hb,
    idleTimeoutMs: idle,
    onHeartbeatDue: () => events.push(`hb@${clock.monotonic()}`),
    onIdle: () => events.push(`idle@${clock.monotonic()}`),
  };
  const timer = new LivenessTimer(clock, options);
  return { clock, events, timer };
}

/** Advance in steps of `step`, calling `each` after every step. */
function run(clock: ManualClock, total: number, step: number, each: () => void): void {
  for (let t = 0; t < total; t += step) {
    clock.advance(step);
    each();
  }
}

Deno.test("LivenessTimer asks for a Heartbeat after exactly the interval of silence, then every interval", () => {
  const { clock, events, timer } = setup(1000, 0);
  timer.start();
  clock.advance(999);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ["hb@1000"]);
  clock.advance(2000);
  assert.deepEqual(events, ["hb@1000", "hb@2000", "hb@3000"]);
  assert.equal(clock.pendingTimers, 1);
});

Deno.test("LivenessTimer sends no Heartbeat while this side keeps sending", () => {
  const { clock, events, timer } = setup(1000, 0);
  timer.start();
  run(clock, 10_000, 400, () => timer.sent());
  assert.deepEqual(events, []);
  // Silence from the last send on: due one interval later.
  clock.advance(999);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ["hb@11000"]);
});

Deno.test("LivenessTimer counts the Heartbeat interval from the last send", () => {
  const { clock, events, timer } = setup(1000, 0);
  timer.start();
  clock.advance(700);
  timer.sent();
  clock.advance(999);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ["hb@1700"]);
});

Deno.test("LivenessTimer reports idle after idleTimeout without anything received, once, and then stops", () => {
  const { clock, events, timer } = setup(0, 3000);
  timer.start();
  clock.advance(2999);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ["idle@3000"]);
  clock.advance(10_000);
  assert.deepEqual(events, ["idle@3000"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("LivenessTimer postpones idle while frames are received, even if this side sends nothing", () => {
  const { clock, events, timer } = setup(1000, 3000);
  timer.start();
  run(clock, 9000, 500, () => timer.received());
  assert.ok(!events.some((e) => e.startsWith("idle")));
  assert.equal(events.length, 9, "heartbeats still go out every second");
  clock.advance(3000);
  assert.equal(events.at(-1), "idle@12000");
});

Deno.test("LivenessTimer sending does not keep the peer from being idle", () => {
  const { clock, events, timer } = setup(1000, 3000);
  timer.start();
  run(clock, 3000, 100, () => timer.sent());
  assert.deepEqual(events, ["idle@3000"]);
});

Deno.test("LivenessTimer counts from start(), not from construction (the handshake's end, not the accept)", () => {
  const { clock, events, timer } = setup(1000, 3000);
  clock.advance(9000); // a slow handshake
  timer.start();
  clock.advance(999);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ["hb@10000"]);
  clock.advance(2000);
  assert.deepEqual(events, ["hb@10000", "hb@11000", "idle@12000"]);
});

Deno.test("LivenessTimer with both intervals 0 arms no timer", () => {
  const { clock, events, timer } = setup(0, 0);
  timer.start();
  assert.equal(clock.pendingTimers, 0);
  clock.advance(1e9);
  assert.deepEqual(events, []);
});

Deno.test("LivenessTimer restarts with new intervals (a client adopting the server's values)", () => {
  const { clock, events, timer } = setup(0, 0);
  timer.start();
  clock.advance(500);
  timer.received();
  timer.sent();
  timer.start({ heartbeatIntervalMs: 2000, idleTimeoutMs: 5000 });
  clock.advance(1999);
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, ["hb@2500"]);
  clock.advance(3000);
  assert.deepEqual(events, ["hb@2500", "hb@4500", "idle@5500"]);
});

// Regression (fixed): src/protocol/liveness.ts:41 start() calls #arm() without clearing a timer
// armed by an earlier start(), so a restart while running leaves two timer
// chains, and stop() (which clears only the latest) leaves one pending.
Deno.test({
  name: "LivenessTimer restarted while running keeps a single timer, and stop() clears it",
  fn: () => {
    const { clock, timer } = setup(1000, 3000);
    timer.start();
    timer.start({ heartbeatIntervalMs: 2000, idleTimeoutMs: 6000 });
    assert.equal(clock.pendingTimers, 1);
    timer.stop();
    assert.equal(clock.pendingTimers, 0);
  },
});

Deno.test("LivenessTimer restarted while running fires on the new intervals only", () => {
  const { clock, events, timer } = setup(1000, 3000);
  timer.start();
  timer.start({ heartbeatIntervalMs: 2000, idleTimeoutMs: 6000 });
  run(clock, 5000, 500, () => timer.received());
  assert.deepEqual(events, ["hb@2000", "hb@4000"]);
});

Deno.test("LivenessTimer.stop cancels its timer and no callback runs afterwards", () => {
  const { clock, events, timer } = setup(1000, 3000);
  timer.start();
  clock.advance(1000);
  assert.deepEqual(events, ["hb@1000"]);
  timer.stop();
  assert.equal(clock.pendingTimers, 0);
  clock.advance(100_000);
  assert.deepEqual(events, ["hb@1000"]);
  timer.stop(); // idempotent
});

Deno.test("LivenessTimer stopped from inside its own callback does not re-arm", () => {
  const clock = new ManualClock();
  let beats = 0;
  const timer: LivenessTimer = new LivenessTimer(clock, {
    heartbeatIntervalMs: 1000,
    idleTimeoutMs: 0,
    onHeartbeatDue: () => {
      beats++;
      timer.stop();
    },
    onIdle: () => {},
  });
  timer.start();
  clock.advance(10_000);
  assert.equal(beats, 1);
  assert.equal(clock.pendingTimers, 0);
});
