/**
 * The protocol v1 client.
 *
 * @example Echo one message
 * ```ts ignore
 * import { connect } from "./mod.ts";
 * const session = await connect({ host: "127.0.0.1", port: 8000, psk });
 * const reply = await session.request(0x20, new TextEncoder().encode("hello"));
 * console.log(new TextDecoder().decode(reply));
 * await session.close();
 * ```
 *
 * @module
 */
export {
  ClientConnection,
  type ClientSession,
  type RequestOptions,
  type SessionDetails,
  type SessionOptions,
} from "./client.ts";
export { connect, type ConnectOptions, openConnection } from "./connect.ts";
export { type Opener, ReconnectingClient, type ReconnectOptions } from "./reconnect.ts";
export { type CloseInfo, NotSentError, RemoteError } from "./errors.ts";
