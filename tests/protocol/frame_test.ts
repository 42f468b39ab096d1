/**
 * Frame envelope (protocol-v1 §1, §4 sizes and states): encoding, incremental
 * decoding at every chunking, and every rejection as soon as the offending
 * header byte arrives.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.ts";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  writeHeader,
} from "../../src/protocol/frame.ts";
import { MAX_FRAME_BYTES } from "../../src/protocol/constants.ts";
import { isTransportType, PacketType } from "../../src/protocol/packet.ts";

type Phase = FrameDecoderOptions["expect"];

/** Transport types of the §4 table. */
const TRANSPORT_TYPES = [0x01, 0x02, 0x03, 0x04, 0x05, 0x10];
for (let t = 0x20; t <= 0x7f; t++) TRANSPORT_TYPES.push(t);

function bodyOf(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function header(type: number, bodyLength: number): Uint8Array {
  const h = new Uint8Array(5);
  writeHeader(h, 0, type, bodyLength);
  return h;
}

/** Push `bytes` one byte at a time; returns every frame, copied. */
function pushBytewise(d: FrameDecoder, bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)));
  return out;
}

function assertFrame(f: Frame, type: number, body: Uint8Array): void {
  assert.equal(f.type, type);
  assert.deepEqual(f.body, body);
  assert.deepEqual(f.header, header(type, body.length));
  assert.equal(f.bytes.length, 5 + body.length);
  assert.deepEqual(f.bytes.subarray(5), body);
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${e}`);
    assert.equal(e.code, code);
    return true;
  });
}

Deno.test("encodeFrame writes magic, u16 length (type + body), type and body", () => {
  const f = encodeFrame(0x20, new Uint8Array([9, 8, 7]));
  assert.deepEqual(f, new Uint8Array([0xab, 0xcd, 0x00, 0x04, 0x20, 9, 8, 7]));
  const big = encodeFrame(0x20, new Uint8Array(65534));
  assert.deepEqual(big.subarray(0, 5), new Uint8Array([0xab, 0xcd, 0xff, 0xff, 0x20]));
  assert.equal(big.length, MAX_FRAME_BYTES);
});

Deno.test("writeHeader refuses a body whose length does not fit the u16 length field", () => {
  assert.throws(() => writeHeader(new Uint8Array(5), 0, 0x20, 65535), RangeError);
  assert.throws(() => encodeFrame(0x20, new Uint8Array(65535)), RangeError);
});

Deno.test("FrameDecoder round-trips an encoded transport frame", () => {
  const body = bodyOf(100);
  const [f, ...rest] = new FrameDecoder({ expect: "transport" }).push(encodeFrame(0x20, body));
  assert.equal(rest.length, 0);
  assertFrame(f, 0x20, body);
});

Deno.test("FrameDecoder decodes a hello and transport frames fed one byte at a time", () => {
  const hello = bodyOf(58, 3);
  const b1 = bodyOf(64, 4);
  const b2 = bodyOf(300, 5);
  const stream = new Uint8Array([
    ...encodeFrame(PacketType.ClientHello, hello),
    ...encodeFrame(PacketType.Ping, b1),
    ...encodeFrame(0x7f, b2),
  ]);
  const d = new FrameDecoder({ expect: "server" });
  const frames: Frame[] = [];
  let inFrame = 0;
  const sizes = [63, 69, 305];
  let which = 0;
  for (let i = 0; i < stream.length; i++) {
    const got = d.push(stream.subarray(i, i + 1));
    inFrame++;
    if (inFrame === sizes[which]) {
      assert.equal(got.length, 1, `frame ${which} completes at byte ${i}`);
      assert.equal(d.bufferedBytes, 0);
      inFrame = 0;
      which++;
    } else {
      assert.equal(got.length, 0);
      assert.equal(d.bufferedBytes, inFrame, `buffered bytes at byte ${i}`);
    }
    frames.push(...got);
  }
  assert.equal(frames.length, 3);
  assertFrame(frames[0], PacketType.ClientHello, hello);
  assertFrame(frames[1], PacketType.Ping, b1);
  assertFrame(frames[2], 0x7f, b2);
});

Deno.test("FrameDecoder on a client decodes a ServerHello and transport frames alike bytewise or whole", () => {
  const stream = new Uint8Array([
    ...encodeFrame(PacketType.ServerHello, bodyOf(1024, 1)),
    ...encodeFrame(PacketType.Error, bodyOf(70, 2)),
    ...encodeFrame(PacketType.GoAway, bodyOf(66, 3)),
  ]);
  const whole = new FrameDecoder({ expect: "client" }).push(stream);
  const bytewise = pushBytewise(new FrameDecoder({ expect: "client" }), stream);
  assert.deepEqual(whole.map((f) => f.type), [0xa1, 0x03, 0x04]);
  assert.equal(bytewise.length, 3);
  bytewise.forEach((f, i) => assertFrame(f, whole[i].type, whole[i].body));
});

Deno.test("FrameDecoder decodes a stream split at every byte boundary", () => {
  const bodies = [bodyOf(64, 1), bodyOf(65, 2), bodyOf(200, 3)];
  const stream = new Uint8Array(bodies.flatMap((b, i) => [...encodeFrame(TRANSPORT_TYPES[i], b)]));
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder({ expect: "transport" });
    const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.equal(frames.length, 3, `cut at ${cut}`);
    frames.forEach((f, i) => assertFrame(f, TRANSPORT_TYPES[i], bodies[i]));
    assert.equal(d.bufferedBytes, 0);
  }
});

Deno.test("FrameDecoder returns several frames from one chunk as zero-copy views of it", () => {
  const a = bodyOf(64, 1);
  const b = bodyOf(70, 2);
  const chunk = new Uint8Array([...encodeFrame(0x01, a), ...encodeFrame(0x02, b)]);
  const frames = new FrameDecoder({ expect: "transport" }).push(chunk);
  assert.equal(frames.length, 2);
  assertFrame(frames[0], 0x01, a);
  assertFrame(frames[1], 0x02, b);
  for (const f of frames) {
    assert.equal(f.bytes.buffer, chunk.buffer);
    assert.equal(f.header.buffer, chunk.buffer);
    assert.equal(f.body.buffer, chunk.buffer);
  }
  assert.equal(frames[0].bytes.byteOffset, 0);
  assert.equal(frames[1].bytes.byteOffset, 69);
  // A view, not a copy: writes through the chunk are visible.
  chunk[5] ^= 0xff;
  assert.equal(frames[0].body[0], a[0] ^ 0xff);
});

Deno.test("FrameDecoder copies a frame that straddles chunks into its own buffer of exact size", () => {
  const body = bodyOf(64);
  const bytes = encodeFrame(0x10, body);
  const d = new FrameDecoder({ expect: "transport" });
  assert.deepEqual(d.push(bytes.subarray(0, 30)), []);
  assert.equal(d.bufferedBytes, 30);
  const [f] = d.push(bytes.subarray(30));
  assertFrame(f, 0x10, body);
  assert.notEqual(f.bytes.buffer, bytes.buffer);
  assert.equal(f.bytes.buffer.byteLength, bytes.length);
});

Deno.test("FrameDecoder switches to the transport rules after the hello frame", () => {
  const server = new FrameDecoder({ expect: "server" });
  const stream = new Uint8Array([
    ...encodeFrame(PacketType.ClientHello, bodyOf(58)),
    ...encodeFrame(PacketType.Heartbeat, bodyOf(64)),
  ]);
  assert.deepEqual(server.push(stream).map((f) => f.type), [0xa0, 0x10]);
  // A second ClientHello is a handshake type after the handshake.
  assertCode(() => server.push(header(PacketType.ClientHello, 58)), "FRAME_BAD_TYPE");

  const client = new FrameDecoder({ expect: "client" });
  assert.equal(client.push(encodeFrame(PacketType.ServerHello, bodyOf(73)))[0].type, 0xa1);
  assertCode(() => client.push(header(PacketType.ServerHello, 73)), "FRAME_BAD_TYPE");
});

Deno.test("FrameDecoder rejects a wrong first magic as soon as that single byte arrives", () => {
  for (const byte of [0x00, 0xcd, 0xaa, 0xff]) {
    const d = new FrameDecoder({ expect: "transport" });
    assertCode(() => d.push(new Uint8Array([byte])), "FRAME_BAD_MAGIC");
  }
});

Deno.test("FrameDecoder rejects a wrong second magic as soon as that byte arrives", () => {
  const d = new FrameDecoder({ expect: "server" });
  assert.deepEqual(d.push(new Uint8Array([0xab])), []);
  assertCode(() => d.push(new Uint8Array([0xab])), "FRAME_BAD_MAGIC");
  // And within a larger chunk.
  const d2 = new FrameDecoder({ expect: "transport" });
  assertCode(() => d2.push(new Uint8Array([0xab, 0xce, 0x00, 0x41, 0x20])), "FRAME_BAD_MAGIC");
});

Deno.test("FrameDecoder rejects a zero length as soon as the length's second byte arrives", () => {
  for (const phase of ["server", "client", "transport"] as Phase[]) {
    const d = new FrameDecoder({ expect: phase });
    assert.deepEqual(d.push(new Uint8Array([0xab, 0xcd, 0x00])), []);
    assertCode(() => d.push(new Uint8Array([0x00])), "FRAME_BAD_LENGTH");
    const d2 = new FrameDecoder({ expect: phase });
    assertCode(
      () => d2.push(new Uint8Array([0xab, 0xcd, 0, 0, 0x20, 1, 2, 3])),
      "FRAME_BAD_LENGTH",
    );
  }
});

Deno.test("FrameDecoder accepts only ClientHello first on a server, ServerHello first on a client, §4 types in transport", () => {
  const allowed: Record<Phase, (t: number) => boolean> = {
    server: (t) => t === 0xa0,
    client: (t) => t === 0xa1,
    transport: (t) => TRANSPORT_TYPES.includes(t),
  };
  const size: Record<Phase, number> = { server: 58, client: 73, transport: 64 };
  for (const phase of ["server", "client", "transport"] as Phase[]) {
    for (let t = 0; t < 256; t++) {
      const d = new FrameDecoder({ expect: phase });
      const h = header(t, size[phase]);
      // The first four bytes never decide the type.
      assert.deepEqual(d.push(h.subarray(0, 4)), []);
      if (allowed[phase](t)) {
        assert.deepEqual(d.push(h.subarray(4)), [], `${phase} type 0x${t.toString(16)}`);
        assert.equal(d.bufferedBytes, 5);
      } else {
        assertCode(() => d.push(h.subarray(4)), "FRAME_BAD_TYPE");
      }
    }
  }
  // Cross-check with packet.ts's own predicate.
  for (let t = 0; t < 256; t++) assert.equal(isTransportType(t), TRANSPORT_TYPES.includes(t));
});

Deno.test("FrameDecoder enforces body sizes at the exact bounds when the type byte arrives", () => {
  const cases: [Phase, number, number, boolean][] = [
    ["server", 0xa0, 57, false],
    ["server", 0xa0, 58, true],
    ["server", 0xa0, 1024, true],
    ["server", 0xa0, 1025, false],
    ["client", 0xa1, 72, false],
    ["client", 0xa1, 73, true],
    ["client", 0xa1, 1024, true],
    ["client", 0xa1, 1025, false],
    ["transport", 0x20, 0, false],
    ["transport", 0x20, 63, false],
    ["transport", 0x20, 64, true],
    ["transport", 0x05, 64, true],
    ["transport", 0x20, 65534, true],
    ["transport", 0x01, 65534, true],
  ];
  for (const [phase, type, size, ok] of cases) {
    const label = `${phase} type 0x${type.toString(16)} body ${size}`;
    // Header only: decided at the fifth byte, before any body byte.
    const d = new FrameDecoder({ expect: phase });
    const h = header(type, size);
    d.push(h.subarray(0, 4));
    if (!ok) {
      assertCode(() => d.push(h.subarray(4)), "FRAME_BAD_BODY_SIZE");
      continue;
    }
    assert.deepEqual(d.push(h.subarray(4)), [], label);
    // Accepted sizes decode as a whole frame too.
    const body = bodyOf(size);
    const [f] = new FrameDecoder({ expect: phase }).push(encodeFrame(type, body));
    assertFrame(f, type, body);
  }
});

Deno.test("FrameDecoder stays failed after an error, even for valid bytes", () => {
  const d = new FrameDecoder({ expect: "transport" });
  const good = encodeFrame(0x20, bodyOf(64));
  // One good frame, then a bad type in the same chunk: the error wins.
  assertCode(() => d.push(new Uint8Array([...good, ...header(0x99, 64)])), "FRAME_BAD_TYPE");
  assertCode(() => d.push(good), "TRANSPORT_STATE");
  assert.equal(d.bufferedBytes, 0);
});

Deno.test("FrameDecoder rejects after an error for every later push", () => {
  const d = new FrameDecoder({ expect: "transport" });
  assertCode(() => d.push(new Uint8Array([0x00])), "FRAME_BAD_MAGIC");
  assertCode(() => d.push(encodeFrame(0x20, bodyOf(64))), "TRANSPORT_STATE");
  assertCode(() => d.push(new Uint8Array(0)), "TRANSPORT_STATE");
  assertCode(() => d.push(encodeFrame(0x20, bodyOf(64))), "TRANSPORT_STATE");
});

Deno.test("FrameDecoder with a hostile maximal length buffers at most one frame", () => {
  const d = new FrameDecoder({ expect: "transport" });
  const h = header(0x20, 65534);
  d.push(h);
  assert.equal(d.bufferedBytes, 5);
  const filler = new Uint8Array(4096);
  let total = 5;
  while (total + filler.length < MAX_FRAME_BYTES) {
    assert.deepEqual(d.push(filler), []);
    total += filler.length;
    assert.equal(d.bufferedBytes, total);
  }
  const rest = MAX_FRAME_BYTES - total;
  const tail = new Uint8Array(rest + 3);
  tail.set([0xab, 0xcd, 0x00], rest); // the start of the next frame
  const frames = d.push(tail);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].bytes.length, MAX_FRAME_BYTES);
  assert.equal(d.bufferedBytes, 3);
});

// ---- Property tests ----

/** Split `bytes` at the given cut points (any numbers; reduced modulo length). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const arbPhase = fc.constantFrom<Phase>("server", "client", "transport");

/** Streams that often get past the magic: random bytes mixed with plausible headers. */
const arbHostileStream = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 2000 }),
    )
      .map(([len, type, rest]) =>
        new Uint8Array([0xab, 0xcd, len >> 8, len & 0xff, type, ...rest])
      ),
  ),
  { maxLength: 6 },
).map((parts) => new Uint8Array(parts.flatMap((p) => [...p])));

Deno.test("property: random bytes at random chunkings only ever raise ProtocolError and buffer at most one frame", () => {
  fc.assert(
    fc.property(
      arbPhase,
      arbHostileStream,
      fc.array(fc.nat(), { maxLength: 20 }),
      (phase, bytes, cuts) => {
        const d = new FrameDecoder({ expect: phase });
        try {
          for (const c of chunk(bytes, cuts)) {
            d.push(c);
            assert.ok(d.bufferedBytes <= MAX_FRAME_BYTES);
            assert.ok(d.bufferedBytes >= 0);
          }
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          assert.match(e.code, /^FRAME_|^TRANSPORT_STATE$/);
        }
        assert.ok(d.bufferedBytes <= MAX_FRAME_BYTES);
      },
    ),
  );
});

const arbTransportFrame = fc.record({
  type: fc.constantFrom(...TRANSPORT_TYPES),
  body: fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ minLength: 64, maxLength: 400 }) },
    { weight: 1, arbitrary: fc.integer({ min: 64, max: 65534 }).map((n) => bodyOf(n, n)) },
  ),
});

Deno.test("property: any list of valid transport frames, re-chunked arbitrarily, decodes to exactly those frames", () => {
  fc.assert(
    fc.property(
      fc.array(arbTransportFrame, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (list, cuts) => {
        const stream = new Uint8Array(list.flatMap((f) => [...encodeFrame(f.type, f.body)]));
        const d = new FrameDecoder({ expect: "transport" });
        const out: Frame[] = [];
        for (const c of chunk(stream, cuts)) {
          out.push(...d.push(c));
          assert.ok(d.bufferedBytes <= MAX_FRAME_BYTES);
        }
        assert.equal(d.bufferedBytes, 0);
        assert.equal(out.length, list.length);
        out.forEach((f, i) => assertFrame(f, list[i].type, list[i].body));
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("property: bit flips in the headers of a valid stream yield ProtocolError or frames, nothing else", () => {
  fc.assert(
    fc.property(
      fc.array(arbTransportFrame, { minLength: 1, maxLength: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 7 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (list, flips, cuts) => {
        const encoded = list.map((f) => encodeFrame(f.type, f.body));
        const starts: number[] = [];
        let at = 0;
        for (const e of encoded) {
          starts.push(at);
          at += e.length;
        }
        const stream = new Uint8Array(encoded.flatMap((e) => [...e]));
        for (const [frame, byte, bit] of flips) {
          stream[starts[frame % starts.length] + byte] ^= 1 << bit;
        }
        const d = new FrameDecoder({ expect: "transport" });
        let decoded = 0;
        try {
          for (const c of chunk(stream, cuts)) {
            for (const f of d.push(c)) {
              decoded++;
              assert.ok(isTransportType(f.type));
              assert.ok(f.body.length >= 64 && f.body.length <= 65534);
            }
            assert.ok(d.bufferedBytes <= MAX_FRAME_BYTES);
          }
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
        assert.ok(decoded <= stream.length / 69);
      },
    ),
  );
});
