/**
 * A real SomnyToo server on 127.0.0.1, port 0, for end-to-end tests: the
 * contract defaults with test-friendly overrides, Echo registered, and a
 * `close()` that awaits a full shutdown so Deno's sanitizers stay quiet.
 */

import { CONFIG_DEFAULTS } from "../../src/config/mod.ts";
import { selectCryptoBackend } from "../../src/crypto/mod.ts";
import type { CryptoBackend } from "../../src/protocol/mod.ts";
import {
  createServer,
  registerEcho,
  type ServerMetricsSink,
  type ServerOptions,
  type SomnyServer,
} from "../../src/server/mod.ts";
import type { SecurityLayer } from "../../src/server/security_layer.ts";
import type { Clock } from "../../src/util/clock.ts";
import { type ClientSession, connect, type ConnectOptions } from "../../src/client/mod.ts";

/** Overrides for {@linkcode startTestServer}. */
export type TestServerOptions = Partial<ServerOptions> & {
  /** Key ring; default: one random key under "". */
  readonly psks?: ReadonlyMap<string, Uint8Array>;
  /** Default: the fastest backend available ("auto"). */
  readonly backend?: CryptoBackend;
  readonly clock?: Clock;
  /** Register Echo on 0x20. @default true */
  readonly echo?: boolean;
  /** The security layer (issue #5). @default none */
  readonly security?: SecurityLayer;
  /** Per-frame and per-request figures. @default none */
  readonly metrics?: ServerMetricsSink;
};

/** A running test server. */
export interface TestServer {
  readonly server: SomnyServer;
  readonly port: number;
  /** The default ("") key. */
  readonly psk: Uint8Array;
  readonly psks: ReadonlyMap<string, Uint8Array>;
  readonly backend: CryptoBackend;
  /** Shut down (idempotent) and wait for every connection to close. */
  close(): Promise<void>;
}

/** A fresh random 32-byte key. */
export function randomPsk(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** The crypto backend used by default in e2e tests. */
export const defaultBackend: CryptoBackend = selectCryptoBackend("auto");

/** The server options every e2e test starts from. */
export function baseServerOptions(): ServerOptions {
  return {
    ...CONFIG_DEFAULTS.server,
    ...CONFIG_DEFAULTS.security,
    host: "127.0.0.1",
    port: 0,
    // Tests provoke many handshake failures on purpose; only the tests of
    // HANDSHAKE_FAILURE_LIMIT turn refusal on.
    handshakeFailureLimit: 0,
    // Shutdown in cleanup should never hang a test for long.
    shutdownTimeoutMs: 3_000,
  };
}

/** Start a server on 127.0.0.1:0 with `overrides`, Echo registered. */
export function startTestServer(overrides: TestServerOptions = {}): TestServer {
  const { psks: psksIn, backend: backendIn, clock, echo = true, security, metrics, ...opts } =
    overrides;
  const psks = psksIn ?? new Map([["", randomPsk()]]);
  const backend = backendIn ?? defaultBackend;
  const server = createServer({ ...baseServerOptions(), ...opts }, {
    psks,
    backend,
    clock,
    security,
    metrics,
  });
  if (echo) registerEcho(server.dispatcher);
  const { port } = server.listen();
  return {
    server,
    port,
    psk: psks.get("") ?? [...psks.values()][0],
    psks,
    backend,
    close: () => server.shutdown(),
  };
}

/** Connect a normal client to `ts` (same key and backend unless overridden). */
export function connectClient(
  ts: TestServer,
  options: Partial<ConnectOptions> = {},
): Promise<ClientSession> {
  return connect({
    host: "127.0.0.1",
    port: ts.port,
    psk: ts.psk,
    backend: ts.backend,
    handshakeTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
    ...options,
  });
}

/**
 * Wait until `cond()` is true, checking every `intervalMs`; throws after
 * `timeoutMs` with `what` in the message.
 */
export async function pollUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 3_000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(e: unknown): void;
}

/** Make a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Handlers that block until the test releases them, by label (the payload
 * as UTF-8). Records the order in which handlers started.
 */
export class Gate {
  readonly started: string[] = [];
  readonly #waiting = new Map<string, Deferred<void>>();
  readonly #released = new Set<string>();
  #all = false;

  /** A handler body: record `label`, wait for its release, echo the payload. */
  async wait(label: string, signal?: AbortSignal): Promise<void> {
    this.started.push(label);
    if (this.#all || this.#released.has(label)) return;
    const d = deferred<void>();
    this.#waiting.set(label, d);
    const onAbort = () => d.resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await d.promise;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#waiting.delete(label);
    }
  }

  /** Let the handler for `label` finish (now, or as soon as it starts). */
  release(label: string): void {
    this.#released.add(label);
    this.#waiting.get(label)?.resolve();
  }

  /** Release every handler, present and future. */
  releaseAll(): void {
    this.#all = true;
    for (const d of this.#waiting.values()) d.resolve();
  }

  /** Handlers waiting now. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Wait until a handler for `label` has started. */
  waitStarted(label: string, timeoutMs = 3_000): Promise<void> {
    return pollUntil(() => this.started.includes(label), `handler "${label}" to start`, {
      timeoutMs,
    });
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** UTF-8 encode. */
export const bytes = (s: string): Uint8Array => enc.encode(s);
/** UTF-8 decode. */
export const text = (b: Uint8Array): string => dec.decode(b);

/**
 * Register an echo handler on `type` that waits at `gate` under the label
 * given by its payload (UTF-8) before answering.
 */
export function gated(ts: TestServer, type: number, gate: Gate): void {
  ts.server.dispatcher.register(type, async (ctx) => {
    await gate.wait(text(ctx.payload), ctx.signal);
    return ctx.payload;
  });
}
