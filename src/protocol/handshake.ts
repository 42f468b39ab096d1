/**
 * The v1 handshake (protocol-v1 §2): Noise_NNpsk0_25519_AESGCM_SHA256 carried
 * in ClientHello (0xA0) and ServerHello (0xA1), then Split() and the HMAC
 * trailer keys. Pure: the caller supplies time, randomness for session ids
 * and the replay cache.
 */

import { ProtocolError } from "../errors.ts";
import { concat, decodeUtf8Strict, toHex, utf8 } from "../util/mod.ts";
import {
  MAX_PSK_ID_BYTES,
  NOISE_PROTOCOL_NAME,
  PROLOGUE_PREFIX,
  PROTOCOL_VERSION,
  PSK_BYTES,
} from "./constants.ts";
import { encodeFrame, type Frame } from "./frame.ts";
import { PacketType } from "./packet.ts";
import type { CryptoBackend, X25519KeyPair } from "./noise/crypto.ts";
import { HandshakeState } from "./noise/handshake_state.ts";
import type { ReplayCache } from "./replay_cache.ts";
import {
  deriveMacKeys,
  type RawSessionKeys,
  TransportReceiver,
  TransportSender,
} from "./transport.ts";

/** Why a ClientHello was refused (counted, never sent to the peer). */
export type HandshakeRejectReason =
  | "malformed"
  | "version"
  | "unknown_psk_id"
  | "decrypt"
  | "clock_skew"
  | "replay"
  | "replay_cache_full";

/** A refused handshake. The server closes silently; `reason` is for counters and logs. */
export class HandshakeError extends ProtocolError {
  readonly reason: HandshakeRejectReason;
  constructor(reason: HandshakeRejectReason, options?: ErrorOptions) {
    super("HANDSHAKE_FAILED", `Handshake rejected: ${reason}`, options);
    this.reason = reason;
  }
}

/** A finished handshake: both transport directions and what ServerHello announced. */
export interface SessionKeys {
  /** Seals this side's frames. */
  readonly sender: TransportSender;
  /** Opens the peer's frames. */
  readonly receiver: TransportReceiver;
  /** The final Noise handshake hash `h` (public to psk holders; usable for channel binding). */
  readonly handshakeHash: Uint8Array;
  /** 16-byte session id chosen by the server. */
  readonly sessionId: Uint8Array;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
  /** The psk id the session authenticated with. */
  readonly pskId: string;
}

/** prologue = "SomnyToo/1" || u8(len(psk_id)) || psk_id. */
export function prologue(pskIdBytes: Uint8Array): Uint8Array {
  return concat(utf8(PROLOGUE_PREFIX), new Uint8Array([pskIdBytes.length]), pskIdBytes);
}

interface CommonOptions {
  /** Frames after which a sender asks for a KeyUpdate. */
  readonly rekeyAfterFrames?: number;
  /** Fixed ephemeral key: test vectors only. */
  readonly fixedEphemeralForTestingOnly?: X25519KeyPair;
  /** Receives raw transport keys: test vectors only. */
  readonly onRawKeysForTestingOnly?: (keys: RawSessionKeys) => void;
}

/** Options for {@linkcode startClientHandshake}. */
export interface ClientHandshakeOptions extends CommonOptions {
  readonly psk: Uint8Array;
  /** The key's id; "" names the server's default key. */
  readonly pskId?: string;
  /** The client's Unix time in ms, sent in the ClientHello. */
  readonly timestampMs: number;
}

/** Client side in progress: send `clientHello`, then pass the ServerHello frame to `finish`. */
export interface ClientHandshake {
  /** The whole ClientHello frame. */
  readonly clientHello: Uint8Array;
  /**
   * Process the ServerHello.
   * @throws {ProtocolError} `HANDSHAKE_FAILED` if it does not authenticate.
   */
  finish(serverHello: Frame): Promise<SessionKeys>;
}

/** Build a ClientHello and the state to finish the handshake. */
export async function startClientHandshake(
  backend: CryptoBackend,
  options: ClientHandshakeOptions,
): Promise<ClientHandshake> {
  const pskIdBytes = utf8(options.pskId ?? "");
  if (pskIdBytes.length > MAX_PSK_ID_BYTES) throw new RangeError("psk_id exceeds 64 bytes");
  if (options.psk.length !== PSK_BYTES) throw new RangeError("psk must be 32 bytes");
  const hs = await HandshakeState.initialize(backend, {
    protocolName: NOISE_PROTOCOL_NAME,
    initiator: true,
    prologue: prologue(pskIdBytes),
    psks: [options.psk],
    fixedEphemeralForTestingOnly: options.fixedEphemeralForTestingOnly,
  });
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setBigUint64(0, BigInt(Math.trunc(options.timestampMs)));
  // -> psk, e
  const msg1 = await hs.writeMessage(payload);
  const body = concat(
    new Uint8Array([PROTOCOL_VERSION, pskIdBytes.length]),
    pskIdBytes,
    msg1,
  );
  return {
    clientHello: encodeFrame(PacketType.ClientHello, body),
    async finish(frame: Frame): Promise<SessionKeys> {
      try {
        if (frame.type !== PacketType.ServerHello || frame.body[0] !== PROTOCOL_VERSION) {
          throw new HandshakeError("version");
        }
        // <- e, ee
        const p = await hs.readMessage(frame.body.subarray(1));
        if (p.length < 24) throw new HandshakeError("malformed");
        const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
        return await finishKeys(backend, hs, true, {
          sessionId: p.slice(0, 16),
          heartbeatIntervalMs: dv.getUint32(16),
          idleTimeoutMs: dv.getUint32(20),
          pskId: options.pskId ?? "",
        }, options);
      } catch (e) {
        hs.destroy();
        if (e instanceof HandshakeError) throw e;
        throw new HandshakeError("decrypt", { cause: e });
      }
    },
  };
}

/** Options for {@linkcode acceptClientHello}. */
export interface ServerHandshakeOptions extends CommonOptions {
  /** The key named by a psk id, or undefined. */
  readonly lookupPsk: (pskId: string) => Uint8Array | undefined;
  /** The server's Unix time in ms. */
  readonly nowMs: number;
  /** Allowed |timestamp − now|. */
  readonly clockSkewMs: number;
  readonly replayCache: ReplayCache;
  /** 16 random bytes. */
  readonly sessionId: Uint8Array;
  readonly heartbeatIntervalMs: number;
  readonly idleTimeoutMs: number;
}

/** What the server sends back and keeps. */
export interface AcceptedHandshake {
  /** The whole ServerHello frame. */
  readonly serverHello: Uint8Array;
  readonly keys: SessionKeys;
}

/**
 * Validate a ClientHello in the contract's order (version, psk id, decrypt,
 * clock skew, replay) and build the ServerHello.
 * @throws {HandshakeError} on any rejection: the caller closes without a byte.
 */
export async function acceptClientHello(
  backend: CryptoBackend,
  frame: Frame,
  options: ServerHandshakeOptions,
): Promise<AcceptedHandshake> {
  if (options.sessionId.length !== 16) throw new RangeError("sessionId must be 16 bytes");
  const b = frame.body;
  if (frame.type !== PacketType.ClientHello || b.length < 2) throw new HandshakeError("malformed");
  if (b[0] !== PROTOCOL_VERSION) throw new HandshakeError("version");
  const idLen = b[1];
  if (idLen > MAX_PSK_ID_BYTES || b.length < 2 + idLen + 32 + 16 + 8) {
    throw new HandshakeError("malformed");
  }
  const pskIdBytes = b.subarray(2, 2 + idLen);
  const pskId = decodeUtf8Strict(pskIdBytes);
  if (pskId === undefined) throw new HandshakeError("unknown_psk_id");
  const psk = options.lookupPsk(pskId);
  if (!psk) throw new HandshakeError("unknown_psk_id");
  const hs = await HandshakeState.initialize(backend, {
    protocolName: NOISE_PROTOCOL_NAME,
    initiator: false,
    prologue: prologue(pskIdBytes),
    psks: [psk],
    fixedEphemeralForTestingOnly: options.fixedEphemeralForTestingOnly,
  });
  try {
    // <- psk, e
    let payload: Uint8Array;
    try {
      payload = await hs.readMessage(b.subarray(2 + idLen));
    } catch (cause) {
      throw new HandshakeError("decrypt", { cause });
    }
    if (payload.length < 8) throw new HandshakeError("malformed");
    const ts = Number(
      new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0),
    );
    if (Math.abs(ts - options.nowMs) > options.clockSkewMs) throw new HandshakeError("clock_skew");
    const admitted = options.replayCache.admit(
      toHex(hs.remoteEphemeral!),
      ts + options.clockSkewMs,
      options.nowMs,
    );
    if (admitted === "replay") throw new HandshakeError("replay");
    if (admitted === "full") throw new HandshakeError("replay_cache_full");
    const sp = new Uint8Array(24);
    sp.set(options.sessionId);
    const dv = new DataView(sp.buffer);
    dv.setUint32(16, options.heartbeatIntervalMs);
    dv.setUint32(20, options.idleTimeoutMs);
    // -> e, ee
    const msg2 = await hs.writeMessage(sp);
    const serverHello = encodeFrame(
      PacketType.ServerHello,
      concat(new Uint8Array([PROTOCOL_VERSION]), msg2),
    );
    const keys = await finishKeys(backend, hs, false, {
      sessionId: options.sessionId.slice(),
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      idleTimeoutMs: options.idleTimeoutMs,
      pskId,
    }, options);
    return { serverHello, keys };
  } catch (e) {
    hs.destroy();
    // Everything after decryption (e.g. a small-order `e` failing the DH) is a
    // refusal too: the documented contract is HandshakeError, nothing else.
    if (e instanceof HandshakeError) throw e;
    throw new HandshakeError("malformed", { cause: e });
  }
}

async function finishKeys(
  backend: CryptoBackend,
  hs: HandshakeState,
  initiator: boolean,
  info: Pick<SessionKeys, "sessionId" | "heartbeatIntervalMs" | "idleTimeoutMs" | "pskId">,
  options: CommonOptions,
): Promise<SessionKeys> {
  const { k1, k2, handshakeHash, chainingKey } = await hs.splitRaw();
  const [macC2sRaw, macS2cRaw] = await deriveMacKeys(backend, chainingKey);
  chainingKey.fill(0);
  options.onRawKeysForTestingOnly?.({
    c2sKey: k1.slice(),
    s2cKey: k2.slice(),
    macC2s: macC2sRaw.slice(),
    macS2c: macS2cRaw.slice(),
  });
  const c2s = await backend.importAeadKey(k1);
  const s2c = await backend.importAeadKey(k2);
  const macC2s = await backend.importMacKey(macC2sRaw);
  const macS2c = await backend.importMacKey(macS2cRaw);
  for (const raw of [k1, k2, macC2sRaw, macS2cRaw]) raw.fill(0);
  const t = { rekeyAfterFrames: options.rekeyAfterFrames };
  return {
    sender: initiator
      ? new TransportSender(backend, c2s, macC2s, t)
      : new TransportSender(backend, s2c, macS2c, t),
    receiver: initiator
      ? new TransportReceiver(backend, s2c, macS2c)
      : new TransportReceiver(backend, c2s, macC2s),
    handshakeHash,
    ...info,
  };
}
