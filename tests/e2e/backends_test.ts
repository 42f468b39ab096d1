/**
 * Every crypto backend end to end: server and client on the same backend
 * (Echo, KeyUpdate both ways), and mixed pairs that must interoperate since
 * all backends are byte-identical.
 */
import assert from "node:assert/strict";
import { type CryptoBackend, PacketType, webCryptoBackend } from "../../src/protocol/mod.ts";
import { backendsUnderTest } from "../_helpers/backends.ts";
import { RawPeer } from "../_helpers/raw_peer.ts";
import { bytes, connectClient, startTestServer, text } from "../_helpers/test_server.ts";

const backends = await backendsUnderTest();

async function echoAndRekey(server: CryptoBackend, client: CryptoBackend): Promise<void> {
  const ts = startTestServer({ backend: server, rekeyAfterFrames: 4 });
  try {
    const s = await connectClient(ts, { backend: client, rekeyAfterFrames: 4 });
    for (const n of [0, 1, 100, 65_470]) {
      const payload = crypto.getRandomValues(new Uint8Array(n));
      assert.deepEqual(await s.request(0x20, payload), payload, `echo ${n} bytes`);
    }
    // Enough frames for several automatic KeyUpdates in both directions.
    for (let i = 0; i < 12; i++) assert.equal(text(await s.request(0x20, bytes(`k${i}`))), `k${i}`);
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.request(0x20, bytes(`q${i}`))),
    );
    all.forEach((r, i) => assert.equal(text(r), `q${i}`));
    assert.ok((await s.ping()) >= 0);
    await s.close();
    // A raw peer on the client backend: explicit KeyUpdate, then the server's own rekeys.
    const p = await RawPeer.open(ts.port, { psk: ts.psk }, { backend: client });
    await p.send(0x20, 1, bytes("before"));
    assert.equal(text((await p.readReply())!.payload), "before");
    await p.send(PacketType.KeyUpdate, 0);
    for (let i = 0; i < 6; i++) {
      await p.send(0x20, 3 + 2 * i, bytes(`after ${i}`));
      assert.equal(text((await p.readReply())!.payload), `after ${i}`);
    }
    await p.close();
    assert.equal(ts.server.stats().transportFailures, 0);
  } finally {
    await ts.close();
  }
}

for (const backend of backends) {
  Deno.test(`backends: ${backend.name} server and ${backend.name} client — Echo and KeyUpdate`, async () => {
    await echoAndRekey(backend, backend);
  });
}

const native = backends.find((b) => b.name === "libcrypto") ??
  backends.find((b) => b.name === "node");

Deno.test({
  name: `backends: mixed — ${native?.name ?? "native"} server, webcrypto client`,
  ignore: native === undefined,
  fn: async () => {
    await echoAndRekey(native!, webCryptoBackend);
  },
});

Deno.test({
  name: `backends: mixed — webcrypto server, ${native?.name ?? "native"} client`,
  ignore: native === undefined,
  fn: async () => {
    await echoAndRekey(webCryptoBackend, native!);
  },
});

Deno.test({
  name: "backends: mixed — node server, libcrypto client",
  ignore: !backends.some((b) => b.name === "node") || !backends.some((b) => b.name === "libcrypto"),
  fn: async () => {
    await echoAndRekey(
      backends.find((b) => b.name === "node")!,
      backends.find((b) => b.name === "libcrypto")!,
    );
  },
});
