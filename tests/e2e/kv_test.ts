/**
 * The key-value service end to end: a real client over loopback TCP, the
 * server, the ORM and the embedded PostgreSQL (and the real one when
 * TEST_DATABASE_URL is set). Keys and values of every kind round-trip byte
 * for byte, versions count, List pages, errors are the contract's, and the
 * data survives a restart of server and database.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { CONFIG_DEFAULTS } from "../../src/config/mod.ts";
import { type Database, migrate, openDatabase, PROJECT_MIGRATIONS } from "../../src/db/mod.ts";
import { RemoteError } from "../../src/client/mod.ts";
import type { ClientSession } from "../../src/client/mod.ts";
import { MAX_PAYLOAD_BYTES, WireErrorCode } from "../../src/protocol/mod.ts";
import { KvType, registerKvService } from "../../src/server/mod.ts";
import { databaseFor, type DbTarget, dbTest } from "../_helpers/db_targets.ts";
import { connectClient, startTestServer, type TestServer } from "../_helpers/test_server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function call(s: ClientSession, type: number, body: string | Uint8Array): Promise<string> {
  const reply = await s.request(type, typeof body === "string" ? enc.encode(body) : body);
  return dec.decode(reply);
}
const json = async (s: ClientSession, type: number, body: unknown) =>
  JSON.parse(await call(s, type, JSON.stringify(body)));

async function wireError(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RemoteError) return e.wireCode;
    throw e;
  }
  throw new Error("expected an Error reply");
}

/** A server with the KV service on a database in the target's schema. */
async function withKv(
  t: DbTarget,
  fn: (s: ClientSession, ts: TestServer, db: Database) => Promise<void>,
  database: Partial<typeof CONFIG_DEFAULTS.database> = {},
): Promise<void> {
  const db = databaseFor(t, { database, maxConnections: 4, guard: "config" });
  await migrate(db, PROJECT_MIGRATIONS);
  const ts = startTestServer();
  registerKvService(ts.server.dispatcher, db);
  // No automatic retries: the tests look at Error 3 themselves.
  const s = await connectClient(ts, { retries: 0 });
  try {
    await fn(s, ts, db);
  } finally {
    await s.close();
    await ts.close();
    await db.close();
  }
}

dbTest(
  "kv: Put counts versions from 1, Get returns the value byte for byte, Delete reports what it did",
  async (t) => {
    await withKv(t, async (s) => {
      assert.deepEqual(await json(s, KvType.Get, { key: "a" }), {
        key: "a",
        value: null,
        version: 0,
      });
      assert.deepEqual(await json(s, KvType.Put, { key: "a", value: { x: 1 } }), {
        key: "a",
        version: 1,
      });
      const raw = '{"key":"a","value":  {"z": 1.0, "a": [1e2, "\\u00e9", null]}  }';
      assert.equal(await call(s, KvType.Put, raw), '{"key":"a","version":2}');
      assert.equal(
        await call(s, KvType.Get, '{"key":"a"}'),
        '{"key":"a","value":{"z": 1.0, "a": [1e2, "\\u00e9", null]},"version":2}',
      );
      assert.deepEqual(await json(s, KvType.Delete, { key: "a" }), { key: "a", deleted: true });
      assert.deepEqual(await json(s, KvType.Delete, { key: "a" }), { key: "a", deleted: false });
      assert.deepEqual(await json(s, KvType.Get, { key: "a" }), {
        key: "a",
        value: null,
        version: 0,
      });
      assert.deepEqual(await json(s, KvType.Put, { key: "a", value: null }), {
        key: "a",
        version: 1,
      });
      assert.deepEqual(await json(s, KvType.Get, { key: "a" }), {
        key: "a",
        value: null,
        version: 1,
      });
    });
  },
);

dbTest("kv: any key and any JSON value round-trip (property, over the wire)", async (t) => {
  await withKv(t, async (s) => {
    const key = fc.string({ unit: "binary", minLength: 1, maxLength: 60 })
      .filter((k) => k.isWellFormed() && enc.encode(k).length <= 256);
    await fc.assert(
      fc.asyncProperty(
        key,
        fc.jsonValue(),
        fc.constantFrom(undefined, 1, "\t"),
        async (k, v, indent) => {
          const valueText = JSON.stringify(v, null, indent);
          const body = `{"key":${JSON.stringify(k)},"value":${valueText}}`;
          const put = JSON.parse(await call(s, KvType.Put, body));
          const got = await call(s, KvType.Get, JSON.stringify({ key: k }));
          assert.equal(
            got,
            `{"key":${JSON.stringify(k)},"value":${valueText},"version":${put.version}}`,
          );
        },
      ),
      { numRuns: 60 },
    );
    // Keys the database could mishandle as text: NUL, quotes, LIKE metacharacters.
    for (const k of ["\u0000", "a\u0000b", "'; DROP TABLE kv_entries; --", "%", "_", "\\", "🦕"]) {
      const put = await json(s, KvType.Put, { key: k, value: k });
      assert.deepEqual(await json(s, KvType.Get, { key: k }), {
        key: k,
        value: k,
        version: put.version,
      });
    }
  });
});

dbTest("kv: List pages by literal prefix in byte order, and next resumes", async (t) => {
  await withKv(t, async (s) => {
    const keys = ["a%b", "a%c", "a_b", "aXb", "ab", "b", "a\\x", "a%", "é", "a%\u0000"];
    for (const k of keys) await json(s, KvType.Put, { key: k, value: 1 });
    const page1 = await json(s, KvType.List, { prefix: "a%", limit: 2 });
    assert.deepEqual(page1, {
      items: [{ key: "a%", version: 1 }, { key: "a%\u0000", version: 1 }],
      next: "a%\u0000",
    });
    const page2 = await json(s, KvType.List, { prefix: "a%", after: page1.next, limit: 2 });
    assert.deepEqual(page2.items.map((i: { key: string }) => i.key), ["a%b", "a%c"]);
    assert.equal(page2.next, null, "nothing after a%c");
    const underscore = await json(s, KvType.List, { prefix: "a_" });
    assert.deepEqual(underscore.items.map((i: { key: string }) => i.key), ["a_b"], "_ is literal");
    const all = await json(s, KvType.List, { prefix: "" });
    const byBytes = (x: string, y: string) => {
      const [a, b] = [enc.encode(x), enc.encode(y)];
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
      return a.length - b.length;
    };
    const sorted = [...keys].sort(byBytes);
    assert.deepEqual(all.items.map((i: { key: string }) => i.key), sorted);
    assert.equal(all.next, null);
  });
});

dbTest(
  "kv: malformed requests get Error 2, oversize values Error 7, and the session goes on",
  async (t) => {
    await withKv(t, async (s) => {
      for (const body of ["not json", "[]", '{"key":""}', '{"key":5}', '{"key":"\\ud800"}']) {
        assert.equal(await wireError(call(s, KvType.Get, body)), WireErrorCode.MalformedRequest);
      }
      assert.equal(
        await wireError(call(s, KvType.Put, '{"key":"k"}')),
        WireErrorCode.MalformedRequest,
      );
      assert.equal(
        await wireError(call(s, KvType.List, '{"prefix":"","limit":0}')),
        WireErrorCode.MalformedRequest,
      );
      assert.equal(
        await wireError(call(s, KvType.Get, new Uint8Array([0x7b, 0xff, 0x7d]))),
        WireErrorCode.MalformedRequest,
      );
      const big = JSON.stringify({ key: "k", value: "x".repeat(MAX_PAYLOAD_BYTES - 30) });
      assert.equal(await wireError(call(s, KvType.Put, big)), WireErrorCode.RequestTooLarge);
      assert.deepEqual(await json(s, KvType.Put, { key: "k", value: 1 }), { key: "k", version: 1 });
    });
  },
);

dbTest("kv: a client over its database budget gets Error 3 with retry_after_ms", async (t) => {
  await withKv(t, async (s) => {
    let limited: RemoteError | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      try {
        await json(s, KvType.Get, { key: `k${i}` });
      } catch (e) {
        if (e instanceof RemoteError) limited = e;
        else throw e;
      }
    }
    assert.ok(limited, "refused within 20 requests at 5/min");
    assert.equal(limited.wireCode, WireErrorCode.RateLimited);
    assert.ok(limited.retryAfterMs > 0);
  }, { maxRequestsPerMinute: 5 });
}, { only: "pglite" });

Deno.test({
  name: "kv: data survives a restart of the server and its embedded database",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const settings = {
      database: { ...CONFIG_DEFAULTS.database, url: undefined, embeddedDir: dir },
      cache: CONFIG_DEFAULTS.cache,
      orm: CONFIG_DEFAULTS.orm,
    };
    try {
      for (const round of [1, 2]) {
        const opened = await openDatabase(settings);
        const ts = startTestServer();
        registerKvService(ts.server.dispatcher, opened.db);
        const s = await connectClient(ts);
        try {
          if (round === 1) {
            await json(s, KvType.Put, { key: "durable\u0000", value: { n: [1, 2, 3] } });
          } else {
            assert.equal(
              await call(s, KvType.Get, JSON.stringify({ key: "durable\u0000" })),
              '{"key":"durable\\u0000","value":{"n":[1,2,3]},"version":1}',
            );
          }
        } finally {
          await s.close();
          await ts.close();
          await opened.close();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
