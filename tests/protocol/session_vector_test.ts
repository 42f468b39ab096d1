/**
 * Reproduces tests/fixtures/somnytoo-v1-session.json byte for byte in both
 * roles: every frame produced from the fixed inputs, and every frame accepted.
 */
import assert from "node:assert/strict";
import { fromHex, toHex } from "../../src/util/bytes.ts";
import { FrameDecoder } from "../../src/protocol/frame.ts";
import { acceptClientHello, startClientHandshake } from "../../src/protocol/handshake.ts";
import { ReplayCache } from "../../src/protocol/replay_cache.ts";
import type { RawSessionKeys } from "../../src/protocol/transport.ts";
import { rekeyRaw } from "../../src/protocol/noise/cipher_state.ts";
import { rekeyMacRaw } from "../../src/protocol/transport.ts";
import { backendsUnderTest } from "../_helpers/backends.ts";

const v = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/somnytoo-v1-session.json", import.meta.url)),
);
const inp = v.inputs;

for (const backend of await backendsUnderTest()) {
  Deno.test(`session vector (${backend.name}): both roles produce and accept every frame`, async () => {
    let clientRaw: RawSessionKeys | undefined;
    let serverRaw: RawSessionKeys | undefined;
    const client = await startClientHandshake(backend, {
      psk: fromHex(inp.psk),
      pskId: inp.psk_id,
      timestampMs: inp.timestamp_ms,
      fixedEphemeralForTestingOnly: await backend.importX25519(fromHex(inp.client_ephemeral)),
      onRawKeysForTestingOnly: (k) => (clientRaw = k),
    });
    assert.equal(toHex(client.clientHello), v.client_hello);

    const serverDecoder = new FrameDecoder({ expect: "server" });
    const [hello] = serverDecoder.push(client.clientHello);
    const accepted = await acceptClientHello(backend, hello, {
      lookupPsk: (id) => (id === inp.psk_id ? fromHex(inp.psk) : undefined),
      nowMs: inp.timestamp_ms + 1000,
      clockSkewMs: 30_000,
      replayCache: new ReplayCache(16),
      sessionId: fromHex(inp.session_id),
      heartbeatIntervalMs: inp.heartbeat_interval_ms,
      idleTimeoutMs: inp.idle_timeout_ms,
      fixedEphemeralForTestingOnly: await backend.importX25519(fromHex(inp.server_ephemeral)),
      onRawKeysForTestingOnly: (k) => (serverRaw = k),
    });
    assert.equal(toHex(accepted.serverHello), v.server_hello);

    const clientDecoder = new FrameDecoder({ expect: "client" });
    const [sh] = clientDecoder.push(accepted.serverHello);
    const ck = await client.finish(sh);
    const sk = accepted.keys;
    assert.equal(toHex(ck.handshakeHash), v.handshake_hash);
    assert.equal(toHex(sk.handshakeHash), v.handshake_hash);
    assert.equal(toHex(ck.sessionId), inp.session_id);
    assert.equal(ck.heartbeatIntervalMs, inp.heartbeat_interval_ms);
    assert.equal(ck.idleTimeoutMs, inp.idle_timeout_ms);

    const d = v.derived_keys;
    for (const raw of [clientRaw!, serverRaw!]) {
      assert.equal(toHex(raw.c2sKey), d.c2s_key);
      assert.equal(toHex(raw.s2cKey), d.s2c_key);
      assert.equal(toHex(raw.macC2s), d.mac_c2s);
      assert.equal(toHex(raw.macS2c), d.mac_s2c);
    }
    // The rekeyed values follow from REKEY and the MAC rekey rule.
    const k = await backend.importAeadKey(fromHex(d.c2s_key));
    assert.equal(toHex(await rekeyRaw(backend, k)), d.c2s_key_after_keyupdate);
    const k2 = await backend.importAeadKey(fromHex(d.s2c_key));
    assert.equal(toHex(await rekeyRaw(backend, k2)), d.s2c_key_after_keyupdate);
    const m = await backend.importMacKey(fromHex(d.mac_c2s));
    assert.equal(toHex(await rekeyMacRaw(backend, m)), d.mac_c2s_after_keyupdate);
    const m2 = await backend.importMacKey(fromHex(d.mac_s2c));
    assert.equal(toHex(await rekeyMacRaw(backend, m2)), d.mac_s2c_after_keyupdate);

    // Every transport frame, produced by its sender and accepted by its receiver.
    for (const [i, f] of v.frames.entries()) {
      const [tx, rx, dec] = f.direction === "c2s"
        ? [ck.sender, sk.receiver, serverDecoder]
        : [sk.sender, ck.receiver, clientDecoder];
      const frame = await tx.seal(f.type, f.request_id, fromHex(f.payload));
      assert.equal(toHex(frame), f.frame, `frame ${i} (${f.direction} type ${f.type})`);
      const [decoded] = dec.push(fromHex(f.frame));
      const msg = await rx.open(decoded);
      assert.equal(msg.type, f.type);
      assert.equal(msg.requestId, f.request_id);
      assert.equal(toHex(msg.payload), f.payload);
    }
  });
}
