/** Opening client sessions over TCP, optionally reconnecting with backoff. */

import { SessionError } from "../errors.ts";
import { type Socket, systemClock } from "../util/mod.ts";
import { connectNodeSocket } from "./node_socket.ts";
import { ClientConnection, type ClientSession, type SessionOptions } from "./client.ts";
import { ReconnectingClient, type ReconnectOptions } from "./reconnect.ts";

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends SessionOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  readonly port: number;
  /**
   * Local (source) address to bind, e.g. "127.0.0.2"; the connection then
   * goes through `node:net` (Deno.connect cannot bind one). @default unset
   */
  readonly localAddress?: string;
  /** Reconnect with exponential backoff when the connection ends. @default false */
  readonly reconnect?: boolean | ReconnectOptions;
}

/**
 * Open one connection and finish the handshake.
 * @throws {SessionError} when the TCP connection or the handshake fails; a
 * wrong key shows up as the server closing the connection without a word.
 */
export async function openConnection(options: ConnectOptions): Promise<ClientConnection> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(
      () =>
        reject(new SessionError("CONNECTION_CLOSED", `Connect timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const host = options.host ?? "127.0.0.1";
    const opening: Promise<Socket> = options.localAddress === undefined
      ? Deno.connect({ hostname: host, port: options.port }).then((c) => {
        c.setNoDelay(true); // Nagle would add tens of ms to small requests
        return c;
      })
      : connectNodeSocket({ host, port: options.port, localAddress: options.localAddress });
    const conn = await Promise.race([opening, timeout]).catch((e) => {
      // A connection that completes after the timeout must not leak.
      opening.then((late) => late.close(), () => {});
      throw e instanceof SessionError ? e : new SessionError(
        "CONNECTION_CLOSED",
        `Cannot connect to ${options.host ?? "127.0.0.1"}:${options.port}: ${(e as Error).message}`,
        { cause: e },
      );
    });
    const session = new ClientConnection(conn, options);
    await session.ready;
    return session;
  } finally {
    clock.clearTimeout(timer!);
  }
}

/**
 * Connect to a SomnyToo server.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./mod.ts";
 * const session = await connect({ host: "127.0.0.1", port: 8000, psk });
 * const reply = await session.request(0x20, new TextEncoder().encode("hi"));
 * await session.close();
 * ```
 */
export async function connect(options: ConnectOptions): Promise<ClientSession> {
  if (options.reconnect) {
    const r = new ReconnectingClient(
      options,
      options.reconnect === true ? {} : options.reconnect,
      openConnection,
    );
    await r.ready;
    return r;
  }
  return await openConnection(options);
}
