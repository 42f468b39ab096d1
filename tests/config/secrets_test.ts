import assert from "node:assert/strict";
import fc from "fast-check";
import {
  KeyRing,
  loadConfig,
  parseHexKey,
  parsePskFile,
  redactConfig,
} from "../../src/config/mod.ts";
import { ConfigError } from "../../src/errors.ts";
import { toHex, utf8 } from "../../src/util/mod.ts";

const KEY_A = "0f".repeat(32);
const KEY_B = "Ab".repeat(32);

function pskError(text: string | Uint8Array, file = "psks.txt"): string {
  try {
    parsePskFile(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, "CONFIG_INVALID");
    assert.ok(!e.message.includes("\n"));
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("parseHexKey accepts exactly 64 hex characters of either case, trimmed", () => {
  assert.deepEqual(parseHexKey("K", KEY_A), new Uint8Array(32).fill(0x0f));
  assert.equal(toHex(parseHexKey("K", ` ${KEY_B}\n`)), KEY_B.toLowerCase());
});

Deno.test("parseHexKey rejects anything else with a message naming the variable only", () => {
  for (
    const bad of [
      "",
      "0f",
      KEY_A.slice(1),
      KEY_A + "0",
      KEY_A.slice(2) + "zz",
      `${KEY_A.slice(32)} ${KEY_A.slice(32)}`,
    ]
  ) {
    assert.throws(
      () => parseHexKey("PSK_SECRET", bad),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, "PSK_SECRET must be 64 hex characters (32 bytes)");
        return true;
      },
    );
  }
});

Deno.test("parsePskFile reads id=hex lines and skips comments and blank lines", () => {
  const text = [
    "# SomnyToo PSKs",
    "",
    `ops=${KEY_A}`,
    "   # indented comment",
    `  ci team = ${KEY_B}  `,
    `=${KEY_A}`,
    `a=b=${KEY_B}`,
    `ключ=${KEY_A}`,
    "",
  ].join("\r\n");
  const m = parsePskFile(text, "psks.txt");
  assert.deepEqual([...m.keys()], ["ops", "ci team", "", "a=b", "ключ"]);
  assert.equal(toHex(m.get("ci team")!), KEY_B.toLowerCase());
});

Deno.test("parsePskFile accepts a BOM, bytes, and an empty file", () => {
  assert.equal(parsePskFile(`\uFEFFx=${KEY_A}`, "f").size, 1);
  assert.equal(parsePskFile(utf8(`x=${KEY_A}\n`), "f").size, 1);
  assert.equal(parsePskFile("", "f").size, 0);
  assert.equal(parsePskFile("# only comments\n\n", "f").size, 0);
});

Deno.test("PSK ids may be up to 64 bytes of UTF-8", () => {
  const id64 = "é".repeat(32); // 2 bytes each
  assert.equal(utf8(id64).length, 64);
  assert.ok(parsePskFile(`${id64}=${KEY_A}`, "f").has(id64));
  assert.equal(
    pskError(`${id64}x=${KEY_A}`),
    "PSK file psks.txt line 1: id must be at most 64 bytes of UTF-8",
  );
});

Deno.test("parsePskFile errors name the file and line and never the key", () => {
  const cases: [string, string][] = [
    [
      `ok=${KEY_A}\nno-equals-sign ${KEY_B}`,
      "PSK file psks.txt line 2: expected id=<64 hex characters>",
    ],
    [
      `ok=${KEY_A}\n\nbad=${KEY_B.slice(2)}`,
      "PSK file psks.txt line 3: key must be 64 hex characters (32 bytes)",
    ],
    [`bad=${KEY_B}ff`, "PSK file psks.txt line 1: key must be 64 hex characters (32 bytes)"],
    [`bad=`, "PSK file psks.txt line 1: key must be 64 hex characters (32 bytes)"],
    [
      `# c\nops=${KEY_A}\nops=${KEY_B}`,
      'PSK file psks.txt line 3: duplicate id "ops" (first defined on line 2)',
    ],
    [
      `a\tb=${KEY_A}`,
      "PSK file psks.txt line 1: id must be valid UTF-8 without control characters",
    ],
    [
      `\uD800x=${KEY_A}`,
      "PSK file psks.txt line 1: id must be valid UTF-8 without control characters",
    ],
  ];
  for (const [text, expected] of cases) {
    const msg = pskError(text);
    assert.equal(msg, expected);
    for (const k of [KEY_A, KEY_B, KEY_B.slice(2)]) {
      for (let i = 0; i + 8 <= k.length; i += 4) assert.ok(!msg.includes(k.slice(i, i + 8)));
    }
  }
  assert.equal(
    pskError(new Uint8Array([0x61, 0xff, 0x3d]), "/etc/psks"),
    "PSK file /etc/psks is not valid UTF-8",
  );
});

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

Deno.test("parsePskFile round-trips any set of valid ids and keys", () => {
  const id = fc.string({ unit: "grapheme", maxLength: 20 })
    .map((s) => s.trim())
    .filter((s) =>
      !s.startsWith("#") && !CONTROL.test(s) && utf8(s).length <= 64 &&
      s.isWellFormed()
    );
  const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(id, key), { selector: ([i]) => i, maxLength: 8 }),
      (entries) => {
        const text = entries.map(([i, k]) => `${i}=${toHex(k)}`).join("\n");
        const parsed = parsePskFile(text, "f");
        assert.deepEqual([...parsed.entries()], entries);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("KeyRing is read-only, hands out copies and hides keys when printed", () => {
  const ring = new KeyRing([["ops", parseHexKey("K", KEY_A)]]);
  assert.ok(Object.isFrozen(ring));
  assert.equal(ring.size, 1);
  assert.ok(ring.has("ops") && !ring.has("x"));
  ring.get("ops")!.fill(1);
  ring.forEach((v) => v.fill(2));
  for (const v of ring.values()) v.fill(3);
  assert.equal(toHex(ring.get("ops")!), KEY_A);
  assert.equal(JSON.stringify(ring), '{"ops":"[redacted]"}');
  assert.equal(String(ring), 'KeyRing(1) ["ops"]');
  assert.equal(Deno.inspect(ring), 'KeyRing(1) ["ops"]');
  assert.equal(Deno.inspect({ ring }).includes("15"), false);
});

Deno.test("redactConfig replaces every secret and keeps everything else", () => {
  const config = loadConfig({
    env: {
      PSK_SECRET: KEY_A,
      PSK_FILE: "/etc/psks",
      HMAC_SECRET_KEY: KEY_B,
      DATABASE_URL: "postgresql://app:s3cr%40t@db.internal:5432/app?sslmode=require&password=qp",
      REPLICA_URLS: "postgres://ro:r0pass@r1/app,postgres://r2/app",
      ALERT_WEBHOOK_URL: "https://hooks.slack.example/services/T0/B0/abcdef?x=1",
      ADMIN_TOKEN: "admin-token-0123456789",
      SERVER_PORT: "8100",
    },
    fileReader: () => `ops=${KEY_B}\n`,
  });
  const r = redactConfig(config) as Record<string, Record<string, unknown>>;
  const json = JSON.stringify(r);
  for (
    const secret of [
      KEY_A,
      KEY_B.toLowerCase(),
      KEY_B,
      "s3cr",
      "qp",
      "r0pass",
      "services/T0",
      "abcdef",
      "admin-token",
    ]
  ) {
    assert.ok(!json.includes(secret), `leaks ${secret}: ${json}`);
  }
  assert.deepEqual(r.security.psks, { "": "[redacted]", ops: "[redacted]" });
  assert.equal(r.security.hmacSecretKey, "[redacted]");
  assert.equal(r.security.aesSecretKey, null);
  assert.equal(r.security.pskFile, "/etc/psks");
  assert.equal(
    r.database.url,
    "postgresql://app:[redacted]@db.internal:5432/app?sslmode=require&password=[redacted]",
  );
  assert.deepEqual(r.scaling.readReplicaUrls, [
    "postgres://ro:[redacted]@r1/app",
    "postgres://r2/app",
  ]);
  assert.equal(r.monitoring.alertWebhookUrl, "https://hooks.slack.example/[redacted]");
  assert.equal(r.monitoring.adminToken, "[redacted]");
  assert.equal(r.server.port, 8100);
  assert.deepEqual(r.security.aimd, { ...config.security.aimd });
  assert.deepEqual(JSON.parse(json), r, "JSON-safe");
});

Deno.test("redactConfig of the defaults shows unset secrets as null", () => {
  const r = redactConfig(loadConfig({ env: {} })) as Record<string, Record<string, unknown>>;
  assert.deepEqual(r.security.psks, {});
  assert.equal(r.database.url, null);
  assert.equal(r.monitoring.adminToken, null);
  assert.equal(r.logLevel, "info");
});
