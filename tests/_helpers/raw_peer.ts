/**
 * A raw TCP peer for end-to-end tests, built on the pure protocol functions
 * (no client code): send arbitrary bytes or sealed frames, read frames with
 * a deadline, and tell "closed without sending a byte" apart from anything
 * else. Uses `Deno.connect`, or `node:net` when a local address is needed
 * (Deno.connect cannot bind one).
 */

import { createConnection, type Socket } from "node:net";
import {
  type CryptoBackend,
  decodeErrorPayload,
  decodeGoAwayPayload,
  type ErrorPayload,
  type Frame,
  FrameDecoder,
  type GoAwayPayload,
  type Message,
  PacketType,
  type RawSessionKeys,
  type SessionKeys,
  startClientHandshake,
} from "../../src/protocol/mod.ts";
import { defaultBackend } from "./test_server.ts";

/** A byte pipe the peer runs over. */
interface ByteTransport {
  write(bytes: Uint8Array): Promise<void>;
  /** Begin delivering data; `onEnd` runs once, on EOF, reset or local close. */
  start(onData: (chunk: Uint8Array) => void, onEnd: (error?: unknown) => void): void;
  /** Half-close: send FIN, keep reading. */
  closeWrite(): Promise<void>;
  /** Stop reading from the socket (after any read already pending); the kernel buffers fill. */
  pause(): void;
  resume(): void;
  /** Close and wait until the read side has stopped. */
  close(): Promise<void>;
}

class DenoTransport implements ByteTransport {
  readonly #conn: Deno.TcpConn;
  #pump: Promise<void> | undefined;
  #closed = false;
  #paused: { promise: Promise<void>; resolve: () => void } | undefined;
  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }
  pause(): void {
    if (this.#paused) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#paused = { promise, resolve };
  }
  resume(): void {
    const p = this.#paused;
    this.#paused = undefined;
    p?.resolve();
  }
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }
  start(onData: (c: Uint8Array) => void, onEnd: (e?: unknown) => void): void {
    this.#pump = (async () => {
      const buf = new Uint8Array(64 * 1024);
      let error: unknown;
      try {
        for (;;) {
          while (this.#paused) await this.#paused.promise;
          const n = await this.#conn.read(buf);
          if (n === null) break;
          onData(buf.slice(0, n));
        }
      } catch (e) {
        error = e;
      }
      onEnd(error);
    })();
  }
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch { /* already closed */ }
    }
    this.resume();
    await this.#pump;
  }
}

class NodeTransport implements ByteTransport {
  readonly #socket: Socket;
  readonly #closedP: Promise<void>;
  constructor(socket: Socket) {
    this.#socket = socket;
    this.#closedP = new Promise((r) => socket.once("close", () => r()));
  }
  static connect(host: string, port: number, localAddress: string): Promise<NodeTransport> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host, port, localAddress });
      const onError = (e: Error) => reject(e);
      s.once("error", onError);
      s.once("connect", () => {
        s.off("error", onError);
        resolve(new NodeTransport(s));
      });
    });
  }
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (e) => (e ? reject(e) : resolve()));
    });
  }
  start(onData: (c: Uint8Array) => void, onEnd: (e?: unknown) => void): void {
    let ended = false;
    const end = (e?: unknown) => {
      if (ended) return;
      ended = true;
      onEnd(e);
    };
    this.#socket.on("data", (b: Uint8Array) => onData(new Uint8Array(b)));
    this.#socket.on("error", (e) => end(e));
    this.#socket.on("end", () => end());
    this.#socket.on("close", () => end());
  }
  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }
  pause(): void {
    this.#socket.pause();
  }
  resume(): void {
    this.#socket.resume();
  }
  async close(): Promise<void> {
    this.#socket.destroy();
    await this.#closedP;
  }
}

/** Options for {@linkcode RawPeer.connect}. */
export interface RawPeerConnectOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** Bind the local side to this address (uses node:net). */
  readonly localAddress?: string;
  /** Crypto backend for the handshake and transport. @default the "auto" backend */
  readonly backend?: CryptoBackend;
}

/** Options for {@linkcode RawPeer.handshake}. */
export interface RawHandshakeOptions {
  readonly psk: Uint8Array;
  readonly pskId?: string;
  /** @default Date.now() */
  readonly timestampMs?: number;
  readonly rekeyAfterFrames?: number;
  /** Rewrite the ClientHello bytes before sending them. */
  readonly mutate?: (clientHello: Uint8Array) => Uint8Array;
  /** Receives the raw transport keys (to forge frames under known keys). */
  readonly onRawKeys?: (keys: RawSessionKeys) => void;
}

/** Thrown when nothing arrives in time. */
export class ReadTimeout extends Error {}

/** See module doc. */
export class RawPeer {
  readonly #t: ByteTransport;
  readonly backend: CryptoBackend;
  /** Every byte received so far. */
  bytesReceived = 0;
  /** True once the server closed the connection (EOF or reset). */
  ended = false;
  /** How the read side ended, if with an error (e.g. ConnectionReset). */
  endError: unknown;
  /** Decoded frames not yet read. */
  readonly #frames: Frame[] = [];
  #decoder = new FrameDecoder({ expect: "client" });
  #decodeError: unknown;
  #wake: (() => void) | undefined;
  keys: SessionKeys | undefined;
  /** The ClientHello sent by {@linkcode RawPeer.handshake}. */
  clientHello: Uint8Array | undefined;

  private constructor(t: ByteTransport, backend: CryptoBackend) {
    this.#t = t;
    this.backend = backend;
    t.start(
      (chunk) => {
        this.bytesReceived += chunk.length;
        if (this.#decodeError === undefined) {
          try {
            this.#frames.push(...this.#decoder.push(chunk));
          } catch (e) {
            this.#decodeError = e;
          }
        }
        this.#notify();
      },
      (e) => {
        this.ended = true;
        this.endError = e;
        this.#notify();
      },
    );
  }

  /** Open a TCP connection to `port`. */
  static async connect(port: number, options: RawPeerConnectOptions = {}): Promise<RawPeer> {
    const host = options.host ?? "127.0.0.1";
    const backend = options.backend ?? defaultBackend;
    if (options.localAddress) {
      return new RawPeer(await NodeTransport.connect(host, port, options.localAddress), backend);
    }
    const conn = await Deno.connect({ hostname: host, port });
    conn.setNoDelay(true);
    return new RawPeer(new DenoTransport(conn), backend);
  }

  /** Connect and complete a handshake. */
  static async open(
    port: number,
    hs: RawHandshakeOptions,
    options: RawPeerConnectOptions = {},
  ): Promise<RawPeer> {
    const p = await RawPeer.connect(port, options);
    try {
      await p.handshake(hs);
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  // Wait for new data or EOF, at most until `deadline`.
  async #waitEvent(deadline: number): Promise<boolean> {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const woke = await Promise.race([
      new Promise<boolean>((r) => (this.#wake = () => r(true))),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), left))),
    ]);
    clearTimeout(timer);
    this.#wake = undefined;
    return woke;
  }

  /** Write raw bytes. */
  write(bytes: Uint8Array): Promise<void> {
    return this.#t.write(bytes);
  }

  /**
   * The next frame, or null once the connection has ended with no frame left.
   * @throws {ReadTimeout} if nothing arrives within `timeoutMs`.
   */
  async readFrame(timeoutMs = 2_000): Promise<Frame | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const f = this.#frames.shift();
      if (f) return f;
      if (this.#decodeError !== undefined) throw this.#decodeError;
      if (this.ended) return null;
      if (!(await this.#waitEvent(deadline))) {
        throw new ReadTimeout(`No frame within ${timeoutMs} ms`);
      }
    }
  }

  /**
   * Wait until the server closes the connection; returns the frames that
   * arrived before the close (not yet read).
   * @throws {ReadTimeout} if still open after `timeoutMs`.
   */
  async waitClosed(timeoutMs = 2_000): Promise<Frame[]> {
    const deadline = performance.now() + timeoutMs;
    while (!this.ended) {
      if (!(await this.#waitEvent(deadline))) {
        throw new ReadTimeout(`Connection still open after ${timeoutMs} ms`);
      }
    }
    return this.#frames.splice(0);
  }

  /**
   * True if the server closed the connection within `timeoutMs` without
   * ever sending a byte; false if it sent something. Throws on timeout.
   */
  async closedWithoutAByte(timeoutMs = 2_000): Promise<boolean> {
    await this.waitClosed(timeoutMs);
    return this.bytesReceived === 0;
  }

  /** Send a ClientHello, read the ServerHello and derive the session keys. */
  async handshake(options: RawHandshakeOptions): Promise<SessionKeys> {
    const hs = await startClientHandshake(this.backend, {
      psk: options.psk,
      pskId: options.pskId,
      timestampMs: options.timestampMs ?? Date.now(),
      rekeyAfterFrames: options.rekeyAfterFrames,
      onRawKeysForTestingOnly: options.onRawKeys,
    });
    const hello = options.mutate ? options.mutate(hs.clientHello) : hs.clientHello;
    this.clientHello = hello;
    await this.write(hello);
    const f = await this.readFrame(3_000);
    if (!f) throw new Error("Connection closed during the handshake");
    this.keys = await hs.finish(f);
    return this.keys;
  }

  #sessionKeys(): SessionKeys {
    if (!this.keys) throw new Error("RawPeer: no session (handshake first)");
    return this.keys;
  }

  /** Seal one transport frame with the next nonce (and rekey after a KeyUpdate); not sent. */
  async seal(
    type: number,
    requestId: number,
    payload: Uint8Array = new Uint8Array(0),
  ): Promise<Uint8Array> {
    return await this.#sessionKeys().sender.seal(type, requestId, payload);
  }

  /** Seal and send one transport frame; returns its bytes. */
  async send(
    type: number,
    requestId: number,
    payload: Uint8Array = new Uint8Array(0),
  ): Promise<Uint8Array> {
    const f = await this.seal(type, requestId, payload);
    await this.write(f);
    return f;
  }

  /**
   * The next transport message (authenticated and decrypted), or null at EOF.
   * @throws {ReadTimeout} if none arrives within `timeoutMs`.
   */
  async readMessage(timeoutMs = 2_000): Promise<Message | null> {
    const f = await this.readFrame(timeoutMs);
    if (!f) return null;
    return await this.#sessionKeys().receiver.open(f);
  }

  /** Like {@linkcode RawPeer.readMessage}, skipping Heartbeats (and KeyUpdates unless asked for). */
  async readReply(timeoutMs = 2_000, { keepKeyUpdates = false } = {}): Promise<Message | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = await this.readMessage(Math.max(1, deadline - performance.now()));
      if (!m) return null;
      if (m.type === PacketType.Heartbeat) continue;
      if (m.type === PacketType.KeyUpdate && !keepKeyUpdates) continue;
      return m;
    }
  }

  /** Read the rest of the session until EOF: every message, in order. */
  async readUntilClosed(timeoutMs = 2_000): Promise<Message[]> {
    const deadline = performance.now() + timeoutMs;
    const out: Message[] = [];
    for (;;) {
      const m = await this.readMessage(Math.max(1, deadline - performance.now()));
      if (!m) return out;
      out.push(m);
    }
  }

  /** Half-close the connection (FIN): nothing more will be sent, replies can still arrive. */
  closeWrite(): Promise<void> {
    return this.#t.closeWrite();
  }

  /** Stop reading from the socket: the server's replies pile up in the kernel and then in the server. */
  pauseReading(): void {
    this.#t.pause();
  }

  /** Read again after {@linkcode RawPeer.pauseReading}. */
  resumeReading(): void {
    this.#t.resume();
  }

  /** Close the local side and wait for the reader to stop. */
  close(): Promise<void> {
    return this.#t.close();
  }
}

/** Decode an Error message's payload (throws if malformed). */
export function errorOf(m: Message | null): ErrorPayload {
  if (!m || m.type !== PacketType.Error) {
    throw new Error(`Expected an Error frame, got ${m ? `type 0x${m.type.toString(16)}` : "EOF"}`);
  }
  const e = decodeErrorPayload(m.payload);
  if (!e) throw new Error("Malformed Error payload");
  return e;
}

/** Decode a GoAway message's payload (throws if malformed). */
export function goAwayOf(m: Message | null): GoAwayPayload {
  if (!m || m.type !== PacketType.GoAway) {
    throw new Error(`Expected a GoAway frame, got ${m ? `type 0x${m.type.toString(16)}` : "EOF"}`);
  }
  const g = decodeGoAwayPayload(m.payload);
  if (!g) throw new Error("Malformed GoAway payload");
  return g;
}
