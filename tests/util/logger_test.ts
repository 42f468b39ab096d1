import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";
import {
  createLogger,
  type Logger,
  type LogLevel,
  ManualClock,
  noopLogger,
  REDACTED,
  redactFields,
} from "../../src/util/mod.ts";

function capture(level: LogLevel = "debug", format: "json" | "pretty" = "json") {
  const lines: string[] = [];
  const clock = new ManualClock(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  const log = createLogger({ level, format, sink: (l) => lines.push(l), clock });
  return { lines, log, records: () => lines.map((l) => JSON.parse(l)) };
}

Deno.test("createLogger writes one JSON object per line with time, level, msg, then fields", () => {
  const { lines, log, records } = capture();
  log.info("listening", { port: 8000, host: "0.0.0.0" });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("\n"));
  assert.deepEqual(records()[0], {
    time: "2024-01-02T03:04:05.006Z",
    level: "info",
    msg: "listening",
    port: 8000,
    host: "0.0.0.0",
  });
  assert.deepEqual(Object.keys(records()[0]).slice(0, 3), ["time", "level", "msg"]);
});

Deno.test("createLogger defaults to level info and JSON", () => {
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l) });
  assert.equal(log.level, "info");
  log.debug("hidden");
  log.info("shown");
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]).msg, "shown");
});

Deno.test("levels are ordered debug < info < warn < error < silent", () => {
  const order: LogLevel[] = ["debug", "info", "warn", "error", "silent"];
  const emitting = ["debug", "info", "warn", "error"] as const;
  for (const threshold of order) {
    const { log, records } = capture(threshold);
    for (const l of emitting) log[l](`at ${l}`);
    const expected = emitting.filter((l) => order.indexOf(l) >= order.indexOf(threshold));
    assert.deepEqual(records().map((r) => r.level), expected, `threshold ${threshold}`);
    for (const l of emitting) assert.equal(log.enabled(l), expected.includes(l));
  }
});

Deno.test("fields whose key looks secret are redacted at any depth", () => {
  const { log, records, lines } = capture();
  log.info("secrets", {
    psk: "aa",
    pskId: "ops",
    rekeyAfterFrames: 16,
    clientSecret: "bb",
    apiKey: "cc",
    TOKEN: "dd",
    password: "ee",
    Authorization: "Bearer ff",
    nested: { deeper: { sessionKey: "gg", ok: 1 } },
    list: [{ password: "hh" }],
  });
  const r = records()[0];
  for (
    const k of ["psk", "clientSecret", "apiKey", "TOKEN", "password", "Authorization"]
  ) {
    assert.equal(r[k], REDACTED, k);
  }
  // Names that merely contain "psk" or "key" are not secrets.
  assert.equal(r.pskId, "ops");
  assert.equal(r.rekeyAfterFrames, 16);
  assert.deepEqual(r.nested, { deeper: { sessionKey: REDACTED, ok: 1 } });
  assert.deepEqual(r.list, [{ password: REDACTED }]);
  for (const s of ["aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh"]) {
    assert.ok(!lines[0].includes(`"${s}"`) && !lines[0].includes(` ${s}"`), s);
  }
});

Deno.test("Uint8Array values are redacted whatever their key", () => {
  const { log, records, lines } = capture();
  const bytes = new Uint8Array([222, 173, 190, 239]);
  log.warn("bytes", { payload: bytes, inner: { blob: bytes.buffer }, arr: [bytes] });
  const r = records()[0];
  assert.equal(r.payload, REDACTED);
  assert.equal(r.inner.blob, REDACTED);
  assert.deepEqual(r.arr, [REDACTED]);
  assert.ok(!lines[0].includes("222"));
});

Deno.test("Error values are written as { name, code, message } without stack", () => {
  const { log, records, lines } = capture();
  const e = new ConfigError("CONFIG_INVALID", "SERVER_PORT must be an integer from 1 to 65535");
  log.error("bad config", { err: e, plain: new TypeError("nope") });
  const r = records()[0];
  assert.deepEqual(r.err, {
    name: "ConfigError",
    code: "CONFIG_INVALID",
    message: "SERVER_PORT must be an integer from 1 to 65535",
  });
  assert.deepEqual(r.plain, { name: "TypeError", message: "nope" });
  assert.ok(!lines[0].includes("at "), "no stack trace");
});

Deno.test("child loggers bind fields, redact them, and let the call's fields win", () => {
  const { log, records } = capture();
  const child = log.child({ conn: 1, token: "tk" }).child({ session: "s1" });
  child.info("a", { conn: 2 });
  child.debug("b");
  log.info("c");
  const [a, b, c] = records();
  assert.equal(a.conn, 2);
  assert.equal(a.session, "s1");
  assert.equal(a.token, REDACTED);
  assert.equal(b.conn, 1);
  assert.equal(c.conn, undefined);
  assert.equal(child.level, "debug");
});

Deno.test("fields named time, level or msg cannot overwrite the line's own", () => {
  const { log, records } = capture();
  log.info("real", { level: "fake", msg: "fake", time: 0 });
  const r = records()[0];
  assert.equal(r.level, "info");
  assert.equal(r.msg, "real");
  assert.equal(r._level, "fake");
  assert.equal(r._time, 0);
});

Deno.test("pretty format is one compact human line", () => {
  const { log, lines } = capture("debug", "pretty");
  log.warn("slow handler", { ms: 1200, route: "GET /x", apiToken: "zz" });
  assert.equal(
    lines[0],
    `03:04:05.006 WARN  slow handler ms=1200 route="GET /x" apiToken=${REDACTED}`,
  );
});

Deno.test("cycles, deep nesting, bigint, Map, Set, Date and functions are made JSON-safe", () => {
  const cyclic: Record<string, unknown> = { name: "root" };
  cyclic.self = cyclic;
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 20; i++) deep = { d: deep };
  const out = redactFields({
    cyclic,
    deep,
    big: 10n,
    map: new Map<string, unknown>([["a", 1], ["secretThing", 2]]),
    set: new Set([1, 2]),
    when: new Date(0),
    fn: () => 1,
    nan: NaN,
  });
  assert.deepEqual(out.cyclic, { name: "root", self: "[circular]" });
  assert.ok(JSON.stringify(out.deep).includes("[truncated]"));
  assert.equal(out.big, "10");
  assert.deepEqual(out.map, { a: 1, secretThing: REDACTED });
  assert.deepEqual(out.set, [1, 2]);
  assert.equal(out.when, "1970-01-01T00:00:00.000Z");
  assert.ok(!("fn" in out));
  assert.equal(out.nan, "NaN");
  // The same object twice (not a cycle) is written twice.
  const shared = { v: 1 };
  assert.deepEqual(redactFields({ a: shared, b: shared }), { a: { v: 1 }, b: { v: 1 } });
});

Deno.test("a throwing sink never throws into the caller", () => {
  const log = createLogger({
    sink: () => {
      throw new Error("disk full");
    },
  });
  log.info("x");
  log.error("y");
});

Deno.test("createLogger rejects an unknown level or format", () => {
  assert.throws(() => createLogger({ level: "loud" as LogLevel }), RangeError);
  assert.throws(() => createLogger({ format: "xml" as "json" }), RangeError);
});

Deno.test("noopLogger writes nothing and its children are noop", () => {
  const l: Logger = noopLogger.child({ a: 1 });
  assert.equal(l, noopLogger);
  assert.equal(noopLogger.level, "silent");
  for (const lvl of ["debug", "info", "warn", "error"] as const) {
    assert.equal(noopLogger.enabled(lvl), false);
    noopLogger[lvl]("nothing");
  }
});

Deno.test("a silent logger never calls its sink", () => {
  let calls = 0;
  const log = createLogger({ level: "silent", sink: () => calls++ });
  log.error("x");
  log.child({}).warn("y");
  assert.equal(calls, 0);
});

Deno.test("setLevel changes the level at runtime for a logger and its children", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warn", sink: (l) => lines.push(l) });
  const child = log.child({ part: "x" });
  child.info("dropped");
  log.setLevel("debug");
  assert.equal(child.level, "debug");
  child.debug("kept");
  child.setLevel("error");
  log.warn("dropped too");
  assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["kept"]);
  assert.throws(() => log.setLevel("loud" as never), RangeError);
});
