/**
 * The one seam between the Noise core and a cryptography implementation.
 *
 * Everything above this file (CipherState, SymmetricState, HandshakeState,
 * the transport) is written against {@linkcode CryptoBackend}. The portable
 * backend here uses WebCrypto only; faster backends (`node:crypto`, system
 * libcrypto through FFI) live in `src/crypto/` because they need more than a
 * browser-like runtime. Every backend must be byte-identical on the test
 * vectors (tests/crypto/).
 *
 * @module
 */

/** A value, or a promise of it: sync backends skip promise allocation. */
export type MaybePromise<T> = T | Promise<T>;

/** Opaque AES-256-GCM key held by a backend. */
export interface AeadKey {
  readonly kind: "aead";
}
/** Opaque HMAC-SHA256 key held by a backend. */
export interface MacKey {
  readonly kind: "mac";
}
/** Opaque X25519 private key held by a backend. */
export interface X25519Private {
  readonly kind: "x25519";
}
/** An X25519 key pair: raw 32-byte public key + opaque private key. */
export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: X25519Private;
}

/**
 * The primitives of `Noise_*_25519_AESGCM_SHA256` plus the HMAC trailer of
 * protocol v1. Methods may return values synchronously or as promises;
 * callers always `await`.
 *
 * Contract for implementers:
 * - `seal` returns `ciphertext || tag` (plaintext length + 16);
 * - `open` returns the plaintext, or `null` when authentication fails
 *   (never throws for a forged input);
 * - `x25519` throws if the result is the all-zero value (small-order point);
 * - `import*` functions copy what they need: the caller wipes its raw bytes.
 */
export interface CryptoBackend {
  /** Short name for logs and benchmarks: "webcrypto", "node", "libcrypto". */
  readonly name: string;
  /** SHA-256 of `data`. */
  sha256(data: Uint8Array): MaybePromise<Uint8Array>;
  /** HMAC-SHA256 with a raw key (Noise HKDF, where keys change every call). */
  hmacSha256(key: Uint8Array, data: Uint8Array): MaybePromise<Uint8Array>;
  /** A fresh random X25519 key pair. */
  generateX25519(): MaybePromise<X25519KeyPair>;
  /** An X25519 key pair from a known private key (test vectors only). */
  importX25519(privateKey: Uint8Array): MaybePromise<X25519KeyPair>;
  /** X25519(private, peerPublic): 32-byte shared secret. */
  x25519(privateKey: X25519Private, peerPublic: Uint8Array): MaybePromise<Uint8Array>;
  /** Import a 32-byte AES-256-GCM key. */
  importAeadKey(raw: Uint8Array): MaybePromise<AeadKey>;
  /** AES-256-GCM encrypt: returns ciphertext || 16-byte tag. */
  seal(
    key: AeadKey,
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ): MaybePromise<Uint8Array>;
  /** AES-256-GCM decrypt; `null` when the tag does not verify. */
  open(
    key: AeadKey,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
  ): MaybePromise<Uint8Array | null>;
  /** Import a 32-byte HMAC-SHA256 key for repeated use. */
  importMacKey(raw: Uint8Array): MaybePromise<MacKey>;
  /** HMAC-SHA256 of `data` under an imported key. */
  mac(key: MacKey, data: Uint8Array): MaybePromise<Uint8Array>;
  /**
   * Optional in-place seal (a synchronous backend's fast path): encrypts
   * `prefix || plaintext` and writes ciphertext || tag into `out` at
   * `offset`, so a transport frame is built without intermediate buffers.
   * Must produce exactly the bytes of `seal(key, nonce, aad, prefix || plaintext)`.
   */
  sealInto?(
    key: AeadKey,
    nonce: Uint8Array,
    aad: Uint8Array,
    prefix: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void;
  /** Optional in-place MAC: writes HMAC-SHA256(key, data) into `out` at `offset`. */
  macInto?(key: MacKey, data: Uint8Array, out: Uint8Array, offset: number): void;
  /** Release and wipe a key's material, where the backend holds any. */
  destroyKey?(key: AeadKey | MacKey | X25519Private): void;
}

/** RFC 8410 PKCS#8 prefix that wraps a raw 32-byte X25519 private key. */
export const PKCS8_X25519_PREFIX: Uint8Array = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);

interface WebAeadKey extends AeadKey {
  readonly key: CryptoKey;
}
interface WebMacKey extends MacKey {
  readonly key: CryptoKey;
}
interface WebX25519Private extends X25519Private {
  readonly key: CryptoKey;
}

const subtle = globalThis.crypto.subtle;

async function exportRawPublic(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle.exportKey("raw", key));
}

/**
 * The portable backend: WebCrypto only. Session keys are non-extractable
 * `CryptoKey`s, so their bytes never reach JavaScript after import.
 */
export const webCryptoBackend: CryptoBackend = {
  name: "webcrypto",
  async sha256(data) {
    return new Uint8Array(await subtle.digest("SHA-256", data as BufferSource));
  },
  async hmacSha256(key, data) {
    const k = await subtle.importKey(
      "raw",
      key as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new Uint8Array(await subtle.sign("HMAC", k, data as BufferSource));
  },
  async generateX25519() {
    const kp = await subtle.generateKey({ name: "X25519" }, true, [
      "deriveBits",
    ]) as CryptoKeyPair;
    const privateKey: WebX25519Private = { kind: "x25519", key: kp.privateKey };
    return { publicKey: await exportRawPublic(kp.publicKey), privateKey };
  },
  async importX25519(raw) {
    if (raw.length !== 32) throw new RangeError("X25519 private key must be 32 bytes");
    const pkcs8 = new Uint8Array(48);
    pkcs8.set(PKCS8_X25519_PREFIX);
    pkcs8.set(raw, 16);
    const key = await subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, true, ["deriveBits"]);
    pkcs8.fill(0);
    const jwk = await subtle.exportKey("jwk", key);
    const publicKey = base64UrlDecode(jwk.x!);
    const privateKey: WebX25519Private = { kind: "x25519", key };
    return { publicKey, privateKey };
  },
  async x25519(privateKey, peerPublic) {
    const pub = await subtle.importKey(
      "raw",
      peerPublic as BufferSource,
      { name: "X25519" },
      true,
      [],
    );
    const bits = new Uint8Array(
      await subtle.deriveBits(
        { name: "X25519", public: pub },
        (privateKey as WebX25519Private).key,
        256,
      ),
    );
    if (bits.every((b) => b === 0)) throw new RangeError("X25519 produced the all-zero value");
    return bits;
  },
  async importAeadKey(raw) {
    const key = await subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    const k: WebAeadKey = { kind: "aead", key };
    return k;
  },
  async seal(key, nonce, aad, plaintext) {
    return new Uint8Array(
      await subtle.encrypt(
        {
          name: "AES-GCM",
          iv: nonce as BufferSource,
          additionalData: aad as BufferSource,
          tagLength: 128,
        },
        (key as WebAeadKey).key,
        plaintext as BufferSource,
      ),
    );
  },
  async open(key, nonce, aad, ciphertext) {
    try {
      return new Uint8Array(
        await subtle.decrypt(
          {
            name: "AES-GCM",
            iv: nonce as BufferSource,
            additionalData: aad as BufferSource,
            tagLength: 128,
          },
          (key as WebAeadKey).key,
          ciphertext as BufferSource,
        ),
      );
    } catch {
      return null;
    }
  },
  async importMacKey(raw) {
    const key = await subtle.importKey(
      "raw",
      raw as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const k: WebMacKey = { kind: "mac", key };
    return k;
  },
  async mac(key, data) {
    return new Uint8Array(await subtle.sign("HMAC", (key as WebMacKey).key, data as BufferSource));
  },
};

function base64UrlDecode(s: string): Uint8Array {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
