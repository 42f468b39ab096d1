/**
 * A synchronous {@linkcode CryptoBackend} on Deno's built-in `node:crypto`.
 *
 * Faster than WebCrypto (no promise per call, no per-call key import) and
 * always available in Deno, so it is the fallback when system libcrypto
 * cannot be loaded through FFI.
 *
 * @module
 */

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import {
  type AeadKey,
  type CryptoBackend,
  type MacKey,
  PKCS8_X25519_PREFIX,
  type X25519KeyPair,
  type X25519Private,
} from "../protocol/mod.ts";

const KEY_LEN = 32;
const NONCE_LEN = 12;
const TAG_LEN = 16;

// RFC 8410 DER prefixes: PKCS#8 for a raw X25519 private key, SPKI for a raw
// public key. Wrapping raw bytes in DER is the only import path node:crypto
// offers for raw X25519 keys.
const SPKI_X25519_PREFIX = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x03,
  0x21,
  0x00,
]);

/** Holds a `KeyObject` until `destroyKey`; `#private` so nothing else reads it. */
class NodeKey<K extends "aead" | "mac" | "x25519"> {
  readonly kind: K;
  #key: KeyObject | undefined;

  constructor(kind: K, key: KeyObject) {
    this.kind = kind;
    this.#key = key;
  }

  get key(): KeyObject {
    if (this.#key === undefined) throw new Error(`node: ${this.kind} key was destroyed`);
    return this.#key;
  }

  /** KeyObjects cannot be wiped from JS; dropping the reference lets GC free them. */
  destroy(): void {
    this.#key = undefined;
  }
}

function keyOf(key: AeadKey | MacKey | X25519Private, kind: "aead" | "mac" | "x25519"): KeyObject {
  // A key from another backend would otherwise fail deep inside node:crypto
  // with a confusing message.
  if (!(key instanceof NodeKey) || key.kind !== kind) {
    throw new TypeError(`node: expected a ${kind} key created by this backend`);
  }
  return key.key;
}

/**
 * A `Buffer` as a plain `Uint8Array`. Reuses the memory when the Buffer owns
 * its whole ArrayBuffer; copies when it is a slice of Node's shared pool, so
 * callers that wipe or transfer the result never touch unrelated bytes.
 */
function plain(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}

function checkLen(what: string, bytes: Uint8Array, len: number): void {
  if (bytes.length !== len) throw new RangeError(`node: ${what} must be ${len} bytes`);
}

function rawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  if (der.length !== SPKI_X25519_PREFIX.length + KEY_LEN) {
    throw new Error("node: unexpected X25519 SPKI encoding");
  }
  return new Uint8Array(der.subarray(SPKI_X25519_PREFIX.length));
}

function pair(privateKey: KeyObject, publicKey: KeyObject): X25519KeyPair {
  return { publicKey: rawPublic(publicKey), privateKey: new NodeKey("x25519", privateKey) };
}

/**
 * `node:crypto` backend. Every method returns synchronously; keys are
 * `KeyObject`s so raw bytes are copied once into native memory at import.
 *
 * @example
 * ```ts
 * import { nodeCryptoBackend } from "./node_backend.ts";
 *
 * const key = await nodeCryptoBackend.importAeadKey(new Uint8Array(32));
 * const nonce = new Uint8Array(12);
 * const aad = new Uint8Array(0);
 * const sealed = await nodeCryptoBackend.seal(key, nonce, aad, new TextEncoder().encode("hi"));
 * const opened = await nodeCryptoBackend.open(key, nonce, aad, sealed);
 * console.log(new TextDecoder().decode(opened!)); // "hi"
 * ```
 */
export const nodeCryptoBackend: CryptoBackend = {
  name: "node",

  sha256(data) {
    return plain(createHash("sha256").update(data).digest());
  },

  hmacSha256(key, data) {
    return plain(createHmac("sha256", key).update(data).digest());
  },

  generateX25519() {
    const kp = generateKeyPairSync("x25519");
    return pair(kp.privateKey, kp.publicKey);
  },

  importX25519(raw) {
    checkLen("X25519 private key", raw, KEY_LEN);
    const pkcs8 = new Uint8Array(PKCS8_X25519_PREFIX.length + KEY_LEN);
    pkcs8.set(PKCS8_X25519_PREFIX);
    pkcs8.set(raw, PKCS8_X25519_PREFIX.length);
    try {
      const priv = createPrivateKey({ key: pkcs8 as Buffer, format: "der", type: "pkcs8" });
      return pair(priv, createPublicKey(priv));
    } finally {
      // Our DER copy holds the private key; the caller wipes only its own bytes.
      pkcs8.fill(0);
    }
  },

  x25519(privateKey, peerPublic) {
    checkLen("X25519 public key", peerPublic, KEY_LEN);
    const spki = new Uint8Array(SPKI_X25519_PREFIX.length + KEY_LEN);
    spki.set(SPKI_X25519_PREFIX);
    spki.set(peerPublic, SPKI_X25519_PREFIX.length);
    const priv = keyOf(privateKey, "x25519");
    let shared: Uint8Array;
    try {
      const publicKey = createPublicKey({ key: spki as Buffer, format: "der", type: "spki" });
      shared = plain(diffieHellman({ privateKey: priv, publicKey }));
    } catch (e) {
      // OpenSSL refuses to return the all-zero secret of a small-order point
      // ("failed during derivation"); surface it the way the contract says.
      throw new RangeError("X25519 produced the all-zero value or the public key is invalid", {
        cause: e,
      });
    }
    // Not every OpenSSL build rejects small-order points itself.
    let acc = 0;
    for (let i = 0; i < shared.length; i++) acc |= shared[i];
    if (acc === 0) throw new RangeError("X25519 produced the all-zero value");
    return shared;
  },

  importAeadKey(raw) {
    checkLen("AES-256-GCM key", raw, KEY_LEN);
    return new NodeKey("aead", createSecretKey(raw));
  },

  seal(key, nonce, aad, plaintext) {
    checkLen("AES-GCM nonce", nonce, NONCE_LEN);
    const cipher = createCipheriv("aes-256-gcm", keyOf(key, "aead"), nonce, {
      authTagLength: TAG_LEN,
    });
    if (aad.length > 0) cipher.setAAD(aad);
    const out = new Uint8Array(plaintext.length + TAG_LEN);
    const body = cipher.update(plaintext);
    out.set(body);
    // GCM is a stream mode: final() emits nothing, but read it so a polyfill
    // that buffers would still produce correct output.
    const rest = cipher.final();
    out.set(rest, body.length);
    if (body.length + rest.length !== plaintext.length) {
      throw new Error("node: AES-GCM produced an unexpected ciphertext length");
    }
    out.set(cipher.getAuthTag(), plaintext.length);
    return out;
  },

  open(key, nonce, aad, ciphertext) {
    checkLen("AES-GCM nonce", nonce, NONCE_LEN);
    const k = keyOf(key, "aead");
    if (ciphertext.length < TAG_LEN) return null;
    const bodyLen = ciphertext.length - TAG_LEN;
    let body: Uint8Array | undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", k, nonce, { authTagLength: TAG_LEN });
      decipher.setAuthTag(ciphertext.subarray(bodyLen));
      if (aad.length > 0) decipher.setAAD(aad);
      body = decipher.update(ciphertext.subarray(0, bodyLen));
      const rest = decipher.final();
      if (rest.length === 0) return plain(body);
      const out = new Uint8Array(body.length + rest.length);
      out.set(body);
      out.set(rest, body.length);
      return out;
    } catch {
      // Unauthenticated plaintext must not linger in memory.
      body?.fill(0);
      return null;
    }
  },

  importMacKey(raw) {
    // HMAC is defined for any key length; Noise only ever passes 32 bytes.
    return new NodeKey("mac", createSecretKey(raw));
  },

  mac(key, data) {
    return plain(createHmac("sha256", keyOf(key, "mac")).update(data).digest());
  },

  destroyKey(key) {
    if (key instanceof NodeKey) key.destroy();
  },
};
