import assert from "node:assert/strict";
import { readLines } from "../../src/util/mod.ts";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}

Deno.test("readLines: lines split across chunks, a multi-byte character split in two, no final newline", async () => {
  const bytes = new TextEncoder().encode("one\ntwo é\n\nthree");
  const e = bytes.indexOf(0xc3); // "é" is c3 a9: cut between its two bytes
  const chunks = [bytes.subarray(0, 2), bytes.subarray(2, e + 1), bytes.subarray(e + 1)];
  const out: string[] = [];
  for await (const line of readLines(streamOf(chunks))) out.push(line);
  assert.deepEqual(out, ["one", "two é", "", "three"]);
});

Deno.test("readLines: an empty stream yields nothing", async () => {
  const out: string[] = [];
  for await (const line of readLines(streamOf([]))) out.push(line);
  assert.deepEqual(out, []);
});
