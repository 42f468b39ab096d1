import assert from "node:assert/strict";
import { fromHex, toHex } from "../../../src/util/bytes.ts";
import { type CryptoBackend, webCryptoBackend } from "../../../src/protocol/noise/crypto.ts";
import { HandshakeState } from "../../../src/protocol/noise/handshake_state.ts";
import { isOneWay, parseProtocolName } from "../../../src/protocol/noise/patterns.ts";
import { backendsUnderTest } from "../../_helpers/backends.ts";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const file = JSON.parse(
  await Deno.readTextFile(
    new URL("../../fixtures/noise-25519-aesgcm-sha256.json", import.meta.url),
  ),
) as { vectors: Vector[] };

async function party(backend: CryptoBackend, v: Vector, initiator: boolean) {
  const p = initiator ? "init" : "resp";
  const s = v[`${p}_static`];
  const e = v[`${p}_ephemeral`];
  const rs = v[`${p}_remote_static`];
  return await HandshakeState.initialize(backend, {
    protocolName: v.protocol_name,
    initiator,
    prologue: fromHex(v[`${p}_prologue`]),
    s: s ? await backend.importX25519(fromHex(s)) : undefined,
    rs: rs ? fromHex(rs) : undefined,
    psks: (v[`${p}_psks`] ?? []).map(fromHex),
    fixedEphemeralForTestingOnly: e ? await backend.importX25519(fromHex(e)) : undefined,
  });
}

async function runVector(backend: CryptoBackend, v: Vector): Promise<void> {
  const init = await party(backend, v, true);
  const resp = await party(backend, v, false);
  const oneWay = isOneWay(parseProtocolName(v.protocol_name).pattern);
  let i = 0;
  // Handshake messages.
  while (!init.finished) {
    const m = v.messages[i];
    const [w, r] = init.isMyTurn ? [init, resp] : [resp, init];
    const ct = await w.writeMessage(fromHex(m.payload));
    assert.equal(toHex(ct), m.ciphertext, `${v.protocol_name} message ${i}`);
    assert.equal(toHex(await r.readMessage(ct)), m.payload);
    i++;
  }
  assert.ok(resp.finished);
  assert.equal(toHex(init.handshakeHash), v.handshake_hash);
  assert.equal(toHex(resp.handshakeHash), v.handshake_hash);
  const a = await init.split();
  const b = await resp.split();
  // Transport messages: alternate directions, or always initiator→responder one-way.
  for (let dir = oneWay ? 0 : i % 2; i < v.messages.length; i++, dir = oneWay ? 0 : 1 - dir) {
    const m = v.messages[i];
    const [enc, dec] = dir === 0 ? [a.c1, b.c1] : [b.c2, a.c2];
    const ct = await enc.encryptWithAd(new Uint8Array(0), fromHex(m.payload));
    assert.equal(toHex(ct), m.ciphertext, `${v.protocol_name} transport ${i}`);
    assert.equal(toHex(await dec.decryptWithAd(new Uint8Array(0), ct)), m.payload);
  }
}

for (const backend of await backendsUnderTest()) {
  Deno.test(`Noise core (${backend.name}) reproduces all ${file.vectors.length} cacophony vectors byte for byte`, async () => {
    const names: string[] = [];
    for (const v of file.vectors) {
      await runVector(backend, v);
      names.push(v.protocol_name);
    }
    for (const required of ["NN", "NNpsk0", "NNpsk2"]) {
      assert.ok(names.includes(`Noise_${required}_25519_AESGCM_SHA256`), required);
    }
  });
}

Deno.test("Noise core detects a tampered handshake message", async () => {
  const v = file.vectors.find((x) => x.protocol_name === "Noise_NNpsk0_25519_AESGCM_SHA256")!;
  const init = await party(webCryptoBackend, v, true);
  const resp = await party(webCryptoBackend, v, false);
  const ct = await init.writeMessage(fromHex(v.messages[0].payload));
  ct[ct.length - 1] ^= 1;
  await assert.rejects(resp.readMessage(ct), { code: "HANDSHAKE_FAILED" });
});

Deno.test("Noise core: a wrong psk fails the first message", async () => {
  const v = file.vectors.find((x) => x.protocol_name === "Noise_NNpsk0_25519_AESGCM_SHA256")!;
  const init = await party(webCryptoBackend, v, true);
  const resp = await party(webCryptoBackend, { ...v, resp_psks: ["00".repeat(32)] }, false);
  const ct = await init.writeMessage(fromHex(v.messages[0].payload));
  await assert.rejects(resp.readMessage(ct), { code: "HANDSHAKE_FAILED" });
});
