/**
 * Fast {@linkcode CryptoBackend}s for the Noise core, and the choice
 * between them.
 *
 * - `libcrypto`: system OpenSSL 3 through FFI, the fastest; needs
 *   `--allow-ffi` and the library.
 * - `node`: Deno's built-in `node:crypto`, synchronous, always present.
 * - `webcrypto`: the portable backend from `src/protocol/`, the slowest.
 *
 * All three are byte-identical (tests/crypto/backends_test.ts).
 *
 * @example
 * ```ts
 * import { selectCryptoBackend } from "./mod.ts";
 *
 * const backend = selectCryptoBackend();
 * console.log(backend.name); // "libcrypto", "node" or "webcrypto"
 * ```
 *
 * @module
 */

import { type CryptoBackend, webCryptoBackend } from "../protocol/mod.ts";
import { loadLibcryptoBackend } from "./libcrypto_backend.ts";
import { nodeCryptoBackend } from "./node_backend.ts";

export { loadLibcryptoBackend } from "./libcrypto_backend.ts";
export { nodeCryptoBackend } from "./node_backend.ts";

/**
 * Which backend {@linkcode selectCryptoBackend} should return. `"auto"`
 * picks the fastest one that works here.
 *
 * @example
 * ```ts
 * import { type CryptoBackendPreference, selectCryptoBackend } from "./mod.ts";
 *
 * const preference: CryptoBackendPreference = "node";
 * console.log(selectCryptoBackend(preference).name); // "node"
 * ```
 */
export type CryptoBackendPreference = "auto" | "webcrypto" | "node" | "libcrypto";

let nodeWorks: boolean | undefined;

/** node:crypto can be stubbed out (e.g. by a bundler); check it once with a known answer. */
function nodeUsable(): boolean {
  if (nodeWorks === undefined) {
    try {
      const digest = nodeCryptoBackend.sha256(new TextEncoder().encode("abc")) as Uint8Array;
      nodeWorks = digest.length === 32 && digest[0] === 0xba && digest[31] === 0xad;
    } catch {
      nodeWorks = false;
    }
  }
  return nodeWorks;
}

/**
 * Return the crypto backend for `preference`.
 *
 * `"auto"` (the default) returns libcrypto if it loads, else `node:crypto`,
 * else WebCrypto; it never throws. An explicit `"libcrypto"` throws an
 * `Error` when the library cannot be loaded (missing, FFI not granted, or
 * failed its load-time self-test), so a misconfiguration is not silently
 * slower.
 *
 * @example
 * ```ts
 * import { selectCryptoBackend } from "./mod.ts";
 *
 * const backend = selectCryptoBackend("auto");
 * const digest = await backend.sha256(new TextEncoder().encode("abc"));
 * console.log(backend.name, digest.length); // e.g. "libcrypto 32"
 * ```
 */
export function selectCryptoBackend(preference: CryptoBackendPreference = "auto"): CryptoBackend {
  switch (preference) {
    case "webcrypto":
      return webCryptoBackend;
    case "node":
      return nodeCryptoBackend;
    case "libcrypto": {
      let backend: CryptoBackend | undefined;
      try {
        backend = loadLibcryptoBackend();
      } catch (e) {
        throw new Error('crypto backend "libcrypto" was requested but failed to initialise', {
          cause: e,
        });
      }
      if (backend === undefined) {
        throw new Error(
          'crypto backend "libcrypto" was requested but cannot be loaded: ' +
            "it needs --allow-ffi and an OpenSSL 3 libcrypto on the library path",
        );
      }
      return backend;
    }
    case "auto": {
      try {
        const backend = loadLibcryptoBackend();
        if (backend !== undefined) return backend;
      } catch {
        // A libcrypto that loads but fails its self-test is unusable; the
        // slower backends are still correct.
      }
      return nodeUsable() ? nodeCryptoBackend : webCryptoBackend;
    }
    default:
      throw new TypeError(`unknown crypto backend preference: ${String(preference)}`);
  }
}
