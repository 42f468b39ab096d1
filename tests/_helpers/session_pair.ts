/** Both ends of one established session, made in-process (no sockets). */
import { FrameDecoder } from "../../src/protocol/frame.ts";
import {
  acceptClientHello,
  type SessionKeys,
  startClientHandshake,
} from "../../src/protocol/handshake.ts";
import { ReplayCache } from "../../src/protocol/replay_cache.ts";
import type { RawSessionKeys } from "../../src/protocol/transport.ts";
import type { CryptoBackend } from "../../src/protocol/noise/crypto.ts";

/** A fixed Unix time for handshakes in tests. */
export const T = 1_700_000_000_000;

/** Client and server keys of one session, plus the raw transport keys. */
export interface SessionPair {
  client: SessionKeys;
  server: SessionKeys;
  raw: RawSessionKeys;
}

/** Run a whole NNpsk0 handshake in-process with a random key. */
export async function sessionPair(
  backend: CryptoBackend,
  rekeyAfterFrames?: number,
): Promise<SessionPair> {
  const psk = crypto.getRandomValues(new Uint8Array(32));
  let raw: RawSessionKeys | undefined;
  const c = await startClientHandshake(backend, {
    psk,
    pskId: "t",
    timestampMs: T,
    rekeyAfterFrames,
    onRawKeysForTestingOnly: (k) => (raw = k),
  });
  const [hello] = new FrameDecoder({ expect: "server" }).push(c.clientHello);
  const accepted = await acceptClientHello(backend, hello, {
    lookupPsk: () => psk.slice(),
    nowMs: T,
    clockSkewMs: 30_000,
    replayCache: new ReplayCache(4),
    sessionId: new Uint8Array(16),
    heartbeatIntervalMs: 15_000,
    idleTimeoutMs: 45_000,
    rekeyAfterFrames,
  });
  const [sh] = new FrameDecoder({ expect: "client" }).push(accepted.serverHello);
  return { client: await c.finish(sh), server: accepted.keys, raw: raw! };
}
