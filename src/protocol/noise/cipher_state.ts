/**
 * Noise CipherState (Noise rev 34 §5.1) for AESGCM: a key and a 64-bit nonce
 * counter. Nonces are 32 zero bits || big-endian u64(n) (§12.4), which is also
 * the 12-byte transport nonce of protocol-v1 §3.
 */

import { ProtocolError } from "../../errors.ts";
import type { AeadKey, CryptoBackend, MaybePromise } from "./crypto.ts";

/** 2^64 − 1 is reserved for REKEY (Noise §5.1), so the counter stops below it. */
const MAX_NONCE = 2 ** 53; // Number precision bound; far beyond any real session.

/** Write the 12-byte AESGCM nonce for counter `n` into `out` at `offset`. */
export function writeNonce(out: Uint8Array, offset: number, n: number): void {
  out[offset] = 0;
  out[offset + 1] = 0;
  out[offset + 2] = 0;
  out[offset + 3] = 0;
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  out[offset + 4] = hi >>> 24;
  out[offset + 5] = (hi >>> 16) & 0xff;
  out[offset + 6] = (hi >>> 8) & 0xff;
  out[offset + 7] = hi & 0xff;
  out[offset + 8] = lo >>> 24;
  out[offset + 9] = (lo >>> 16) & 0xff;
  out[offset + 10] = (lo >>> 8) & 0xff;
  out[offset + 11] = lo & 0xff;
}

/** The 12-byte nonce for counter `n`. */
export function nonceBytes(n: number): Uint8Array {
  const out = new Uint8Array(12);
  writeNonce(out, 0, n);
  return out;
}

// REKEY (Noise §4.2): ENCRYPT(k, maxnonce, zerolen, zeros) with maxnonce = 2^64 − 1.
const REKEY_NONCE = new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const EMPTY = new Uint8Array(0);

/**
 * REKEY(k) as raw bytes: the first 32 bytes of ENCRYPT(k, 2^64−1, ε, 0^32).
 * The caller imports and wipes them.
 */
export async function rekeyRaw(backend: CryptoBackend, key: AeadKey): Promise<Uint8Array> {
  const out = await backend.seal(key, REKEY_NONCE, EMPTY, new Uint8Array(32));
  const raw = out.slice(0, 32);
  out.fill(0);
  return raw;
}

/** Noise CipherState. */
export class CipherState {
  readonly #backend: CryptoBackend;
  #key: AeadKey | undefined;
  #n = 0;

  constructor(backend: CryptoBackend) {
    this.#backend = backend;
  }

  /** InitializeKey(key): imports a copy; the caller may wipe `raw` afterwards. */
  async initializeKey(raw: Uint8Array | undefined): Promise<void> {
    this.#destroy();
    this.#key = raw ? await this.#backend.importAeadKey(raw) : undefined;
    this.#n = 0;
  }

  /** HasKey(). */
  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The counter of the next operation. */
  get nonce(): number {
    return this.#n;
  }

  /** SetNonce(n). */
  setNonce(n: number): void {
    this.#n = n;
  }

  /** The backend key handle (for the transport's fused frame operations). */
  get key(): AeadKey | undefined {
    return this.#key;
  }

  /** EncryptWithAd(ad, plaintext): returns plaintext unchanged when there is no key. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): MaybePromise<Uint8Array> {
    if (!this.#key) return plaintext;
    const nonce = nonceBytes(this.#takeNonce());
    return this.#backend.seal(this.#key, nonce, ad, plaintext);
  }

  /**
   * DecryptWithAd(ad, ciphertext).
   * @throws {ProtocolError} when authentication fails (the nonce still advances
   * only on success, as Noise §5.1 requires).
   */
  async decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (!this.#key) return ciphertext;
    if (this.#n >= MAX_NONCE) throw new ProtocolError("NONCE_EXHAUSTED", "Nonce exhausted");
    const pt = await this.#backend.open(this.#key, nonceBytes(this.#n), ad, ciphertext);
    if (pt === null) throw new ProtocolError("HANDSHAKE_FAILED", "Cannot decrypt: bad tag");
    this.#n++;
    return pt;
  }

  /** Rekey() (Noise §4.2): k = REKEY(k); the counter continues. */
  async rekey(): Promise<void> {
    if (!this.#key) return;
    const raw = await rekeyRaw(this.#backend, this.#key);
    const n = this.#n;
    await this.initializeKey(raw);
    raw.fill(0);
    this.#n = n;
  }

  /** Drop the key (and let the backend wipe it). */
  destroy(): void {
    this.#destroy();
  }

  #takeNonce(): number {
    if (this.#n >= MAX_NONCE) throw new ProtocolError("NONCE_EXHAUSTED", "Nonce exhausted");
    return this.#n++;
  }

  #destroy(): void {
    if (this.#key) this.#backend.destroyKey?.(this.#key);
    this.#key = undefined;
  }
}
