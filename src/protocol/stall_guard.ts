/**
 * Detects a peer that stopped reading (protocol-v1 §6): wraps the socket's
 * writable side and calls `onStall` when one write has waited longer than
 * `stallMs` for the socket to accept it. Backpressure upstream already bounds
 * what is buffered; this bounds how long a stalled peer keeps its connection.
 */

import type { Clock } from "../util/mod.ts";

/** Options for {@linkcode guardWrites}. */
export interface StallGuardOptions {
  readonly clock: Clock;
  /** Longest a single write may wait. */
  readonly stallMs: number;
  /** Called once when a write exceeds `stallMs`. */
  readonly onStall: () => void;
}

/** Wrap `inner` so that a write pending for longer than `stallMs` triggers `onStall`. */
export function guardWrites(
  inner: WritableStream<Uint8Array>,
  options: StallGuardOptions,
): WritableStream<Uint8Array> {
  const { clock, stallMs, onStall } = options;
  const writer = inner.getWriter();
  let stalled = false;
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      const timer = clock.setTimeout(() => {
        if (stalled) return;
        stalled = true;
        onStall();
      }, stallMs);
      try {
        await writer.write(chunk);
      } finally {
        clock.clearTimeout(timer);
      }
    },
    close: () => writer.close(),
    abort: (reason) => writer.abort(reason),
  });
}
