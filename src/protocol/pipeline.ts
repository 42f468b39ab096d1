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
import type { Message, TransportReceiver, TransportSender } from "./transport.ts";

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

/**
 * Open `frames[from..]` in order. Synchronous when the backend is (no promise
 * per frame); switches to async at the first frame that needs it (WebCrypto,
 * or the rekey after a KeyUpdate).
 * @throws {ProtocolError} on the first frame that fails authentication.
 */
export function openFrames(
  receiver: TransportReceiver,
  frames: readonly Frame[],
  from = 0,
  observer: PipelineObserver = {},
): Message[] | Promise<Message[]> {
  const messages: Message[] = [];
  for (let i = from; i < frames.length; i++) {
    const f = frames[i];
    observer.onFrameIn?.(f.type, f.bytes.length);
    const r = receiver.open(f);
    if (r instanceof Promise) return finishOpen(receiver, frames, i, r, messages, observer);
    messages.push(r);
  }
  return messages;
}

async function finishOpen(
  receiver: TransportReceiver,
  frames: readonly Frame[],
  at: number,
  pending: Promise<Message>,
  messages: Message[],
  observer: PipelineObserver,
): Promise<Message[]> {
  messages.push(await pending);
  for (let i = at + 1; i < frames.length; i++) {
    observer.onFrameIn?.(frames[i].type, frames[i].bytes.length);
    messages.push(await receiver.open(frames[i]));
  }
  return messages;
}

const EMPTY = new Uint8Array(0);

/**
 * Seal `items` in order, inserting a KeyUpdate whenever the sender reaches
 * its rekey threshold (protocol-v1 §3: at least every 2^24 frames).
 * Synchronous when the backend is; `raw` items (hellos) pass through.
 */
export function sealItems(
  sender: TransportSender | undefined,
  items: readonly Outbound[],
  observer: PipelineObserver = {},
): Uint8Array[] | Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if ("raw" in item) {
      out.push(item.raw);
      continue;
    }
    if (!sender) throw new TypeError("Cannot encrypt before the handshake");
    if (sender.needsRekey && item.type !== PacketType.KeyUpdate) {
      return finishSeal(sender, items, i, undefined, out, observer);
    }
    const r = sender.seal(item.type, item.requestId, item.payload);
    if (r instanceof Promise) return finishSeal(sender, items, i, r, out, observer);
    observer.onFrameOut?.(item.type, r.length);
    out.push(r);
  }
  return out;
}

// Continues sealItems asynchronously from `at`, whose seal may already be under way.
async function finishSeal(
  sender: TransportSender,
  items: readonly Outbound[],
  at: number,
  pending: Promise<Uint8Array> | undefined,
  out: Uint8Array[],
  observer: PipelineObserver,
): Promise<Uint8Array[]> {
  if (pending) {
    const item = items[at] as { type: number };
    const f = await pending;
    observer.onFrameOut?.(item.type, f.length);
    out.push(f);
    at++;
  }
  for (let i = at; i < items.length; i++) {
    const item = items[i];
    if ("raw" in item) {
      out.push(item.raw);
      continue;
    }
    if (sender.needsRekey && item.type !== PacketType.KeyUpdate) {
      const k = await sender.seal(PacketType.KeyUpdate, 0, EMPTY);
      observer.onFrameOut?.(PacketType.KeyUpdate, k.length);
      out.push(k);
    }
    const f = await sender.seal(item.type, item.requestId, item.payload);
    observer.onFrameOut?.(item.type, f.length);
    out.push(f);
  }
  return out;
}

/** Frames → the handshake, then authenticated, decrypted messages. */
export class DecryptStream extends TransformStream<Frame[], InboundBatch> {
  constructor(options: DecryptStreamOptions) {
    const { channel, establish, observer = {} } = options;
    super({
      transform(frames, controller): void | Promise<void> {
        if (!channel.keys) {
          return establish(frames[0]).then(async (established) => {
            channel.establish(established.keys);
            const messages = await openFrames(established.keys.receiver, frames, 1, observer);
            controller.enqueue({ established, messages });
          });
        }
        // Synchronous with a synchronous backend: no promise per chunk.
        const r = openFrames(channel.keys.receiver, frames, 0, observer);
        if (r instanceof Promise) return r.then((messages) => controller.enqueue({ messages }));
        controller.enqueue({ messages: r });
        return undefined;
      },
    });
  }
}

/** Options for {@linkcode EncryptStream}. */
export interface EncryptStreamOptions {
  readonly channel: SecureChannel;
  readonly observer?: PipelineObserver;
}

/**
 * Outbound items → sealed frames. Sends a KeyUpdate by itself when the
 * sender reaches its rekey threshold (protocol-v1 §3: at least every 2^24).
 */
export class EncryptStream extends TransformStream<Outbound[], Uint8Array[]> {
  constructor(options: EncryptStreamOptions) {
    const { channel, observer = {} } = options;
    super({
      transform(items, controller): void | Promise<void> {
        const r = sealItems(channel.keys?.sender, items, observer);
        if (r instanceof Promise) {
          return r.then((out) => {
            if (out.length > 0) controller.enqueue(out);
          });
        }
        if (r.length > 0) controller.enqueue(r);
        return undefined;
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

/**
 * Connect `source` to `dest` as `pipeTo` does for this pipeline's needs:
 * chunks in order, backpressure (waits for `dest` to be ready), close on
 * close, and an error on either side cancels or aborts the other. It skips
 * what `pipeTo` adds for general use (AbortSignal, options, extra promise
 * bookkeeping), which in Deno made a connection's six pipes cost more to
 * build and tear down than its whole handshake (docs/PERFORMANCE.md).
 */
export async function linkStreams<T>(
  source: ReadableStream<T>,
  dest: WritableStream<T>,
): Promise<void> {
  const reader = source.getReader();
  const writer = dest.getWriter();
  // Notice a failing destination even while waiting for the next chunk.
  writer.closed.catch((e) => reader.cancel(e).catch(() => {}));
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await writer.ready;
      writer.write(value).catch(() => {}); // failures surface through ready/closed
    }
    await writer.close();
  } catch (e) {
    reader.cancel(e).catch(() => {});
    writer.abort(e).catch(() => {});
    throw e;
  }
}

/**
 * Run `source → stages… → sink` with {@linkcode linkStreams}; settles when
 * every link has, rejecting with the first error to occur.
 */
export async function runPipeline(
  source: ReadableStream<Uint8Array>,
  // deno-lint-ignore no-explicit-any
  stages: readonly TransformStream<any, any>[],
  sink: WritableStream<Uint8Array>,
): Promise<void> {
  // The first error in time is the cause (e.g. the decoder's ProtocolError);
  // the others are its echoes as the links unwind.
  let first: { error: unknown } | undefined;
  const note = (e: unknown) => {
    first ??= { error: e };
  };
  const links: Promise<void>[] = [];
  // deno-lint-ignore no-explicit-any
  let from: ReadableStream<any> = source;
  for (const stage of stages) {
    links.push(linkStreams(from, stage.writable).catch(note));
    from = stage.readable;
  }
  links.push(linkStreams(from, sink).catch(note));
  await Promise.all(links);
  if (first) throw first.error;
}
