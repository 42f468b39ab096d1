/**
 * A synchronous {@linkcode CryptoBackend} on the system OpenSSL 3 `libcrypto`
 * through `Deno.dlopen`: the fast path.
 *
 * Why FFI: per-call overhead dominates at Noise packet sizes. With one
 * long-lived `EVP_CIPHER_CTX` per key and direction (only the IV changes per
 * call) a 1 KiB AES-256-GCM seal costs about 1.5 µs, versus about 16 µs
 * through `node:crypto` (a new cipher object per call) and about 40 µs
 * through WebCrypto (a promise per call).
 *
 * Native memory: every key owns OpenSSL objects. `destroyKey` frees them at
 * once (OpenSSL cleanses key schedules on free); keys that are simply
 * dropped are freed by a `FinalizationRegistry`. The library is never
 * closed, because a late finaliser would otherwise call into unmapped code.
 *
 * Concurrency: a key's contexts are reused across calls, which is safe
 * because every call is synchronous (`nonblocking: false`) and keys cannot
 * cross to another worker.
 *
 * @module
 */

import type {
  AeadKey,
  CryptoBackend,
  MacKey,
  X25519KeyPair,
  X25519Private,
} from "../protocol/mod.ts";

const KEY_LEN = 32;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const HASH_LEN = 32;
const INT_MAX = 0x7fff_ffff;
// size_t arguments: BigInt keeps Deno's FFI on its fast-call path.
const KEY_LEN_N = 32n;
const HASH_LEN_N = 32n;

/** `EVP_PKEY_X25519` (= `NID_X25519`) from `openssl/evp.h`. */
const EVP_PKEY_X25519 = 1034;
/** `EVP_CTRL_AEAD_GET_TAG` / `EVP_CTRL_AEAD_SET_TAG` (alias the GCM names). */
const EVP_CTRL_GCM_GET_TAG = 0x10;
const EVP_CTRL_GCM_SET_TAG = 0x11;
/** OpenSSL 3.0.0 in `OPENSSL_VERSION_NUMBER` form (0xMNN00PP0L). */
const MIN_VERSION = 0x3000_0000;

// Every call is synchronous: the operations take microseconds, so handing
// them to a thread pool would cost more than it saves, and it keeps the
// reused per-key contexts free of interleaving.
const SYMBOLS = {
  OpenSSL_version_num: { parameters: [], result: "u64", nonblocking: false },
  ERR_clear_error: { parameters: [], result: "void", nonblocking: false },

  EVP_MD_fetch: {
    parameters: ["pointer", "buffer", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  EVP_Digest: {
    parameters: ["buffer", "usize", "buffer", "buffer", "pointer", "pointer"],
    result: "i32",
    nonblocking: false,
  },

  EVP_CIPHER_fetch: {
    parameters: ["pointer", "buffer", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer", nonblocking: false },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void", nonblocking: false },
  EVP_CIPHER_CTX_ctrl: {
    parameters: ["pointer", "i32", "i32", "buffer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_EncryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_EncryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
    nonblocking: false,
  },
  EVP_EncryptFinal_ex: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_DecryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_DecryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
    nonblocking: false,
  },
  EVP_DecryptFinal_ex: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: false,
  },

  EVP_MAC_fetch: {
    parameters: ["pointer", "buffer", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  EVP_MAC_CTX_new: { parameters: ["pointer"], result: "pointer", nonblocking: false },
  EVP_MAC_CTX_free: { parameters: ["pointer"], result: "void", nonblocking: false },
  EVP_MAC_init: {
    parameters: ["pointer", "buffer", "usize", "buffer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_MAC_update: { parameters: ["pointer", "buffer", "usize"], result: "i32", nonblocking: false },
  EVP_MAC_final: {
    parameters: ["pointer", "buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: false,
  },
  OSSL_PARAM_construct_utf8_string: {
    parameters: ["buffer", "buffer", "usize"],
    result: { struct: ["pointer", "u32", "pointer", "usize", "usize"] },
    nonblocking: false,
  },
  OSSL_PARAM_construct_end: {
    parameters: [],
    result: { struct: ["pointer", "u32", "pointer", "usize", "usize"] },
    nonblocking: false,
  },

  EVP_PKEY_new_raw_private_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
    nonblocking: false,
  },
  EVP_PKEY_new_raw_public_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
    nonblocking: false,
  },
  EVP_PKEY_get_raw_public_key: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void", nonblocking: false },
  EVP_PKEY_CTX_new: { parameters: ["pointer", "pointer"], result: "pointer", nonblocking: false },
  EVP_PKEY_CTX_free: { parameters: ["pointer"], result: "void", nonblocking: false },
  EVP_PKEY_derive_init: { parameters: ["pointer"], result: "i32", nonblocking: false },
  EVP_PKEY_derive_set_peer: {
    parameters: ["pointer", "pointer"],
    result: "i32",
    nonblocking: false,
  },
  EVP_PKEY_derive: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    nonblocking: false,
  },
} as const satisfies Deno.ForeignLibraryInterface;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

interface AeadHandle {
  readonly kind: "aead";
  readonly owner: object;
  enc: Deno.PointerValue;
  dec: Deno.PointerValue;
}
interface MacHandle {
  readonly kind: "mac";
  readonly owner: object;
  ctx: Deno.PointerValue;
}
interface X25519Handle {
  readonly kind: "x25519";
  readonly owner: object;
  pkey: Deno.PointerValue;
}
type Handle = AeadHandle | MacHandle | X25519Handle;

/**
 * The opaque key handed to callers. The native pointers sit in a separate
 * handle object so the FinalizationRegistry can free them without keeping
 * the key itself alive.
 */
class LibKey {
  readonly kind: Handle["kind"];
  #handle: Handle;

  constructor(handle: Handle) {
    this.kind = handle.kind;
    this.#handle = handle;
  }

  static handleOf(key: unknown): Handle | undefined {
    return key instanceof LibKey ? key.#handle : undefined;
  }
}

const utf8 = new TextEncoder();
function cString(s: string): Uint8Array {
  return utf8.encode(`${s}\0`);
}

// HMAC pads keys with zeros to the block size, so the empty key and a single
// zero byte are the same key. Passing the latter avoids handing OpenSSL a
// NULL key pointer, which EVP_MAC_init reads as "keep the previous key".
const ZERO_KEY = new Uint8Array(1);

class LibcryptoBackend implements CryptoBackend {
  readonly name = "libcrypto";
  readonly #s: Symbols;
  readonly #cipher: Deno.PointerObject;
  readonly #md: Deno.PointerObject;
  readonly #macAlg: Deno.PointerObject;
  // OSSL_PARAM[] selecting SHA256 for HMAC. The strings it points to are
  // kept as fields so they outlive every EVP_MAC_init that reads them.
  readonly #macParams: Uint8Array;
  readonly #macParamStrings: Uint8Array[];
  // Scratch HMAC context for hmacSha256(raw key, data); rekeyed per call.
  readonly #hmacScratch: Deno.PointerObject;
  // Preallocated out-parameters: int* and size_t* share one 8-byte cell.
  readonly #len = new Uint8Array(8);
  readonly #len32 = new Int32Array(this.#len.buffer, 0, 1);
  readonly #len64 = new BigUint64Array(this.#len.buffer, 0, 1);
  readonly #tag = new Uint8Array(TAG_LEN);
  readonly #finalOut = new Uint8Array(32);
  readonly #registry = new FinalizationRegistry<Handle>((h) => this.#free(h));

  constructor(s: Symbols) {
    this.#s = s;
    this.#cipher = nonNull(s.EVP_CIPHER_fetch(null, cString("AES-256-GCM"), null), "AES-256-GCM");
    this.#md = nonNull(s.EVP_MD_fetch(null, cString("SHA256"), null), "SHA256");
    this.#macAlg = nonNull(s.EVP_MAC_fetch(null, cString("HMAC"), null), "HMAC");
    const name = cString("digest");
    const value = cString("SHA256");
    const p = s.OSSL_PARAM_construct_utf8_string(name, value, 0n);
    const end = s.OSSL_PARAM_construct_end();
    this.#macParams = new Uint8Array(p.length + end.length);
    this.#macParams.set(p);
    this.#macParams.set(end, p.length);
    this.#macParamStrings = [name, value];
    const scratch = s.EVP_MAC_CTX_new(this.#macAlg);
    if (scratch === null) this.#fail("EVP_MAC_CTX_new");
    if (s.EVP_MAC_init(scratch, ZERO_KEY, 1n, this.#macParams) !== 1) {
      s.EVP_MAC_CTX_free(scratch);
      this.#fail("EVP_MAC_init");
    }
    this.#hmacScratch = scratch;
  }

  sha256(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(HASH_LEN);
    if (this.#s.EVP_Digest(data, BigInt(data.length), out, null, this.#md, null) !== 1) {
      this.#fail("EVP_Digest");
    }
    return out;
  }

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    const s = this.#s;
    const ctx = this.#hmacScratch;
    const k = key.length === 0 ? ZERO_KEY : key;
    if (s.EVP_MAC_init(ctx, k, BigInt(k.length), null) !== 1) this.#fail("EVP_MAC_init");
    try {
      return this.#macFinish(ctx, data);
    } finally {
      // Rekey with a dummy so this call's key does not linger in the
      // long-lived scratch context (Noise HKDF keys are chaining keys).
      s.EVP_MAC_init(ctx, ZERO_KEY, 1n, null);
    }
  }

  generateX25519(): X25519KeyPair {
    const raw = crypto.getRandomValues(new Uint8Array(KEY_LEN));
    try {
      return this.#x25519Pair(raw);
    } finally {
      raw.fill(0);
    }
  }

  importX25519(raw: Uint8Array): X25519KeyPair {
    checkLen("X25519 private key", raw, KEY_LEN);
    return this.#x25519Pair(raw);
  }

  x25519(privateKey: X25519Private, peerPublic: Uint8Array): Uint8Array {
    const s = this.#s;
    const pkey = this.#handle(privateKey, "x25519").pkey;
    checkLen("X25519 public key", peerPublic, KEY_LEN);
    const peer = s.EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, null, peerPublic, KEY_LEN_N);
    if (peer === null) this.#fail("EVP_PKEY_new_raw_public_key");
    let ctx: Deno.PointerValue = null;
    try {
      ctx = s.EVP_PKEY_CTX_new(pkey, null);
      if (ctx === null) this.#fail("EVP_PKEY_CTX_new");
      if (s.EVP_PKEY_derive_init(ctx) !== 1) this.#fail("EVP_PKEY_derive_init");
      const out = new Uint8Array(KEY_LEN);
      this.#len64[0] = KEY_LEN_N;
      if (
        s.EVP_PKEY_derive_set_peer(ctx, peer) !== 1 || s.EVP_PKEY_derive(ctx, out, this.#len) !== 1
      ) {
        // OpenSSL 3 refuses to output the all-zero secret of a small-order
        // point: that is the only way a well-formed 32-byte key fails here.
        s.ERR_clear_error();
        out.fill(0);
        throw new RangeError("X25519 produced the all-zero value (small-order public key)");
      }
      if (this.#len64[0] !== KEY_LEN_N) this.#fail("EVP_PKEY_derive (length)");
      let acc = 0;
      for (let i = 0; i < KEY_LEN; i++) acc |= out[i];
      if (acc === 0) throw new RangeError("X25519 produced the all-zero value");
      return out;
    } finally {
      if (ctx !== null) s.EVP_PKEY_CTX_free(ctx);
      s.EVP_PKEY_free(peer);
    }
  }

  importAeadKey(raw: Uint8Array): AeadKey {
    checkLen("AES-256-GCM key", raw, KEY_LEN);
    const s = this.#s;
    const h: AeadHandle = {
      kind: "aead",
      owner: this,
      enc: s.EVP_CIPHER_CTX_new(),
      dec: s.EVP_CIPHER_CTX_new(),
    };
    try {
      if (h.enc === null || h.dec === null) this.#fail("EVP_CIPHER_CTX_new");
      // Cipher and key are bound once here (key schedule computed once); the
      // default GCM IV length is the 12 bytes Noise uses, so per call only
      // the IV is set. OpenSSL copies the key: the caller may wipe `raw`.
      if (s.EVP_EncryptInit_ex(h.enc, this.#cipher, null, raw, null) !== 1) {
        this.#fail("EVP_EncryptInit_ex");
      }
      if (s.EVP_DecryptInit_ex(h.dec, this.#cipher, null, raw, null) !== 1) {
        this.#fail("EVP_DecryptInit_ex");
      }
    } catch (e) {
      this.#free(h);
      throw e;
    }
    return this.#track<AeadKey>(h);
  }

  seal(key: AeadKey, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const s = this.#s;
    const ctx = this.#handle(key, "aead").enc;
    checkLen("AES-GCM nonce", nonce, NONCE_LEN);
    const n = plaintext.length;
    checkInt("plaintext", n);
    checkInt("aad", aad.length);
    const out = new Uint8Array(n + TAG_LEN);
    const len = this.#len;
    if (s.EVP_EncryptInit_ex(ctx, null, null, null, nonce) !== 1) {
      this.#fail("EVP_EncryptInit_ex");
    }
    if (aad.length > 0 && s.EVP_EncryptUpdate(ctx, null, len, aad, aad.length) !== 1) {
      this.#fail("EVP_EncryptUpdate (aad)");
    }
    if (n > 0 && (s.EVP_EncryptUpdate(ctx, out, len, plaintext, n) !== 1 || this.#len32[0] !== n)) {
      this.#fail("EVP_EncryptUpdate");
    }
    if (s.EVP_EncryptFinal_ex(ctx, this.#finalOut, len) !== 1 || this.#len32[0] !== 0) {
      this.#fail("EVP_EncryptFinal_ex");
    }
    if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, this.#tag) !== 1) {
      this.#fail("EVP_CIPHER_CTX_ctrl (get tag)");
    }
    out.set(this.#tag, n);
    return out;
  }

  sealInto(
    key: AeadKey,
    nonce: Uint8Array,
    aad: Uint8Array,
    prefix: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void {
    const s = this.#s;
    const ctx = this.#handle(key, "aead").enc;
    checkLen("AES-GCM nonce", nonce, NONCE_LEN);
    const n = prefix.length + plaintext.length;
    checkInt("plaintext", n);
    checkInt("aad", aad.length);
    if (offset < 0 || out.length - offset < n + TAG_LEN) {
      throw new RangeError("sealInto: output too small");
    }
    const len = this.#len;
    if (s.EVP_EncryptInit_ex(ctx, null, null, null, nonce) !== 1) {
      this.#fail("EVP_EncryptInit_ex");
    }
    if (aad.length > 0 && s.EVP_EncryptUpdate(ctx, null, len, aad, aad.length) !== 1) {
      this.#fail("EVP_EncryptUpdate (aad)");
    }
    // GCM is a stream mode: two updates give the same bytes as one over the concatenation.
    let at = offset;
    for (const part of [prefix, plaintext]) {
      if (part.length === 0) continue;
      const dst = out.subarray(at, at + part.length);
      if (
        s.EVP_EncryptUpdate(ctx, dst, len, part, part.length) !== 1 ||
        this.#len32[0] !== part.length
      ) this.#fail("EVP_EncryptUpdate");
      at += part.length;
    }
    if (s.EVP_EncryptFinal_ex(ctx, this.#finalOut, len) !== 1 || this.#len32[0] !== 0) {
      this.#fail("EVP_EncryptFinal_ex");
    }
    if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, this.#tag) !== 1) {
      this.#fail("EVP_CIPHER_CTX_ctrl (get tag)");
    }
    out.set(this.#tag, at);
  }

  macInto(key: MacKey, data: Uint8Array, out: Uint8Array, offset: number): void {
    if (offset < 0 || out.length - offset < HASH_LEN) {
      throw new RangeError("macInto: output too small");
    }
    const ctx = this.#handle(key, "mac").ctx;
    const s = this.#s;
    if (s.EVP_MAC_init(ctx, null, 0n, null) !== 1) this.#fail("EVP_MAC_init (reset)");
    if (data.length > 0 && s.EVP_MAC_update(ctx, data, BigInt(data.length)) !== 1) {
      this.#fail("EVP_MAC_update");
    }
    this.#len64[0] = 0n;
    const dst = out.subarray(offset, offset + HASH_LEN);
    if (s.EVP_MAC_final(ctx, dst, this.#len, HASH_LEN_N) !== 1 || this.#len64[0] !== HASH_LEN_N) {
      this.#fail("EVP_MAC_final");
    }
  }

  open(
    key: AeadKey,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
  ): Uint8Array | null {
    const s = this.#s;
    const ctx = this.#handle(key, "aead").dec;
    checkLen("AES-GCM nonce", nonce, NONCE_LEN);
    if (ciphertext.length < TAG_LEN) return null;
    const n = ciphertext.length - TAG_LEN;
    checkInt("ciphertext", n);
    checkInt("aad", aad.length);
    const len = this.#len;
    const tag = this.#tag;
    for (let i = 0; i < TAG_LEN; i++) tag[i] = ciphertext[n + i];
    if (s.EVP_DecryptInit_ex(ctx, null, null, null, nonce) !== 1) {
      this.#fail("EVP_DecryptInit_ex");
    }
    if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) !== 1) {
      this.#fail("EVP_CIPHER_CTX_ctrl (set tag)");
    }
    if (aad.length > 0 && s.EVP_DecryptUpdate(ctx, null, len, aad, aad.length) !== 1) {
      this.#fail("EVP_DecryptUpdate (aad)");
    }
    const out = new Uint8Array(n);
    // Reads the first n bytes only: the tag was copied out above.
    if (
      n > 0 && (s.EVP_DecryptUpdate(ctx, out, len, ciphertext, n) !== 1 || this.#len32[0] !== n)
    ) {
      this.#fail("EVP_DecryptUpdate");
    }
    if (s.EVP_DecryptFinal_ex(ctx, this.#finalOut, len) <= 0) {
      // Authentication failed: a forged or corrupted input, not an error.
      s.ERR_clear_error();
      out.fill(0);
      return null;
    }
    return out;
  }

  importMacKey(raw: Uint8Array): MacKey {
    const s = this.#s;
    const h: MacHandle = { kind: "mac", owner: this, ctx: s.EVP_MAC_CTX_new(this.#macAlg) };
    try {
      if (h.ctx === null) this.#fail("EVP_MAC_CTX_new");
      const k = raw.length === 0 ? ZERO_KEY : raw;
      // HMAC precomputes the inner/outer pad states here; each mac() then
      // only resets to them (EVP_MAC_init with a NULL key).
      if (s.EVP_MAC_init(h.ctx, k, BigInt(k.length), this.#macParams) !== 1) {
        this.#fail("EVP_MAC_init");
      }
    } catch (e) {
      this.#free(h);
      throw e;
    }
    return this.#track<MacKey>(h);
  }

  mac(key: MacKey, data: Uint8Array): Uint8Array {
    const ctx = this.#handle(key, "mac").ctx;
    if (this.#s.EVP_MAC_init(ctx, null, 0n, null) !== 1) this.#fail("EVP_MAC_init (reset)");
    return this.#macFinish(ctx, data);
  }

  destroyKey(key: AeadKey | MacKey | X25519Private): void {
    const h = LibKey.handleOf(key);
    if (h === undefined || h.owner !== this) return;
    this.#registry.unregister(h);
    this.#free(h);
  }

  #macFinish(ctx: Deno.PointerObject, data: Uint8Array): Uint8Array {
    const s = this.#s;
    const out = new Uint8Array(HASH_LEN);
    if (data.length > 0 && s.EVP_MAC_update(ctx, data, BigInt(data.length)) !== 1) {
      this.#fail("EVP_MAC_update");
    }
    this.#len64[0] = 0n;
    if (s.EVP_MAC_final(ctx, out, this.#len, HASH_LEN_N) !== 1 || this.#len64[0] !== HASH_LEN_N) {
      this.#fail("EVP_MAC_final");
    }
    return out;
  }

  #x25519Pair(raw: Uint8Array): X25519KeyPair {
    const s = this.#s;
    const h: X25519Handle = {
      kind: "x25519",
      owner: this,
      pkey: s.EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, null, raw, KEY_LEN_N),
    };
    try {
      if (h.pkey === null) this.#fail("EVP_PKEY_new_raw_private_key");
      const publicKey = new Uint8Array(KEY_LEN);
      this.#len64[0] = KEY_LEN_N;
      if (
        s.EVP_PKEY_get_raw_public_key(h.pkey, publicKey, this.#len) !== 1 ||
        this.#len64[0] !== KEY_LEN_N
      ) {
        this.#fail("EVP_PKEY_get_raw_public_key");
      }
      return { publicKey, privateKey: this.#track<X25519Private>(h) };
    } catch (e) {
      this.#free(h);
      throw e;
    }
  }

  #track<K extends AeadKey | MacKey | X25519Private>(h: Handle): K {
    const key = new LibKey(h);
    // The handle doubles as the unregister token: destroyKey reaches it
    // through the key. Freeing is idempotent (pointers are nulled), so a
    // finaliser racing an explicit destroy cannot double-free.
    this.#registry.register(key, h, h);
    // LibKey.kind mirrors the handle's kind, so it satisfies the K asked for.
    return key as unknown as K;
  }

  #handle(
    key: AeadKey,
    kind: "aead",
  ): AeadHandle & { enc: Deno.PointerObject; dec: Deno.PointerObject };
  #handle(key: MacKey, kind: "mac"): MacHandle & { ctx: Deno.PointerObject };
  #handle(key: X25519Private, kind: "x25519"): X25519Handle & { pkey: Deno.PointerObject };
  #handle(key: object, kind: Handle["kind"]): Handle {
    const h = LibKey.handleOf(key);
    // A key from another backend (or another loaded copy of libcrypto)
    // would be a wrong pointer: refuse it instead of crashing.
    if (h === undefined || h.kind !== kind || h.owner !== this) {
      throw new TypeError(`libcrypto: expected a ${kind} key created by this backend`);
    }
    const live = h.kind === "aead" ? h.enc : h.kind === "mac" ? h.ctx : h.pkey;
    if (live === null) throw new Error(`libcrypto: ${kind} key was destroyed`);
    return h;
  }

  #free(h: Handle): void {
    const s = this.#s;
    switch (h.kind) {
      case "aead":
        if (h.enc !== null) s.EVP_CIPHER_CTX_free(h.enc);
        if (h.dec !== null) s.EVP_CIPHER_CTX_free(h.dec);
        h.enc = null;
        h.dec = null;
        break;
      case "mac":
        if (h.ctx !== null) s.EVP_MAC_CTX_free(h.ctx);
        h.ctx = null;
        break;
      case "x25519":
        if (h.pkey !== null) s.EVP_PKEY_free(h.pkey);
        h.pkey = null;
        break;
    }
  }

  #fail(fn: string): never {
    // Leave no stale entries in OpenSSL's thread-local error queue.
    this.#s.ERR_clear_error();
    throw new Error(`libcrypto: ${fn} failed`);
  }
}

function nonNull(p: Deno.PointerValue, what: string): Deno.PointerObject {
  if (p === null) throw new Error(`libcrypto: cannot fetch ${what}`);
  return p;
}

function checkLen(what: string, bytes: Uint8Array, len: number): void {
  if (bytes.length !== len) throw new RangeError(`libcrypto: ${what} must be ${len} bytes`);
}

function checkInt(what: string, len: number): void {
  // OpenSSL's EVP_*Update take an int length.
  if (len > INT_MAX) throw new RangeError(`libcrypto: ${what} too long`);
}

function candidates(path: string | undefined): string[] {
  if (path !== undefined) return [path];
  switch (Deno.build.os) {
    case "darwin":
      // Never the bare /usr/lib/libcrypto.dylib: on macOS that is LibreSSL,
      // and loading it unversioned aborts the process.
      return [
        "libcrypto.3.dylib",
        "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
        "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
      ];
    case "windows":
      return ["libcrypto-3-x64.dll", "libcrypto-3-arm64.dll", "libcrypto-3.dll"];
    default:
      return ["libcrypto.so.3", "libcrypto.so"];
  }
}

function ffiGranted(path: string): boolean {
  try {
    // querySync instead of letting dlopen prompt: loading is opportunistic.
    return Deno.permissions.querySync({ name: "ffi", path }).state === "granted";
  } catch {
    return false;
  }
}

function openLibrary(path: string | undefined): Deno.DynamicLibrary<typeof SYMBOLS> | undefined {
  // Deno Deploy and similar runtimes have no FFI at all.
  if (typeof Deno === "undefined" || typeof Deno.dlopen !== "function") return undefined;
  for (const candidate of candidates(path)) {
    if (!ffiGranted(candidate)) continue;
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      // Throws if the file is missing or lacks a symbol (e.g. OpenSSL 1.x).
      lib = Deno.dlopen(candidate, SYMBOLS);
    } catch {
      continue;
    }
    // Only the low 32 bits are meaningful (unsigned long is 32-bit on Windows).
    const version = Number(BigInt(lib.symbols.OpenSSL_version_num()) & 0xffff_ffffn);
    if (version >= MIN_VERSION) return lib;
    lib.close();
  }
  return undefined;
}

const loaded = new Map<string, CryptoBackend>();

/**
 * Load the system OpenSSL 3 `libcrypto` through FFI and wrap it as a
 * synchronous {@linkcode CryptoBackend}.
 *
 * Without `path`, tries `libcrypto.so.3` then `libcrypto.so` (Linux),
 * `libcrypto.3.dylib` and the Homebrew locations (macOS), or
 * `libcrypto-3-x64.dll` (Windows). Each library is loaded once per path and
 * the backend is cached.
 *
 * Returns `undefined` (never prompts, never throws) when FFI is unavailable
 * or not granted, or no OpenSSL 3 library is found. Throws an `Error` only
 * when a library loads but fails to initialise or its self-test (a set of
 * known-answer tests run at load, which catches ABI mismatches).
 *
 * @example
 * ```ts
 * import { loadLibcryptoBackend } from "./libcrypto_backend.ts";
 *
 * const backend = loadLibcryptoBackend();
 * if (backend) {
 *   const digest = backend.sha256(new TextEncoder().encode("abc"));
 *   console.log(digest);
 * }
 * ```
 */
export function loadLibcryptoBackend(path?: string): CryptoBackend | undefined {
  const cacheKey = path ?? "";
  const cached = loaded.get(cacheKey);
  if (cached !== undefined) return cached;
  const lib = openLibrary(path);
  if (lib === undefined) return undefined;
  let backend: LibcryptoBackend;
  try {
    backend = new LibcryptoBackend(lib.symbols);
    selfTest(backend);
  } catch (e) {
    // Not closed: a key made during the self-test may still be finalised.
    throw new Error(`libcrypto: ${path ?? "system library"} failed to initialise`, { cause: e });
  }
  loaded.set(cacheKey, backend);
  return backend;
}

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function equal(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Known-answer tests run once at load. FFI signatures are not type-checked
 * against the C headers, so a wrong one would otherwise corrupt data
 * silently. Each primitive runs twice to exercise context reuse.
 */
function selfTest(b: LibcryptoBackend): void {
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`self-test failed: ${what}`);
  };
  const abc = utf8.encode("abc");
  const abcDigest = hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check(equal(b.sha256(abc), abcDigest), "SHA-256");

  // RFC 4231 test case 2.
  const jefe = utf8.encode("Jefe");
  const what = utf8.encode("what do ya want for nothing?");
  const tc2 = hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  check(equal(b.hmacSha256(jefe, what), tc2), "HMAC-SHA256");
  check(equal(b.hmacSha256(jefe, what), tc2), "HMAC-SHA256 (again)");
  const macKey = b.importMacKey(jefe);
  try {
    check(equal(b.mac(macKey, what), tc2), "HMAC-SHA256 imported key");
    check(equal(b.mac(macKey, what), tc2), "HMAC-SHA256 imported key (reused)");
  } finally {
    b.destroyKey(macKey);
  }

  // McGrew & Viega GCM test case 16 (AES-256, 60-byte plaintext, AAD).
  const key = b.importAeadKey(
    hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
  );
  try {
    const iv = hex("cafebabefacedbaddecaf888");
    const aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const pt = hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    const ct = hex(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
        "76fc6ece0f4e1768cddf8853bb2d551b",
    );
    check(equal(b.seal(key, iv, aad, pt), ct), "AES-256-GCM seal");
    check(equal(b.seal(key, iv, aad, pt), ct), "AES-256-GCM seal (reused)");
    check(equal(b.open(key, iv, aad, ct), pt), "AES-256-GCM open");
    const forged = ct.slice();
    forged[0] ^= 1;
    check(b.open(key, iv, aad, forged) === null, "AES-256-GCM forgery");
    check(equal(b.open(key, iv, aad, ct), pt), "AES-256-GCM open after forgery");
  } finally {
    b.destroyKey(key);
  }

  // RFC 7748 section 6.1.
  const alice = b.importX25519(
    hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
  );
  try {
    const bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    check(
      equal(
        alice.publicKey,
        hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
      ),
      "X25519 public key",
    );
    check(
      equal(
        b.x25519(alice.privateKey, bobPublic),
        hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
      ),
      "X25519 shared secret",
    );
  } finally {
    b.destroyKey(alice.privateKey);
  }
}
