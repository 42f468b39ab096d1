/**
 * The session pipeline (protocol/pipeline.ts) in-process, on every crypto
 * backend: DecryptStream → process → EncryptStream → sink with real keys from
 * a real handshake. Covers batching (one write per batch), end/flush,
 * failure on a forged frame, backpressure, and the guarantee the server's
 * read loop relies on to reuse its read buffer.
 */
import assert from "node:assert/strict";
import { ProtocolError } from "../../src/errors.ts";
import { type Frame, FrameDecoder } from "../../src/protocol/frame.ts";
import { type Outbound, SecureChannel, startPipeline } from "../../src/protocol/pipeline.ts";
import type { Message } from "../../src/protocol/transport.ts";
import { PacketType } from "../../src/protocol/packet.ts";
import type { CryptoBackend } from "../../src/protocol/noise/crypto.ts";
import { backendsUnderTest } from "../_helpers/backends.ts";
import { type SessionPair, sessionPair } from "../_helpers/session_pair.ts";

const backends = await backendsUnderTest();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A process stage that answers every message with the same type, id and payload. */
function echoProcess(): TransformStream<Message[], Outbound[]> {
  return new TransformStream({
    transform(messages, c) {
      c.enqueue(
        messages.map((m) => ({ type: m.type, requestId: m.requestId, payload: m.payload })),
      );
    },
  });
}

/** A sink that records each chunk; `gate` (when set) holds every write until it resolves. */
class RecordingSink {
  readonly chunks: Uint8Array[] = [];
  closed = false;
  aborted: unknown;
  gate: Promise<void> | undefined;
  readonly stream = new WritableStream<Uint8Array>({
    write: async (chunk) => {
      if (this.gate) await this.gate;
      this.chunks.push(chunk.slice());
    },
    close: () => {
      this.closed = true;
    },
    abort: (reason) => {
      this.aborted = reason ?? true;
    },
  });
}

interface Rig {
  pair: SessionPair;
  sink: RecordingSink;
  pipeline: ReturnType<typeof startPipeline>;
}

async function rig(backend: CryptoBackend): Promise<Rig> {
  const pair = await sessionPair(backend);
  const channel = new SecureChannel();
  channel.establish(pair.server);
  const sink = new RecordingSink();
  return { pair, sink, pipeline: startPipeline(channel, echoProcess(), sink.stream) };
}

/** Client frames for `texts` (request ids 1, 3, 5, …), decoded as the server's read loop would. */
async function clientFrames(pair: SessionPair, texts: string[]): Promise<Frame[]> {
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < texts.length; i++) {
    bytes.push(await pair.client.sender.seal(0x20, 2 * i + 1, enc.encode(texts[i])));
  }
  const d = new FrameDecoder({ expect: "transport" });
  return bytes.flatMap((b) => d.push(b));
}

/** Open everything the sink received, as the client. */
async function replies(pair: SessionPair, chunks: Uint8Array[]): Promise<Message[]> {
  const d = new FrameDecoder({ expect: "transport" });
  const out: Message[] = [];
  for (const c of chunks) for (const f of d.push(c)) out.push(await pair.client.receiver.open(f));
  return out;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const backend of backends) {
  const b = backend.name;

  Deno.test(`pipeline [${b}]: a batch of frames is opened, processed and sealed back as one write`, async () => {
    const { pair, sink, pipeline } = await rig(backend);
    await pipeline.push(await clientFrames(pair, ["a", "bb", "ccc"]));
    await until(() => sink.chunks.length > 0, "the reply write");
    assert.equal(sink.chunks.length, 1, "three replies, one write");
    const got = await replies(pair, sink.chunks);
    assert.deepEqual(got.map((m) => [m.type, m.requestId, dec.decode(m.payload)]), [
      [0x20, 1, "a"],
      [0x20, 3, "bb"],
      [0x20, 5, "ccc"],
    ]);
    pipeline.end();
    await pipeline.done;
    assert.equal(sink.closed, true);
  });

  Deno.test(`pipeline [${b}]: end() lets every queued batch reach the sink before it closes`, async () => {
    const { pair, sink, pipeline } = await rig(backend);
    const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const frames = await clientFrames(pair, texts);
    for (const f of frames) pipeline.push([f]).catch(() => {});
    pipeline.end();
    await pipeline.done;
    assert.equal(sink.closed, true);
    assert.deepEqual((await replies(pair, sink.chunks)).map((m) => dec.decode(m.payload)), texts);
  });

  Deno.test(`pipeline [${b}]: a forged frame rejects the pipeline with a ProtocolError and aborts the sink`, async () => {
    const { pair, sink, pipeline } = await rig(backend);
    const [good, bad] = await clientFrames(pair, ["ok", "forged"]);
    bad.bytes[bad.bytes.length - 1] ^= 1; // flip a bit of the HMAC trailer
    await pipeline.push([good]);
    await until(() => sink.chunks.length === 1, "the first reply");
    pipeline.push([bad]).catch(() => {});
    await assert.rejects(pipeline.done, ProtocolError);
    assert.notEqual(sink.aborted, undefined, "the sink is aborted, so nothing more is written");
    assert.equal(sink.chunks.length, 1);
  });

  Deno.test(`pipeline [${b}]: push() stops resolving while the sink is blocked, and resumes after`, async () => {
    const { pair, sink, pipeline } = await rig(backend);
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const texts = Array.from({ length: 30 }, (_, i) => `n${i}`);
    const frames = await clientFrames(pair, texts);
    let resolved = 0;
    const pushes = frames.map((f) => pipeline.push([f]).then(() => resolved++));
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(resolved < 10, `only a bounded number of batches is accepted (${resolved})`);
    open();
    await Promise.all(pushes);
    assert.equal(resolved, 30);
    pipeline.end();
    await pipeline.done;
    assert.deepEqual((await replies(pair, sink.chunks)).map((m) => dec.decode(m.payload)), texts);
  });

  Deno.test(`pipeline [${b}]: once push() resolves, the frames' bytes may be overwritten`, async () => {
    // The server decodes frames as views of one reused read buffer and reads
    // again as soon as push() resolves; this is the property that makes it safe.
    const { pair, sink, pipeline } = await rig(backend);
    const texts = ["first", "second", "third"];
    for (const f of await clientFrames(pair, texts)) {
      await pipeline.push([f]);
      f.bytes.fill(0);
    }
    pipeline.end();
    await pipeline.done;
    assert.deepEqual((await replies(pair, sink.chunks)).map((m) => dec.decode(m.payload)), texts);
  });
}

Deno.test("pipeline: EncryptStream refuses to seal before the handshake", async () => {
  const channel = new SecureChannel();
  const sink = new RecordingSink();
  const process = new TransformStream<Message[], Outbound[]>({
    start: (c) => c.enqueue([{ type: PacketType.Ping, requestId: 1, payload: new Uint8Array(0) }]),
  });
  const p = startPipeline(channel, process, sink.stream);
  await assert.rejects(p.done, TypeError);
  assert.equal(sink.chunks.length, 0);
});
