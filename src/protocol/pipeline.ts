/**
 * The Web Streams pipeline of an established session:
 *
 * ```
 * Frame[] ─► DecryptStream ─► process ─► EncryptStream ─► sink
 *            Message[]        Outbound[]   Uint8Array (one write per batch)
 * ```
 *
 * Chunks are batches: every frame found in one read travels together, and
 * every frame ready at once is written with one write (protocol-v1 allows any
 * framing of the byte stream; coalescing saves a syscall and a wake-up per
 * frame). The role supplies the middle stage. Framing and the handshake
 * happen before the pipeline (the owner decodes frames with a `FrameDecoder`
 * and runs the handshake on the first one), so a pipeline can be started when
 * traffic arrives and ended when a session goes quiet. Any error rejects the
 * pipeline, and its owner closes the connection without sending anything
 * further (protocol-v1 §2, §3: silent close).
 *
 * @module
 */

import { concat } from "../util/mod.ts";
import type { Frame } from "./frame.ts";
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

/** Frames → authenticated, decrypted messages (one batch per batch). */
export class DecryptStream extends TransformStream<Frame[], Message[]> {
  constructor(channel: SecureChannel, observer: PipelineObserver = {}) {
    super({
      transform(frames, controller): void | Promise<void> {
        const keys = channel.keys;
        if (!keys) throw new TypeError("Cannot decrypt before the handshake");
        // Synchronous with a synchronous backend: no promise per chunk.
        const r = openFrames(keys.receiver, frames, 0, observer);
        if (r instanceof Promise) return r.then((messages) => controller.enqueue(messages));
        controller.enqueue(r);
        return undefined;
      },
    });
  }
}

/**
 * Outbound items → sealed frames, coalesced into one buffer per batch so a
 * batch costs one write. Sends a KeyUpdate by itself when the sender reaches
 * its rekey threshold (protocol-v1 §3: at least every 2^24 frames).
 */
export class EncryptStream extends TransformStream<Outbound[], Uint8Array> {
  constructor(channel: SecureChannel, observer: PipelineObserver = {}) {
    const emit = (
      out: Uint8Array[],
      controller: TransformStreamDefaultController<Uint8Array>,
    ) => {
      if (out.length > 0) controller.enqueue(out.length === 1 ? out[0] : concat(...out));
    };
    super({
      transform(items, controller): void | Promise<void> {
        const r = sealItems(channel.keys?.sender, items, observer);
        if (r instanceof Promise) return r.then((out) => emit(out, controller));
        emit(r, controller);
        return undefined;
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

/** The middle stage a role supplies: decrypted messages in, items to send out. */
export type ProcessStream = TransformStream<Message[], Outbound[]>;

/** A running `decrypt → process → encrypt → sink` chain (see {@linkcode startPipeline}). */
export interface RunningPipeline {
  /**
   * Feed the frames of one read. Resolves when the pipeline can take more
   * (backpressure): a caller that awaits it before reading again stops
   * reading a peer whose replies are not being written.
   */
  push(frames: Frame[]): Promise<void>;
  /** End the input: every stage flushes, then the sink closes. */
  end(): void;
  /** Tear every stage down with `reason`. */
  abort(reason: unknown): void;
  /** Settles when every link has, rejecting with the first error to occur. */
  readonly done: Promise<void>;
}

/**
 * Start `DecryptStream → process → EncryptStream → sink` over an established
 * channel. The stages are linked with {@linkcode linkStreams}; the first
 * error in time is the one `done` reports (the others are its echoes as the
 * links unwind).
 */
export function startPipeline(
  channel: SecureChannel,
  process: ProcessStream,
  sink: WritableStream<Uint8Array>,
  observer: PipelineObserver = {},
): RunningPipeline {
  const decrypt = new DecryptStream(channel, observer);
  const encrypt = new EncryptStream(channel, observer);
  let first: { error: unknown } | undefined;
  const note = (e: unknown) => {
    first ??= { error: e };
  };
  const links = [
    linkStreams(decrypt.readable, process.writable).catch(note),
    linkStreams(process.readable, encrypt.writable).catch(note),
    linkStreams(encrypt.readable, sink).catch(note),
  ];
  const input = decrypt.writable.getWriter();
  const ignore = () => {};
  return {
    push(frames) {
      input.write(frames).catch(note);
      return input.ready;
    },
    end() {
      input.close().catch(note);
    },
    abort(reason) {
      note(reason);
      input.abort(reason).catch(ignore);
    },
    done: Promise.all(links).then(() => {
      if (first) throw first.error;
    }),
  };
}
