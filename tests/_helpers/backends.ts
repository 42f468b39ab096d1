/** Every crypto backend available on this machine, for tests that must hold for each. */
import { type CryptoBackend, webCryptoBackend } from "../../src/protocol/noise/crypto.ts";

export async function backendsUnderTest(): Promise<CryptoBackend[]> {
  const out: CryptoBackend[] = [webCryptoBackend];
  try {
    const mod = await import("../../src/crypto/mod.ts");
    for (const pref of ["node", "libcrypto"] as const) {
      try {
        out.push(mod.selectCryptoBackend(pref));
      } catch (e) {
        console.log(`(crypto backend ${pref} unavailable here: ${(e as Error).message})`);
      }
    }
  } catch {
    // src/crypto not present yet.
  }
  return out;
}
