/**
 * The real clock, plus an offset a test can move forward: timers and the
 * event loop run in real time, while "now" can jump past a ban's expiry
 * without waiting for it. Give it to the parts whose expiry is tested, not
 * to a server (ClientHello timestamps are checked against the server's
 * clock).
 */
import type { Clock } from "../../src/util/mod.ts";

/** See module doc. */
export class OffsetClock implements Clock {
  /** Added to both wall and monotonic time. */
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  monotonic(): number {
    return performance.now() + this.offsetMs;
  }
  setTimeout(fn: () => void, ms: number): number {
    return setTimeout(fn, ms) as unknown as number;
  }
  clearTimeout(handle: number): void {
    clearTimeout(handle);
  }
}
