/**
 * The two Echo clients the load generator drives through one interface:
 * SomnyToo through our client library (`connect`, `request(0x20, …)`), and
 * the TLS 1.3 baseline (Deno's rustls) with the plain framing of
 * `framing.ts`, request ids, a pending map and coalesced writes, i.e. the
 * same shape as our client minus the crypto.
 *
 * @module
 */

import { connect } from "../src/client/mod.ts";
import type { CryptoBackend } from "../src/protocol/mod.ts";
import { CoalescingWriter, encodePlainFrame, FrameReader } from "./framing.ts";

/** Echo request type (protocol-v1 §4), used by both transports. */
export const ECHO_TYPE = 0x20;

/** One connection able to carry Echo requests, several at once. */
export interface EchoClient {
  /** Send one Echo request; resolves with the reply payload. */
  request(payload: Uint8Array): Promise<Uint8Array>;
  /** Close the connection. */
  close(): Promise<void>;
}

/** Where and how to connect. */
export type Target =
  | {
    readonly transport: "somnytoo";
    readonly port: number;
    readonly psk: Uint8Array;
    readonly backend: CryptoBackend;
  }
  | { readonly transport: "tls"; readonly port: number; readonly caCert: string };

/** Connect (TCP + handshake) to `target`. */
export function openClient(target: Target): Promise<EchoClient> {
  return target.transport === "somnytoo" ? openSomny(target) : TlsEchoClient.open(target);
}

async function openSomny(
  t: { port: number; psk: Uint8Array; backend: CryptoBackend },
): Promise<EchoClient> {
  // connect() sets TCP_NODELAY and resolves once the Noise handshake is done.
  const session = await connect({
    host: "127.0.0.1",
    port: t.port,
    psk: t.psk,
    backend: t.backend,
  });
  return {
    request: (payload) => session.request(ECHO_TYPE, payload),
    close: () => session.close(),
  };
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(e: unknown): void;
}

/** The TLS baseline client. */
export class TlsEchoClient implements EchoClient {
  readonly #conn: Deno.TlsConn;
  readonly #writer: CoalescingWriter;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  /**
   * TCP connect with TCP_NODELAY, then the TLS 1.3 handshake through
   * `Deno.startTls` (`Deno.connectTls` leaves no way to set TCP_NODELAY).
   */
  static async open(t: { port: number; caCert: string }): Promise<TlsEchoClient> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    tcp.setNoDelay(true);
    const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [t.caCert] });
    await conn.handshake();
    return new TlsEchoClient(conn);
  }

  private constructor(conn: Deno.TlsConn) {
    this.#conn = conn;
    this.#writer = new CoalescingWriter(conn);
    this.#readLoop();
  }

  request(payload: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error("connection closed"));
    const id = this.#nextId;
    this.#nextId = id >= 0xffff_fffd ? 1 : id + 2; // odd, like a SomnyToo client
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#writer.write(encodePlainFrame(ECHO_TYPE, id, payload));
    });
  }

  close(): Promise<void> {
    this.#fail(new Error("connection closed"));
    return Promise.resolve();
  }

  async #readLoop(): Promise<void> {
    const reader = new FrameReader(this.#conn);
    try {
      for (;;) {
        const frames = await reader.next();
        if (frames === null) break;
        for (const f of frames) {
          const p = this.#pending.get(f.requestId);
          if (!p) throw new Error(`unexpected reply id ${f.requestId}`);
          this.#pending.delete(f.requestId);
          p.resolve(f.payload.slice()); // the view is reused by the next read
        }
      }
      this.#fail(new Error("connection closed by server"));
    } catch (e) {
      this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
