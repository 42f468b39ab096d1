/**
 * Transport frames (protocol-v1 §3): `nonce (12) || AES-256-GCM(header-as-AAD,
 * request_id || payload) || HMAC(header || nonce || ciphertext)`.
 *
 * One {@linkcode TransportSender} and one {@linkcode TransportReceiver} per
 * direction. With a synchronous backend every call completes synchronously
 * (no promise per frame); with WebCrypto the same code returns promises.
 * Frames must be sealed and opened strictly in order: callers await a
 * returned promise before the next call.
 */

import { ProtocolError } from "../errors.ts";
import { timingSafeEqual, utf8 } from "../util/mod.ts";
import {
  DEFAULT_REKEY_AFTER_FRAMES,
  HEADER_BYTES,
  MAC_BYTES,
  MAC_LABEL,
  MAC_REKEY_LABEL,
  MAX_PAYLOAD_BYTES,
  NONCE_BYTES,
  REQUEST_ID_BYTES,
  TAG_BYTES,
} from "./constants.ts";
import type { Frame } from "./frame.ts";
import { writeHeader } from "./frame.ts";
import { PacketType } from "./packet.ts";
import { rekeyRaw, writeNonce } from "./noise/cipher_state.ts";
import type { AeadKey, CryptoBackend, MacKey, MaybePromise } from "./noise/crypto.ts";
import { hkdf } from "./noise/symmetric_state.ts";

/** A decrypted transport message. */
export interface Message {
  readonly type: number;
  readonly requestId: number;
  /** A view; valid until the caller drops it (never reused by us). */
  readonly payload: Uint8Array;
}

/** Raw key material of one session, exposed only through a testing hook. */
export interface RawSessionKeys {
  readonly c2sKey: Uint8Array;
  readonly s2cKey: Uint8Array;
  readonly macC2s: Uint8Array;
  readonly macS2c: Uint8Array;
}

const MAC_LABEL_BYTES = utf8(MAC_LABEL);
const MAC_REKEY_LABEL_BYTES = utf8(MAC_REKEY_LABEL);
const ONE = new Uint8Array([0x01]);

/**
 * HMAC trailer keys from the final chaining key (protocol-v1 §2):
 * t = HMAC(ck, label); mac_c2s = HMAC(t, 0x01); mac_s2c = HMAC(t, mac_c2s || 0x02).
 * That is exactly Noise's HKDF(ck, label, 2).
 */
export async function deriveMacKeys(
  backend: CryptoBackend,
  chainingKey: Uint8Array,
): Promise<[Uint8Array, Uint8Array]> {
  const [c2s, s2c] = await hkdf(backend, chainingKey, MAC_LABEL_BYTES, 2);
  return [c2s, s2c];
}

/** mac' = HMAC(HMAC(mac, "somnytoo v1 rekey"), 0x01) as raw bytes (protocol-v1 §3). */
export async function rekeyMacRaw(backend: CryptoBackend, mac: MacKey): Promise<Uint8Array> {
  const t = await backend.mac(mac, MAC_REKEY_LABEL_BYTES);
  const next = await backend.hmacSha256(t, ONE);
  t.fill(0);
  return next;
}

/** Rekey both keys of a direction; returns the new handles, destroying the old. */
async function rekeyDirection(
  backend: CryptoBackend,
  key: AeadKey,
  mac: MacKey,
): Promise<[AeadKey, MacKey]> {
  const rawK = await rekeyRaw(backend, key);
  const rawM = await rekeyMacRaw(backend, mac);
  const nk = await backend.importAeadKey(rawK);
  const nm = await backend.importMacKey(rawM);
  rawK.fill(0);
  rawM.fill(0);
  backend.destroyKey?.(key);
  backend.destroyKey?.(mac);
  return [nk, nm];
}

/** Options shared by sender and receiver. */
export interface TransportOptions {
  /** Frames after which the sender wants a KeyUpdate. @default 2^24 */
  readonly rekeyAfterFrames?: number;
}

/** Seals this side's outgoing frames. */
export class TransportSender {
  readonly #backend: CryptoBackend;
  #key: AeadKey;
  #mac: MacKey;
  #n = 0;
  #sinceRekey = 0;
  readonly #rekeyAfter: number;
  readonly #idBytes = new Uint8Array(REQUEST_ID_BYTES);
  #destroyed = false;

  constructor(backend: CryptoBackend, key: AeadKey, mac: MacKey, options: TransportOptions = {}) {
    this.#backend = backend;
    this.#key = key;
    this.#mac = mac;
    this.#rekeyAfter = options.rekeyAfterFrames ?? DEFAULT_REKEY_AFTER_FRAMES;
  }

  /** Frames sealed so far (the next nonce counter). */
  get framesSent(): number {
    return this.#n;
  }

  /** True when the rekey threshold is reached and a KeyUpdate should go next. */
  get needsRekey(): boolean {
    return this.#sinceRekey >= this.#rekeyAfter;
  }

  /**
   * Seal one frame. For a KeyUpdate, the returned frame is sealed under the
   * current keys and the keys are replaced before the next call may proceed
   * (the result is then always a promise).
   * @throws {RangeError} if the payload exceeds 65 470 bytes.
   */
  seal(type: number, requestId: number, payload: Uint8Array): MaybePromise<Uint8Array> {
    if (this.#destroyed) throw new ProtocolError("TRANSPORT_STATE", "Cannot seal: session closed");
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new RangeError(
        `Cannot seal frame: payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`,
      );
    }
    const ptLen = REQUEST_ID_BYTES + payload.length;
    const ctLen = ptLen + TAG_BYTES;
    const macAt = HEADER_BYTES + NONCE_BYTES + ctLen;
    const frame = new Uint8Array(macAt + MAC_BYTES);
    writeHeader(frame, 0, type, NONCE_BYTES + ctLen + MAC_BYTES);
    writeNonce(frame, HEADER_BYTES, this.#n++);
    this.#sinceRekey++;
    const b = this.#backend;
    if (b.sealInto && b.macInto && type !== PacketType.KeyUpdate) {
      // Fast path: ciphertext and mac written straight into the frame.
      const id = this.#idBytes;
      id[0] = requestId >>> 24;
      id[1] = (requestId >>> 16) & 0xff;
      id[2] = (requestId >>> 8) & 0xff;
      id[3] = requestId & 0xff;
      b.sealInto(
        this.#key,
        frame.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES),
        frame.subarray(0, HEADER_BYTES),
        id,
        payload,
        frame,
        HEADER_BYTES + NONCE_BYTES,
      );
      b.macInto(this.#mac, frame.subarray(0, macAt), frame, macAt);
      return frame;
    }
    const pt = new Uint8Array(ptLen);
    pt[0] = requestId >>> 24;
    pt[1] = (requestId >>> 16) & 0xff;
    pt[2] = (requestId >>> 8) & 0xff;
    pt[3] = requestId & 0xff;
    pt.set(payload, REQUEST_ID_BYTES);
    const ct = this.#backend.seal(
      this.#key,
      frame.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES),
      frame.subarray(0, HEADER_BYTES),
      pt,
    );
    const finish = (c: Uint8Array): MaybePromise<Uint8Array> => {
      frame.set(c, HEADER_BYTES + NONCE_BYTES);
      const m = this.#backend.mac(this.#mac, frame.subarray(0, macAt));
      if (m instanceof Promise) {
        return m.then((mm) => {
          frame.set(mm, macAt);
          return frame;
        });
      }
      frame.set(m, macAt);
      return frame;
    };
    const out = ct instanceof Promise ? ct.then(finish) : finish(ct);
    if (type === PacketType.KeyUpdate) {
      return Promise.resolve(out).then(async (f) => {
        [this.#key, this.#mac] = await rekeyDirection(this.#backend, this.#key, this.#mac);
        this.#sinceRekey = 0;
        return f;
      });
    }
    return out;
  }

  /** Destroy the keys; further seals throw. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#backend.destroyKey?.(this.#key);
    this.#backend.destroyKey?.(this.#mac);
  }
}

/** Verifies and opens the peer's frames, in order. */
export class TransportReceiver {
  readonly #backend: CryptoBackend;
  #key: AeadKey;
  #mac: MacKey;
  #n = 0;
  readonly #nonce = new Uint8Array(NONCE_BYTES);
  #destroyed = false;

  constructor(backend: CryptoBackend, key: AeadKey, mac: MacKey) {
    this.#backend = backend;
    this.#key = key;
    this.#mac = mac;
  }

  /** Frames accepted so far. */
  get framesReceived(): number {
    return this.#n;
  }

  /**
   * Check the mac (constant time), then the nonce, then decrypt (§3). A
   * KeyUpdate rekeys this direction before the returned value resolves.
   * @throws {ProtocolError} `TRANSPORT_AUTH_FAILED` or `TRANSPORT_BAD_NONCE`;
   * the connection must then be closed without an answer.
   */
  open(frame: Frame): MaybePromise<Message> {
    if (this.#destroyed) throw new ProtocolError("TRANSPORT_STATE", "Cannot open: session closed");
    const bytes = frame.bytes;
    const macAt = bytes.length - MAC_BYTES;
    const m = this.#backend.mac(this.#mac, bytes.subarray(0, macAt));
    return m instanceof Promise
      ? m.then((mm) => this.#afterMac(frame, mm, macAt))
      : this.#afterMac(frame, m, macAt);
  }

  #afterMac(frame: Frame, expected: Uint8Array, macAt: number): MaybePromise<Message> {
    const bytes = frame.bytes;
    if (!timingSafeEqual(expected, bytes.subarray(macAt))) {
      throw new ProtocolError("TRANSPORT_AUTH_FAILED", "Frame MAC does not verify");
    }
    writeNonce(this.#nonce, 0, this.#n);
    const nonce = bytes.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
    for (let i = 0; i < NONCE_BYTES; i++) {
      if (nonce[i] !== this.#nonce[i]) {
        throw new ProtocolError("TRANSPORT_BAD_NONCE", "Frame nonce out of sequence");
      }
    }
    const pt = this.#backend.open(
      this.#key,
      this.#nonce,
      frame.header,
      bytes.subarray(HEADER_BYTES + NONCE_BYTES, macAt),
    );
    return pt instanceof Promise
      ? pt.then((p) => this.#afterOpen(frame.type, p))
      : this.#afterOpen(frame.type, pt);
  }

  #afterOpen(type: number, pt: Uint8Array | null): MaybePromise<Message> {
    if (pt === null) throw new ProtocolError("TRANSPORT_AUTH_FAILED", "Frame does not decrypt");
    this.#n++;
    const requestId = ((pt[0] << 24) | (pt[1] << 16) | (pt[2] << 8) | pt[3]) >>> 0;
    const msg: Message = { type, requestId, payload: pt.subarray(REQUEST_ID_BYTES) };
    if (type === PacketType.KeyUpdate) {
      return rekeyDirection(this.#backend, this.#key, this.#mac).then(([k, m]) => {
        this.#key = k;
        this.#mac = m;
        return msg;
      });
    }
    return msg;
  }

  /** Destroy the keys; further opens throw. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#backend.destroyKey?.(this.#key);
    this.#backend.destroyKey?.(this.#mac);
  }
}
