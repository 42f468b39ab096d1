/**
 * The monitoring app's own listener (`PROMETHEUS_ENABLED`,
 * `PROMETHEUS_HOST`, `PROMETHEUS_PORT`), separate from the protocol port.
 *
 * @module
 */

/** Where and whether to listen (`MonitoringConfig`'s `prometheus*` fields). */
export interface MonitoringListenOptions {
  /** `PROMETHEUS_HOST`. @default "127.0.0.1" */
  readonly host?: string;
  /** `PROMETHEUS_PORT`; 0 picks a free port. @default 9100 */
  readonly port?: number;
  /** `PROMETHEUS_ENABLED`; false: nothing is started. @default true */
  readonly enabled?: boolean;
}

/** Something with a fetch handler (a Hono app). */
export interface FetchApp {
  /** Answer one request. */
  fetch(request: Request): Response | Promise<Response>;
}

/** A started (or, when disabled, never started) monitoring listener. */
export interface MonitoringServer {
  /** False when `enabled` was false. */
  readonly running: boolean;
  /** Bound address (the requested host when not running). */
  readonly hostname: string;
  /** Bound port (0 when not running). */
  readonly port: number;
  /** Stop listening and finish open requests; idempotent. */
  close(): Promise<void>;
}

/**
 * Serve `app` with `Deno.serve` on `host:port` (127.0.0.1:9100 by default),
 * or do nothing when `enabled` is false.
 *
 * @param app the app (`createMonitoringApp(...)`)
 * @param options host, port, enabled
 * @returns the server handle
 * @throws {Deno.errors.AddrInUse} when the port is taken
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startMonitoringServer } from "./listener.ts";
 * const server = startMonitoringServer(
 *   { fetch: () => new Response("ok") },
 *   { host: "127.0.0.1", port: 0 },
 * );
 * const res = await fetch(`http://127.0.0.1:${server.port}/`);
 * assert.equal(await res.text(), "ok");
 * await server.close();
 * ```
 */
export function startMonitoringServer(
  app: FetchApp,
  options: MonitoringListenOptions = {},
): MonitoringServer {
  const hostname = options.host ?? "127.0.0.1";
  if (options.enabled === false) {
    return { running: false, hostname, port: 0, close: () => Promise.resolve() };
  }
  const server = Deno.serve(
    { hostname, port: options.port ?? 9100, onListen: () => {} },
    (request) => app.fetch(request),
  );
  const addr = server.addr;
  let closing: Promise<void> | undefined;
  return {
    running: true,
    hostname: addr.hostname,
    port: addr.port,
    close: () => (closing ??= server.shutdown()),
  };
}
