/**
 * Protocol v1, pure: frames, the Noise handshake, the transport, session
 * rules and the Web Streams stages. No sockets, no timers, no `Deno.*`.
 *
 * @example Frame a message and decode it again
 * ```ts
 * import { encodeFrame, FrameDecoder, PacketType } from "./mod.ts";
 * const bytes = encodeFrame(PacketType.ClientHello, new Uint8Array(58));
 * const [frame] = new FrameDecoder({ expect: "server" }).push(bytes);
 * console.assert(frame.type === PacketType.ClientHello);
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./packet.ts";
export * from "./frame.ts";
export * from "./messages.ts";
export * from "./replay_cache.ts";
export * from "./transport.ts";
export * from "./handshake.ts";
export * from "./session.ts";
export * from "./pipeline.ts";
export * from "./noise/crypto.ts";
export { CipherState, nonceBytes, rekeyRaw } from "./noise/cipher_state.ts";
export { hkdf, SymmetricState } from "./noise/symmetric_state.ts";
export {
  type HandshakeOptions,
  type HandshakeSplit,
  HandshakeState,
} from "./noise/handshake_state.ts";
export { type HandshakePattern, parsePattern, parseProtocolName } from "./noise/patterns.ts";
export * from "./outbox.ts";
export * from "./liveness.ts";
