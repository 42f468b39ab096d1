/** Noise SymmetricState (Noise rev 34 §5.2) with SHA-256 (HASHLEN 32). */

import { concat, utf8 } from "../../util/mod.ts";
import type { CryptoBackend } from "./crypto.ts";
import { CipherState } from "./cipher_state.ts";

const HASHLEN = 32;
const ONE = new Uint8Array([0x01]);

/**
 * HKDF(chaining_key, input_key_material, n) (Noise §4.3) with n = 2 or 3:
 * temp_key = HMAC(ck, ikm); o1 = HMAC(temp_key, 0x01);
 * o2 = HMAC(temp_key, o1 || 0x02); o3 = HMAC(temp_key, o2 || 0x03).
 */
export async function hkdf(
  backend: CryptoBackend,
  chainingKey: Uint8Array,
  ikm: Uint8Array,
  outputs: 2 | 3,
): Promise<Uint8Array[]> {
  const tempKey = await backend.hmacSha256(chainingKey, ikm);
  const o1 = await backend.hmacSha256(tempKey, ONE);
  const o2 = await backend.hmacSha256(tempKey, concat(o1, new Uint8Array([0x02])));
  const out = [o1, o2];
  if (outputs === 3) {
    out.push(await backend.hmacSha256(tempKey, concat(o2, new Uint8Array([0x03]))));
  }
  tempKey.fill(0);
  return out;
}

/** Noise SymmetricState. */
export class SymmetricState {
  readonly #backend: CryptoBackend;
  readonly cipher: CipherState;
  #ck: Uint8Array = new Uint8Array(HASHLEN);
  #h: Uint8Array = new Uint8Array(HASHLEN);

  private constructor(backend: CryptoBackend) {
    this.#backend = backend;
    this.cipher = new CipherState(backend);
  }

  /** InitializeSymmetric(protocol_name). */
  static async initialize(backend: CryptoBackend, protocolName: string): Promise<SymmetricState> {
    const s = new SymmetricState(backend);
    const name = utf8(protocolName);
    if (name.length <= HASHLEN) {
      s.#h.set(name); // padded with zeros
    } else {
      s.#h = await backend.sha256(name);
    }
    s.#ck = s.#h.slice();
    await s.cipher.initializeKey(undefined);
    return s;
  }

  /** The handshake hash `h` (a copy). */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** The chaining key `ck` (a copy; secret: wipe it after use). */
  get chainingKey(): Uint8Array {
    return this.#ck.slice();
  }

  /** MixKey(input_key_material). */
  async mixKey(ikm: Uint8Array): Promise<void> {
    const [ck, tempK] = await hkdf(this.#backend, this.#ck, ikm, 2);
    this.#ck.fill(0);
    this.#ck = ck;
    await this.cipher.initializeKey(tempK);
    tempK.fill(0);
  }

  /** MixHash(data). */
  async mixHash(data: Uint8Array): Promise<void> {
    this.#h = await this.#backend.sha256(concat(this.#h, data));
  }

  /** MixKeyAndHash(input_key_material), used for psk tokens. */
  async mixKeyAndHash(ikm: Uint8Array): Promise<void> {
    const [ck, tempH, tempK] = await hkdf(this.#backend, this.#ck, ikm, 3);
    this.#ck.fill(0);
    this.#ck = ck;
    await this.mixHash(tempH);
    await this.cipher.initializeKey(tempK);
    tempK.fill(0);
  }

  /** EncryptAndHash(plaintext). */
  async encryptAndHash(plaintext: Uint8Array): Promise<Uint8Array> {
    const ct = await this.cipher.encryptWithAd(this.#h, plaintext);
    await this.mixHash(ct);
    return ct;
  }

  /** DecryptAndHash(ciphertext). */
  async decryptAndHash(ciphertext: Uint8Array): Promise<Uint8Array> {
    const pt = await this.cipher.decryptWithAd(this.#h, ciphertext);
    await this.mixHash(ciphertext);
    return pt;
  }

  /**
   * Split(): the raw keys of the two transport CipherStates (initiator→responder
   * first). Returned raw so the caller can import them where it needs; the
   * caller wipes them.
   */
  async splitRaw(): Promise<[Uint8Array, Uint8Array]> {
    const [k1, k2] = await hkdf(this.#backend, this.#ck, new Uint8Array(0), 2);
    return [k1, k2];
  }

  /** Wipe ck and drop the handshake cipher. */
  destroy(): void {
    this.#ck.fill(0);
    this.cipher.destroy();
  }
}
