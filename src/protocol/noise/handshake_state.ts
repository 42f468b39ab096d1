/**
 * Noise HandshakeState (Noise rev 34 §5.3), driven by pattern data so every
 * pattern of patterns.ts runs through the same code.
 */

import { ProtocolError } from "../../errors.ts";
import { concat } from "../../util/mod.ts";
import { CipherState } from "./cipher_state.ts";
import type { CryptoBackend, X25519KeyPair } from "./crypto.ts";
import { type HandshakePattern, isOneWay, parseProtocolName } from "./patterns.ts";
import { SymmetricState } from "./symmetric_state.ts";

const DHLEN = 32;

/** Options for {@linkcode HandshakeState.initialize}. */
export interface HandshakeOptions {
  readonly protocolName: string;
  readonly initiator: boolean;
  readonly prologue?: Uint8Array;
  /** Local static key pair (`s`). */
  readonly s?: X25519KeyPair;
  /** Remote static public key known in advance (`rs`). */
  readonly rs?: Uint8Array;
  /** Pre-shared keys, consumed in order by `psk` tokens. */
  readonly psks?: readonly Uint8Array[];
  /** Fixed ephemeral key pair: for test vectors only, never in production. */
  readonly fixedEphemeralForTestingOnly?: X25519KeyPair;
}

/** What a finished handshake yields. */
export interface HandshakeSplit {
  /** Initiator → responder CipherState. */
  readonly c1: CipherState;
  /** Responder → initiator CipherState (unused by one-way patterns). */
  readonly c2: CipherState;
  /** The final handshake hash `h`. */
  readonly handshakeHash: Uint8Array;
  /** The final chaining key `ck` (secret: wipe after use). */
  readonly chainingKey: Uint8Array;
}

/** Noise HandshakeState. */
export class HandshakeState {
  readonly #backend: CryptoBackend;
  readonly #ss: SymmetricState;
  readonly #pattern: HandshakePattern;
  readonly #initiator: boolean;
  #s: X25519KeyPair | undefined;
  #e: X25519KeyPair | undefined;
  #rs: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  #psks: Uint8Array[];
  #msg = 0;
  #fixedE: X25519KeyPair | undefined;

  private constructor(
    backend: CryptoBackend,
    ss: SymmetricState,
    pattern: HandshakePattern,
    o: HandshakeOptions,
  ) {
    this.#backend = backend;
    this.#ss = ss;
    this.#pattern = pattern;
    this.#initiator = o.initiator;
    this.#s = o.s;
    this.#rs = o.rs;
    this.#psks = (o.psks ?? []).map((p) => p.slice());
    this.#fixedE = o.fixedEphemeralForTestingOnly;
  }

  /** Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) (§5.3). */
  static async initialize(backend: CryptoBackend, o: HandshakeOptions): Promise<HandshakeState> {
    const { pattern } = parseProtocolName(o.protocolName);
    const ss = await SymmetricState.initialize(backend, o.protocolName);
    const hs = new HandshakeState(backend, ss, pattern, o);
    await ss.mixHash(o.prologue ?? new Uint8Array(0));
    // Pre-messages: initiator's first, then responder's (§7.1). Only `s` occurs.
    for (const t of pattern.initiatorPre) {
      const key = o.initiator ? o.s?.publicKey : o.rs;
      if (t !== "s" || !key) throw new RangeError("Missing initiator pre-message static key");
      await ss.mixHash(key);
    }
    for (const t of pattern.responderPre) {
      const key = o.initiator ? o.rs : o.s?.publicKey;
      if (t !== "s" || !key) throw new RangeError("Missing responder pre-message static key");
      await ss.mixHash(key);
    }
    return hs;
  }

  /** True when all handshake messages have been processed. */
  get finished(): boolean {
    return this.#msg >= this.#pattern.messages.length;
  }

  /** True when the next message is ours to write. */
  get isMyTurn(): boolean {
    if (isOneWay(this.#pattern)) return this.#initiator;
    return (this.#msg % 2 === 0) === this.#initiator;
  }

  /** The current handshake hash. */
  get handshakeHash(): Uint8Array {
    return this.#ss.handshakeHash;
  }

  /** The remote ephemeral public key, once received. */
  get remoteEphemeral(): Uint8Array | undefined {
    return this.#re;
  }

  /** WriteMessage(payload, message_buffer) (§5.3). */
  async writeMessage(payload: Uint8Array): Promise<Uint8Array> {
    if (this.finished || !this.isMyTurn) {
      throw new ProtocolError("TRANSPORT_STATE", "Cannot write handshake message: not our turn");
    }
    const parts: Uint8Array[] = [];
    for (const t of this.#pattern.messages[this.#msg]) {
      switch (t) {
        case "e": { // -> e
          this.#e = this.#fixedE ?? await this.#backend.generateX25519();
          parts.push(this.#e.publicKey);
          await this.#ss.mixHash(this.#e.publicKey);
          if (this.#pattern.hasPsk) await this.#ss.mixKey(this.#e.publicKey); // §9.3
          break;
        }
        case "s": { // -> s
          if (!this.#s) throw new RangeError("Pattern needs a local static key");
          parts.push(await this.#ss.encryptAndHash(this.#s.publicKey));
          break;
        }
        case "psk":
          await this.#ss.mixKeyAndHash(this.#nextPsk());
          break;
        default:
          await this.#dhToken(t);
      }
    }
    parts.push(await this.#ss.encryptAndHash(payload));
    this.#msg++;
    return concat(...parts);
  }

  /**
   * ReadMessage(message, payload_buffer) (§5.3).
   * @throws {ProtocolError} `HANDSHAKE_FAILED` on a short message, a bad tag or
   * an invalid public key.
   */
  async readMessage(message: Uint8Array): Promise<Uint8Array> {
    if (this.finished || this.isMyTurn) {
      throw new ProtocolError("TRANSPORT_STATE", "Cannot read handshake message: not their turn");
    }
    let pos = 0;
    const take = (n: number): Uint8Array => {
      if (message.length - pos < n) {
        throw new ProtocolError("HANDSHAKE_FAILED", "Handshake message too short");
      }
      const out = message.subarray(pos, pos + n);
      pos += n;
      return out;
    };
    for (const t of this.#pattern.messages[this.#msg]) {
      switch (t) {
        case "e": { // <- e
          this.#re = take(DHLEN).slice();
          await this.#ss.mixHash(this.#re);
          if (this.#pattern.hasPsk) await this.#ss.mixKey(this.#re); // §9.3
          break;
        }
        case "s": { // <- s
          const len = this.#ss.cipher.hasKey() ? DHLEN + 16 : DHLEN;
          this.#rs = await this.#ss.decryptAndHash(take(len));
          break;
        }
        case "psk":
          await this.#ss.mixKeyAndHash(this.#nextPsk());
          break;
        default:
          await this.#dhToken(t);
      }
    }
    const payload = await this.#ss.decryptAndHash(message.subarray(pos));
    this.#msg++;
    return payload;
  }

  /** Split() once finished. The HandshakeState must not be used afterwards. */
  async split(): Promise<HandshakeSplit> {
    const { k1, k2, handshakeHash, chainingKey } = await this.splitRaw();
    const c1 = new CipherState(this.#backend);
    const c2 = new CipherState(this.#backend);
    await c1.initializeKey(k1);
    await c2.initializeKey(k2);
    k1.fill(0);
    k2.fill(0);
    return { c1, c2, handshakeHash, chainingKey };
  }

  /**
   * Split() returning the raw transport keys (initiator→responder first), for
   * callers that import them into their own key handles. The caller wipes
   * `k1`, `k2` and `chainingKey`.
   */
  async splitRaw(): Promise<
    { k1: Uint8Array; k2: Uint8Array; handshakeHash: Uint8Array; chainingKey: Uint8Array }
  > {
    if (!this.finished) throw new ProtocolError("TRANSPORT_STATE", "Handshake not finished");
    const [k1, k2] = await this.#ss.splitRaw();
    const out = {
      k1,
      k2,
      handshakeHash: this.#ss.handshakeHash,
      chainingKey: this.#ss.chainingKey,
    };
    this.destroy();
    return out;
  }

  /** Wipe secrets held by the handshake (ck, psks). */
  destroy(): void {
    this.#ss.destroy();
    for (const p of this.#psks) p.fill(0);
    this.#psks = [];
  }

  #nextPsk(): Uint8Array {
    const psk = this.#psks.shift();
    if (!psk || psk.length !== 32) throw new RangeError("Pattern needs a 32-byte psk");
    return psk;
  }

  // Token "xy": the initiator contributes its x key, the responder its y key (§7.1).
  async #dhToken(t: "ee" | "es" | "se" | "ss"): Promise<void> {
    const mine = this.#initiator ? t[0] : t[1];
    const theirs = this.#initiator ? t[1] : t[0];
    const local = mine === "e" ? this.#e : this.#s;
    const remote = theirs === "e" ? this.#re : this.#rs;
    if (!local || !remote) throw new RangeError(`Missing key for token ${t}`);
    let shared: Uint8Array;
    try {
      shared = await this.#backend.x25519(local.privateKey, remote);
    } catch (cause) {
      throw new ProtocolError("HANDSHAKE_FAILED", "Invalid public key", { cause });
    }
    await this.#ss.mixKey(shared);
    shared.fill(0);
  }
}
