import assert from "node:assert/strict";
import { LruMap } from "../../src/util/mod.ts";

Deno.test("LruMap: evicts least recently set first; refreshing moves an entry to the end", () => {
  const m = new LruMap<string, number>();
  for (const k of ["a", "b", "c"]) m.set(k, 0);
  m.set("a", 1);
  assert.deepEqual(m.evictOldest(), ["b", 0]);
  assert.deepEqual(m.evictOldest(), ["c", 0]);
  assert.deepEqual(m.evictOldest(), ["a", 1]);
  assert.equal(m.evictOldest(), undefined);
  assert.equal(m.size, 0);
});

Deno.test("LruMap: stays bounded and correct through 300 000 inserts with eviction", () => {
  const m = new LruMap<number, number>();
  for (let i = 0; i < 300_000; i++) {
    m.set(i, i);
    if (i % 7 === 0) m.set(i - 3, i); // refresh a recent one
    if (i % 11 === 0) m.delete(i - 5);
    while (m.size > 1000) m.evictOldest();
  }
  assert.equal(m.size, 1000);
  // What is left is the most recent 1000 (by last set).
  const keys = [...m.entries()].map(([k]) => k);
  assert.ok(keys.every((k) => k >= 300_000 - 1200), `oldest left: ${Math.min(...keys)}`);
});
