import assert from "node:assert/strict";
import { connectClient, pollUntil, startTestServer } from "../_helpers/test_server.ts";

Deno.test("kick: an operator closes one session by id; others keep working", async () => {
  const ts = startTestServer();
  try {
    const a = await connectClient(ts);
    const b = await connectClient(ts);
    await pollUntil(() => ts.server.sessions().length === 2, "two sessions");
    const [first] = ts.server.sessions();
    assert.equal(ts.server.kick("not-a-session"), false);
    assert.ok(ts.server.kick(first.id));
    assert.equal(ts.server.kick(first.id), false, "already draining");
    await pollUntil(() => ts.server.sessions().length === 1, "one session left");
    const left = ts.server.sessions()[0];
    assert.notEqual(left.id, first.id);
    // Whichever client was not kicked still gets answers.
    const results = await Promise.allSettled(
      [a, b].map((c) => c.request(0x20, new Uint8Array([9]))),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    await a.close().catch(() => {});
    await b.close().catch(() => {});
  } finally {
    await ts.close();
  }
});
