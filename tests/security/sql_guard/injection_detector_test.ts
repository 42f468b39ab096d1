/** SqlInjectionDetector: the rules one by one, tokenizer awareness, and check(). */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type DbSecurityEvent,
  type Finding,
  type FindingKind,
  SqlInjectionDetector,
  type SqlInjectionDetectorOptions,
  SqlInjectionError,
} from "../../../src/security/sql_guard/mod.ts";
import { OrmError } from "../../../src/errors.ts";
import { ManualClock } from "../../../src/util/clock.ts";

const detector = new SqlInjectionDetector();

function kinds(sql: string): FindingKind[] {
  return detector.inspectRawSql(sql).map((f) => f.kind);
}

function strongest(sql: string): Finding | undefined {
  return detector.inspectRawSql(sql)[0];
}

function setup(over: SqlInjectionDetectorOptions = {}) {
  const events: DbSecurityEvent[] = [];
  const clock = new ManualClock(1_700_000_000_000);
  const d = new SqlInjectionDetector({ clock, onEvent: (e) => events.push(e), ...over });
  return { d, events, clock };
}

const raw = (sql: string) => ({ sql, params: [] as unknown[], rawText: [sql] });

Deno.test("inspectRawSql finds each kind in a typical payload, at a rejecting severity", () => {
  const cases: [FindingKind, string][] = [
    ["stacked_query", "SELECT * FROM t WHERE id = 1; DROP TABLE t"],
    ["comment_truncation", "SELECT * FROM users WHERE name = 'admin'--' AND pw = 'x'"],
    ["comment_truncation", "SELECT * FROM users WHERE name = 'admin' -- ' AND pw = 'x'"],
    ["comment_truncation", "SELECT * FROM users WHERE id = 1 /* AND owner = 2"],
    ["comment_truncation", "SELECT * FROM users WHERE name = 'admin'#'"],
    ["comment_obfuscation", "SELECT * FROM t WHERE id = 1 UNION/**/SELECT 2"],
    ["comment_obfuscation", "SELECT * FROM t WHERE id = 1 UN/*x*/ION SELECT 2"],
    ["comment_obfuscation", "SELECT * FROM t WHERE id = 1 /*!UNION*/ SELECT 2"],
    ["tautology", "SELECT * FROM t WHERE a = '' OR '1'='1'"],
    ["tautology", "SELECT * FROM t WHERE a = '' OR ''=''"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR true"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR 2>1"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR NOT 1=2"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR ('x' LIKE 'x')"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR 1 IN (1, 2)"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR a = a"],
    ["tautology", "SELECT * FROM t WHERE a = 1 OR CHR(65)=CHR(65)"],
    ["boolean_probe", "SELECT * FROM t WHERE a = 1 AND 1=2"],
    [
      "boolean_probe",
      "SELECT * FROM t WHERE a = 1 AND ASCII(SUBSTRING((SELECT pw FROM u),1,1))>64",
    ],
    ["boolean_probe", "SELECT * FROM t GROUP BY a HAVING 1=1"],
    ["union_select", "SELECT a FROM t WHERE id = 1 UNION SELECT NULL"],
    ["union_select", "SELECT a FROM t WHERE id = -1 UNION ALL SELECT username FROM users"],
    ["union_select", "SELECT a FROM t WHERE id = $1 UNION SELECT usename FROM pg_shadow"],
    ["time_delay", "SELECT * FROM t WHERE id = 1 AND pg_sleep(5) IS NULL"],
    ["time_delay", "SELECT 1 WHERE 1 = (SELECT 1 FROM pg_catalog.pg_sleep(5))"],
    ["time_delay", "SELECT 1 WAITFOR DELAY '0:0:5'"],
    ["time_delay", "SELECT BENCHMARK(1000000, MD5(1))"],
    ["time_delay", "SELECT SLEEP(5)"],
    ["dangerous_function", "SELECT pg_read_file('/etc/passwd')"],
    ["dangerous_function", "SELECT lo_import('/etc/passwd')"],
    ["dangerous_function", "COPY (SELECT 1) TO PROGRAM 'id'"],
    ["dangerous_function", "SELECT * FROM dblink('host=x', 'SELECT 1') AS t(a int)"],
    ["dangerous_function", "EXEC xp_cmdshell 'dir'"],
    ["dangerous_function", "SELECT 1 INTO OUTFILE '/tmp/x'"],
    ["system_probe", "SELECT @@version"],
    ["system_probe", "SELECT passwd FROM pg_shadow"],
    ["system_probe", "SELECT extractvalue(1, 'x')"],
    ["encoding_trick", "SELECT CHR(97)||CHR(100)"],
    ["encoding_trick", "SELECT CHAR(97,100,109)"],
    ["encoding_trick", "SELECT 0x61646d696e"],
    ["encoding_trick", "SELECT E'\\x61\\x64\\x6d'"],
    ["encoding_trick", "SELECT * FROM t WHERE a = 1%27%20OR"],
    ["encoding_trick", "SELECT * FROM t WHERE a = \uff07 OR 1"],
    ["encoding_trick", "SELECT 'a\u0000b'"],
    ["encoding_trick", "SELECT 'a' || (SELECT pw FROM u)"],
    ["quote_imbalance", "SELECT * FROM t WHERE a = 'x"],
    ["quote_imbalance", 'SELECT * FROM "t'],
    ["quote_imbalance", "SELECT $$ never closed"],
    ["malformed_token", "SELECT * FROM t WHERE a = 'x'OR b = 1"],
    ["malformed_token", "SELECT * FROM t WHERE a = 1AND b = 1"],
    ["paren_imbalance", "SELECT * FROM t WHERE (a = '') OR ('1' = '1') ) OR (b"],
  ];
  for (const [kind, sql] of cases) {
    const found = detector.inspectRawSql(sql).find((f) => f.kind === kind);
    assert.ok(found, `${kind} not found in ${JSON.stringify(sql)}: ${kinds(sql)}`);
    assert.ok(found.severity >= 0.7, `${kind} severity ${found.severity} in ${sql}`);
  }
});

Deno.test("inspectRawSql does not look inside literals, identifiers, dollar quotes or comments", () => {
  const inert = [
    "SELECT 'x; DROP TABLE t' AS a",
    "SELECT 'x'' OR ''1''=''1' AS a",
    "SELECT E'x\\' OR 1=1; --' AS a",
    "SELECT $$ ' OR 1=1; DROP TABLE t -- $$ AS a",
    "SELECT $q$ $$ ' UNION SELECT NULL $$ $q$ AS a",
    'SELECT "x; DROP TABLE t" FROM "a""b"',
    "SELECT 1 -- and then; DROP TABLE t",
    "SELECT 1 /* ' OR 1=1; pg_sleep(5) */",
    "SELECT U&'\\0027 OR 1=1' AS a",
  ];
  for (const sql of inert) {
    const f = strongest(sql);
    assert.ok(!f || f.severity < 0.7, `${sql}: ${f?.kind} ${f?.detail}`);
  }
});

Deno.test("inspectRawSql follows PostgreSQL: backslash does not escape a quote in a standard string", () => {
  // MySQL would read 'a\' OR 1=1 --' as one string; PostgreSQL ends it at \'.
  assert.ok(kinds("SELECT * FROM t WHERE a = 'a\\' OR 1=1 --'").includes("tautology"));
  assert.deepEqual(kinds("SELECT * FROM t WHERE a = E'a\\' OR 1=1 --'"), []);
});

Deno.test("inspectRawSql leaves $n parameters alone but rejects a dollar tag never closed", () => {
  assert.deepEqual(kinds("SELECT $1, $22 FROM t WHERE a = $3"), []);
  assert.ok(kinds("SELECT $a$ x").includes("quote_imbalance"));
});

Deno.test("a finding's detail is short and never echoes a huge input", () => {
  const huge = "SELECT * FROM t WHERE a = '" + "A".repeat(50_000) + "'; DROP TABLE t; --";
  const findings = detector.inspectRawSql(huge);
  assert.ok(findings.length > 0);
  for (const f of findings) {
    assert.ok(f.detail.length < 120, f.detail);
    assert.ok(f.offset >= 0 && f.offset <= huge.length);
    assert.ok(f.severity > 0 && f.severity <= 1);
  }
  const stacked = findings.find((f) => f.kind === "stacked_query");
  assert.ok(stacked && huge.slice(stacked.offset).startsWith(";"));
});

Deno.test("inspectRawSql keeps only the strongest finding per kind, strongest first", () => {
  const findings = detector.inspectRawSql(
    "SELECT 1 WHERE a = '' OR 1=1 OR 2=2 OR 'a'='a'; SELECT 2; SELECT 3",
  );
  const k = findings.map((f) => f.kind);
  assert.equal(new Set(k).size, k.length);
  for (let i = 1; i < findings.length; i++) {
    assert.ok(findings[i - 1].severity >= findings[i].severity);
  }
});

Deno.test("inspectRawSql never throws and stays bounded on arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
      const f = detector.inspectRawSql(s);
      assert.ok(f.length <= 13);
      for (const x of f) assert.ok(x.severity > 0 && x.severity <= 1 && x.detail.length < 120);
    }),
    { numRuns: 2000 },
  );
  const alphabet = fc.constantFrom(
    ..."'\"$;-/*()=|#%xX0 aeE\\\n".split(""),
    " OR ",
    " UNION SELECT ",
  );
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 80 }), (parts) => {
      detector.inspectRawSql(parts.join(""));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("inspectRawSql stays fast on hostile 100 000-character inputs", () => {
  const n = 100_000;
  const hostile = [
    "(".repeat(n),
    " OR (".repeat(n / 5),
    "chr(1)||".repeat(n / 8),
    " UNION SELECT (".repeat(n / 15),
    "; copy (".repeat(n / 8),
    " or 1 in (".repeat(n / 10),
    " OR " + "(".repeat(n / 2) + "1" + ")".repeat(n / 2) + "=1",
  ];
  for (const s of hostile) {
    const t0 = performance.now();
    detector.inspectRawSql(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `${s.slice(0, 12)}…: ${ms.toFixed(0)} ms`);
  }
});

Deno.test("any string quoted correctly as a literal or identifier is never rejected", () => {
  const text = fc.string({ unit: "binary", maxLength: 200 }).map((s) => s.replaceAll("\0", ""));
  fc.assert(
    fc.property(text, (s) => {
      const forms = [
        `SELECT * FROM t WHERE a = '${s.replaceAll("'", "''")}'`,
        `SELECT * FROM t WHERE a = E'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`,
        `SELECT "${s.replaceAll('"', '""')}" FROM t`,
      ];
      if (!s.includes("$q$") && !s.endsWith("$q")) forms.push(`SELECT $q$${s}$q$`);
      for (const sql of forms) {
        const f = strongest(sql);
        assert.ok(!f || f.severity < 0.7, `${JSON.stringify(sql)}: ${f?.kind}`);
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("inspectValue reports payload-like values in any quoting context", () => {
  const cases: [unknown, FindingKind][] = [
    ["' OR '1'='1", "tautology"],
    ["1; DROP TABLE users--", "stacked_query"],
    ["admin'--", "comment_truncation"],
    ["x UNION SELECT password FROM users", "union_select"],
    ["pg_sleep(5)", "time_delay"],
    ["@@version", "system_probe"],
    ['" OR ""="', "tautology"],
    ["%27%20OR%201%3D1--", "tautology"], // URL-encoded
    ["%2527%20OR%201%3D1--", "tautology"], // double URL-encoded
    ["&#39; OR &#39;1&#39;=&#39;1", "tautology"], // HTML entities
    ["\uff07 OR 1=1--", "tautology"], // fullwidth apostrophe (NFKC)
    [["ok", { nested: "1' AND SLEEP(5)#" }], "time_delay"],
  ];
  for (const [v, kind] of cases) {
    const f = detector.inspectValue(v);
    assert.ok(f.some((x) => x.kind === kind), `${JSON.stringify(v)}: ${f.map((x) => x.kind)}`);
  }
});

Deno.test("inspectValue ignores non-strings and deep or huge structures stay bounded", () => {
  for (const v of [1, 1n, true, null, undefined, new Date(), new Uint8Array(4), Symbol("x")]) {
    assert.deepEqual(detector.inspectValue(v), []);
  }
  let deep: unknown = "' OR 1=1--";
  for (let i = 0; i < 10; i++) deep = [deep];
  assert.deepEqual(detector.inspectValue(deep), [], "walked 4 levels only");
  const many = Array.from({ length: 1000 }, () => "fine");
  many.push("' OR 1=1--");
  assert.deepEqual(detector.inspectValue(many), [], "64 strings only");
  const padded = " ".repeat(20_000) + "' OR 1=1--";
  assert.deepEqual(detector.inspectValue(padded), [], "the head only (maxValueChars)");
  fc.assert(fc.property(fc.anything(), (v) => {
    detector.inspectValue(v);
  }));
});

Deno.test("check rejects SQL longer than maxQueryLength with QUERY_TOO_LONG, raw or built", () => {
  const { d } = setup({ maxQueryLength: 20 });
  const long = "SELECT 1 FROM tbl WHERE a = $1";
  for (const q of [raw(long), { sql: long, params: [1], rawText: [] }]) {
    assert.throws(() => d.check(q, "c"), (e) => {
      assert.ok(e instanceof OrmError);
      assert.equal(e.code, "QUERY_TOO_LONG");
      assert.match(e.message, /length 30 exceeds maxQueryLength 20/);
      return true;
    });
  }
  d.check(raw("SELECT 1"), "c");
  const exactly = "SELECT a, b FROM tbl"; // 20 characters
  d.check(raw(exactly), "c");
  assert.throws(() => d.check(raw(exactly + "2"), "c"), { code: "QUERY_TOO_LONG" });
});

Deno.test("check rejects injected raw SQL naming the finding kinds, reports it, and never echoes the query", () => {
  const { d, events } = setup();
  const sql = "SELECT * FROM users WHERE name = 'x'; DELETE FROM secrets_table_xyz; --'";
  assert.throws(() => d.check(raw(sql), "203.0.113.9"), (e) => {
    assert.ok(e instanceof SqlInjectionError && e instanceof OrmError);
    assert.equal(e.code, "SQL_INJECTION_DETECTED");
    assert.match(e.message, /stacked_query/);
    assert.ok(!e.message.includes("secrets_table_xyz"));
    assert.ok(e.findings.some((f) => f.kind === "stacked_query"));
    assert.ok(!Object.keys(e).includes("findings"), "findings are not enumerable");
    assert.ok(!JSON.stringify(e).includes("secrets_table_xyz"));
    return true;
  });
  assert.equal(events.length, 1);
  assert.deepEqual(
    { ...events[0], findings: undefined },
    {
      kind: "SQLInjectionAttempt",
      caller: "203.0.113.9",
      detail: `raw SQL rejected: ${events[0].findings!.map((f) => f.kind).join(", ")}`,
      findings: undefined,
      atMs: 1_700_000_000_000,
      rejected: true,
    },
  );
  assert.ok(!events[0].detail.includes("secrets_table_xyz"));
});

Deno.test("check with protection disabled runs injected raw SQL but still reports it", () => {
  const { d, events } = setup({ enabled: false });
  d.check(raw("SELECT * FROM t WHERE a = '' OR '1'='1'"), "c");
  assert.equal(events.length, 1);
  assert.equal(events[0].rejected, false);
  assert.match(events[0].detail, /^raw SQL allowed \(protection disabled\): tautology/);
});

Deno.test("check's rejectThreshold decides which findings reject", () => {
  const sql = "SELECT id FROM a WHERE k = $1 UNION SELECT id FROM b"; // union_select 0.6
  setup().d.check(raw(sql), "c");
  assert.throws(() => setup({ rejectThreshold: 0.5 }).d.check(raw(sql), "c"), {
    code: "SQL_INJECTION_DETECTED",
  });
  const stacked = "SELECT 1; SELECT 2";
  setup({ rejectThreshold: 1 }).d.check(raw(stacked), "c");
});

Deno.test("check screens raw fragments joined at their parameters, not the compiled text", () => {
  const { d } = setup();
  // Builder output (rawText empty) is trusted: the compiler wrote it.
  d.check({ sql: "SELECT 1; SELECT 2", params: [], rawText: [] }, "c");
  // A value pasted inside a fragment is caught; a bound value is not SQL.
  const parts = ["SELECT * FROM t WHERE a = ", " AND b = '' OR 'x'='x'"];
  assert.throws(
    () => d.check({ sql: parts.join("$1"), params: [1], rawText: parts }, "c"),
    { code: "SQL_INJECTION_DETECTED" },
  );
  d.check(
    {
      sql: "SELECT * FROM t WHERE a = $1",
      params: ["' OR 'x'='x"],
      rawText: ["SELECT * FROM t WHERE a = ", ""],
    },
    "c",
  );
});

Deno.test("check reports suspicious parameter values once per query, naming the parameters", () => {
  const { d, events, clock } = setup();
  clock.advance(5);
  d.check(
    {
      sql: "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)",
      params: ["fine", "' OR '1'='1", "pg_sleep(10)"],
      rawText: [],
    },
    "s-1",
  );
  assert.equal(events.length, 1);
  const [e] = events;
  assert.equal(e.kind, "SQLInjectionAttempt");
  assert.equal(e.rejected, false);
  assert.equal(e.atMs, 1_700_000_000_005);
  assert.match(e.detail, /\$2 \(tautology/);
  assert.match(e.detail, /\$3 \(time_delay\)/);
  assert.ok(!e.detail.includes("$1"));
  for (let i = 1; i < e.findings!.length; i++) {
    assert.ok(e.findings![i - 1].severity >= e.findings![i].severity);
  }
});

Deno.test("check survives a sink that throws, and works without a sink", () => {
  const d = new SqlInjectionDetector({
    onEvent: () => {
      throw new Error("sink down");
    },
  });
  d.check({ sql: "SELECT $1", params: ["' OR 1=1--"], rawText: [] }, "c");
  assert.throws(() => d.check(raw("SELECT 1; SELECT 2"), "c"), SqlInjectionError);
  new SqlInjectionDetector().check({ sql: "SELECT $1", params: ["' OR 1=1--"], rawText: [] }, "c");
});

Deno.test("SqlInjectionDetector validates its options", () => {
  for (
    const bad of [
      { maxQueryLength: 0 },
      { maxQueryLength: 1.5 },
      { rejectThreshold: 0 },
      { rejectThreshold: 1.1 },
      { reportThreshold: Number.NaN },
      { maxValueChars: -1 },
    ]
  ) {
    assert.throws(() => new SqlInjectionDetector(bad), RangeError, JSON.stringify(bad));
  }
});
