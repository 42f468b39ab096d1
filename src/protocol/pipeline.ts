/**
 * The Web Streams stages shared by server and client connections:
 *
 * ```
 * bytes ─► FrameDecoderStream ─► DecryptStream ─► (process) ─► EncryptStream ─► FrameEncoderStream ─► bytes
 *          Frame[]               InboundBatch      Outbound[]   Uint8Array[]     Uint8Array (one write)
 * ```
 *
 * Chunks are batches: every frame found in one read travels together, and
 * every frame ready at once is written with one write (protocol-v1 allows any
 * framing of the byte stream; coalescing saves a syscall and a wake-up per
 * frame). The handshake runs inside {@linkcode DecryptStream}: its first
 * frame is a hello, handed to an `establish` callback that the role supplies.
 * Any error rejects the stream, which closes the connection without sending
 * anything further (protocol-v1 §2, §3: silent close).
 */

import { concat } from "../util/mod.ts";
import { type Frame, FrameDecoder, type Role } from "./frame.ts";
import type { SessionKeys } from "./handshake.ts";
import { PacketType } from "./packet.ts";
import type { Message, TransportSender } from "./transport.ts";

/** Keys shared by the inbound and outbound halves of one connection. */
export class SecureChannel {
  #keys: SessionKeys | undefined;

  /** The session keys, once the handshake has finished. */
  get keys(): SessionKeys | undefined {
    return this.#keys;
  }

  /** Called by {@linkcode DecryptStream} when the handshake completes. */
  establish(keys: SessionKeys): void {
    this.#keys = keys;
  }

  /** Destroy the transport keys (wiping them where the backend can). */
  destroy(): void {
    this.#keys?.sender.destroy();
    this.#keys?.receiver.destroy();
  }
}

/** What DecryptStream emits for one read. */
export interface InboundBatch {
  /** Present on the batch that completed the handshake. */
  readonly established?: EstablishedInfo;
  /** Transport messages, in order. */
  readonly messages: Message[];
}

/** The result of the handshake, plus bytes the role must send first (ServerHello). */
export interface EstablishedInfo {
  readonly keys: SessionKeys;
  readonly reply?: Uint8Array;
}

/** One outgoing item: a message to seal, or pre-encoded bytes (a hello). */
export type Outbound =
  | { readonly type: number; readonly requestId: number; readonly payload: Uint8Array }
  | { readonly raw: Uint8Array };

/** Observes traffic for metrics and abuse detection; all hooks optional. */
export interface PipelineObserver {
  onBytesIn?(bytes: number): void;
  onFrameIn?(type: number, bytes: number): void;
  onFrameOut?(type: number, bytes: number): void;
}

/** Bytes → frames, contract limits checked before allocation. */
export class FrameDecoderStream extends TransformStream<Uint8Array, Frame[]> {
  constructor(expect: Role, observer: PipelineObserver = {}) {
    const decoder = new FrameDecoder({ expect });
    super({
      transform(chunk, controller) {
        observer.onBytesIn?.(chunk.length);
        const frames = decoder.push(chunk); // throws → stream errors → silent close
        if (frames.length > 0) controller.enqueue(frames);
      },
    });
  }
}

/** Options for {@linkcode DecryptStream}. */
export interface DecryptStreamOptions {
  readonly channel: SecureChannel;
  /** Runs the handshake on the first (hello) frame; rejects to refuse it. */
  readonly establish: (hello: Frame) => Promise<EstablishedInfo>;
  readonly observer?: PipelineObserver;
}

/** Frames → the handshake, then authenticated, decrypted messages. */
export class DecryptStream extends TransformStream<Frame[], InboundBatch> {
  constructor(options: DecryptStreamOptions) {
    const { channel, establish, observer = {} } = options;
    super({
      async transform(frames, controller) {
        let i = 0;
        let established: EstablishedInfo | undefined;
        if (!channel.keys) {
          established = await establish(frames[0]);
          channel.establish(established.keys);
          i = 1;
        }
        const receiver = channel.keys!.receiver;
        const messages: Message[] = [];
        for (; i < frames.length; i++) {
          const f = frames[i];
          observer.onFrameIn?.(f.type, f.bytes.length);
          const r = receiver.open(f);
          messages.push(r instanceof Promise ? await r : r);
        }
        controller.enqueue({ established, messages });
      },
    });
  }
}

/** Options for {@linkcode EncryptStream}. */
export interface EncryptStreamOptions {
  readonly channel: SecureChannel;
  readonly observer?: PipelineObserver;
}

const EMPTY = new Uint8Array(0);

/**
 * Outbound items → sealed frames. Sends a KeyUpdate by itself when the
 * sender reaches its rekey threshold (protocol-v1 §3: at least every 2^24).
 */
export class EncryptStream extends TransformStream<Outbound[], Uint8Array[]> {
  constructor(options: EncryptStreamOptions) {
    const { channel, observer = {} } = options;
    super({
      async transform(items, controller) {
        const out: Uint8Array[] = [];
        for (const item of items) {
          if ("raw" in item) {
            out.push(item.raw);
            continue;
          }
          const sender: TransportSender | undefined = channel.keys?.sender;
          if (!sender) throw new TypeError("Cannot encrypt before the handshake");
          if (sender.needsRekey && item.type !== PacketType.KeyUpdate) {
            out.push(await sender.seal(PacketType.KeyUpdate, 0, EMPTY));
            observer.onFrameOut?.(PacketType.KeyUpdate, out[out.length - 1].length);
          }
          const r = sender.seal(item.type, item.requestId, item.payload);
          const f = r instanceof Promise ? await r : r;
          observer.onFrameOut?.(item.type, f.length);
          out.push(f);
        }
        if (out.length > 0) controller.enqueue(out);
      },
    });
  }
}

/** Sealed frames → one buffer per batch, so a batch costs one write. */
export class FrameEncoderStream extends TransformStream<Uint8Array[], Uint8Array> {
  constructor() {
    super({
      transform(frames, controller) {
        controller.enqueue(frames.length === 1 ? frames[0] : concat(...frames));
      },
    });
  }
}
