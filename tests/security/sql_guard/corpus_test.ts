/**
 * The injection corpus (tests/fixtures/sql_injection/payloads.txt) against
 * the guard: every payload pasted into raw SQL is rejected wherever it is not
 * inert, every payload bound as a parameter is reported and not rejected, and
 * legitimate raw SQL passes.
 */
import assert from "node:assert/strict";
import {
  type DbSecurityEvent,
  SqlInjectionDetector,
  SqlInjectionError,
} from "../../../src/security/sql_guard/mod.ts";

const CORPUS = new URL("../../fixtures/sql_injection/payloads.txt", import.meta.url);

/** Payload lines: "#!" starts a comment line; blank lines are skipped. */
function loadPayloads(): string[] {
  return Deno.readTextFileSync(CORPUS).split(/\r?\n/).filter((l) =>
    l.trim() !== "" && !l.startsWith("#!")
  );
}

const PAYLOADS = loadPayloads();

function raw(sql: string) {
  return { sql, params: [], rawText: [sql] };
}

function rejects(d: SqlInjectionDetector, sql: string): boolean {
  try {
    d.check(raw(sql), "corpus");
    return false;
  } catch (e) {
    if (e instanceof SqlInjectionError) return true;
    throw e;
  }
}

// A payload cannot change the statement when it stays inside the literal or
// identifier it was pasted into: no quote of that kind (PostgreSQL's standard
// strings have no backslash escapes), or, pasted bare, it is one whole literal.
const noSingle = (p: string) => !p.includes("'");
const noDouble = (p: string) => !p.includes('"');
const oneLiteral = (p: string) => /^'(?:[^']|'')*'$/.test(p) || /^"(?:[^"]|"")*"$/.test(p);

/** Where a careless caller pastes user input into raw SQL, and when that is inert. */
const CONTEXTS: readonly [string, (p: string) => string, (p: string) => boolean][] = [
  ["string literal", (p) => `SELECT * FROM users WHERE name = '${p}'`, noSingle],
  [
    "string literal, more conditions",
    (p) => `SELECT * FROM users WHERE name = '${p}' AND active = true`,
    noSingle,
  ],
  ["UPDATE value", (p) => `UPDATE users SET bio = '${p}' WHERE id = 1`, noSingle],
  ["unquoted number", (p) => `SELECT * FROM users WHERE id = ${p}`, oneLiteral],
  [
    "unquoted number, more conditions",
    (p) => `SELECT * FROM users WHERE id = ${p} AND active = true`,
    oneLiteral,
  ],
  ["double-quoted (MySQL string)", (p) => `SELECT * FROM users WHERE name = "${p}"`, noDouble],
];

Deno.test("the payload corpus has at least 80 payloads and no duplicates", () => {
  assert.ok(PAYLOADS.length >= 80, `${PAYLOADS.length} payloads`);
  assert.equal(new Set(PAYLOADS).size, PAYLOADS.length);
});

Deno.test("every corpus payload pasted into raw SQL is rejected wherever it is not inert", () => {
  const d = new SqlInjectionDetector();
  const missed: string[] = [];
  let checked = 0;
  for (const p of PAYLOADS) {
    let rejectedSomewhere = false;
    for (const [where, wrap, inert] of CONTEXTS) {
      if (inert(p)) continue;
      checked++;
      if (rejects(d, wrap(p))) rejectedSomewhere = true;
      else missed.push(`${where}: ${p}`);
    }
    assert.ok(rejectedSomewhere, `never tested in a live context: ${p}`);
  }
  assert.deepEqual(missed, []);
  assert.ok(checked > PAYLOADS.length * 2, `${checked} live placements`);
});

Deno.test("every corpus payload split around a parameter (sql`…${v}…` with pasted text) is still rejected", () => {
  const d = new SqlInjectionDetector();
  for (const p of PAYLOADS) {
    if (noSingle(p)) continue;
    const parts = [`SELECT * FROM users WHERE name = '${p}' AND org = `, ""];
    assert.throws(
      () => d.check({ sql: parts.join("$1"), params: [7], rawText: parts }, "corpus"),
      SqlInjectionError,
      p,
    );
  }
});

Deno.test("every corpus payload bound as a parameter is reported, never rejected", () => {
  const events: DbSecurityEvent[] = [];
  const d = new SqlInjectionDetector({ onEvent: (e) => events.push(e) });
  for (const p of PAYLOADS) {
    events.length = 0;
    d.check(
      { sql: "SELECT * FROM users WHERE name = $1", params: [p], rawText: [] },
      "198.51.100.7",
    );
    assert.equal(events.length, 1, `not reported: ${p}`);
    const [e] = events;
    assert.equal(e.kind, "SQLInjectionAttempt");
    assert.equal(e.rejected, false);
    assert.equal(e.caller, "198.51.100.7");
    assert.ok(e.findings && e.findings.length > 0);
    assert.match(e.detail, /^suspicious parameter values: \$1 \(/);
  }
});

/**
 * Legitimate raw SQL that must pass. Decisions: literals, quoted identifiers
 * and dollar-quoted bodies may contain anything; prose comments are allowed
 * anywhere, including at the end; a single trailing `;` is allowed; UNION is
 * allowed when its values are parameters; catalog reads and version() are
 * reported below the threshold but not rejected.
 */
const LEGITIMATE: readonly string[] = [
  "SELECT 'a;b' AS x WHERE y = $1",
  "SELECT * FROM users WHERE name = $1",
  "SELECT id FROM notes WHERE body LIKE '%--%' ESCAPE '\\'",
  "SELECT 'or' AS word, 'and' AS other FROM words WHERE kind = $1",
  "SELECT $$a;b -- not a comment ' \" /* $$ AS body",
  "CREATE FUNCTION one() RETURNS int AS $fn$ BEGIN RETURN 1; END $fn$ LANGUAGE plpgsql",
  'SELECT "weird;name", "has""quote", "--" FROM t WHERE id = $1',
  "SELECT E'it\\'s' AS s, E'tab\\there' AS t",
  "SELECT 'O''Reilly' AS name",
  "SELECT * FROM t WHERE a = $1 -- fetch by a",
  "SELECT /* planner hint */ * FROM t WHERE id = $1",
  "SELECT id,\n  -- the display name\n  name\nFROM users\nWHERE id = $1",
  "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day')\n" +
  "SELECT count(*) FROM recent",
  "SELECT id FROM a WHERE kind = $1 UNION SELECT id FROM b WHERE kind = $2",
  "SELECT data #>> '{a,b}' FROM docs WHERE data @> $1::jsonb",
  "SELECT to_tsvector(body) @@ to_tsquery($1) FROM posts",
  "SELECT * FROM t WHERE 1=1 AND a = $1",
  "SELECT * FROM t WHERE ($1::int IS NULL OR id = $1)",
  "SELECT first_name || ' ' || last_name AS full_name FROM people",
  "UPDATE users SET last_seen = now() WHERE id = $1 RETURNING id;",
  "INSERT INTO logs (msg) VALUES ('user said: '' OR 1=1 --') RETURNING id",
  "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
  "SELECT x FROM t ORDER BY x DESC NULLS LAST LIMIT $1 OFFSET $2",
  "SELECT CASE WHEN a > 0 THEN 'pos' ELSE 'neg' END FROM t",
  "SELECT * FROM t WHERE name ILIKE $1 ESCAPE '\\'",
  "SELECT U&'d\\0061t\\+000061' AS u",
  "SELECT flags & 0xFF, mask | 0xFFFFFFFF FROM t",
  "SELECT $1::text AS \"select\", 'union select' AS phrase",
  'SELECT "a"."b" FROM "a" WHERE "a"."id" = ANY($1)',
  "DELETE FROM sessions WHERE expires_at < now() - interval '30 days'",
  "SELECT pg_advisory_lock($1)",
  "SELECT 'semi;colon', 'dash--dash', 'slash/*star', 'hash#' FROM t",
  "SELECT 1",
  "SELECT set_config('app.user_id', $1, true)",
  "SELECT * FROM t WHERE a = $1 OR b = $2",
  "SELECT x FROM t WHERE note = 'it''s -- fine; really'",
  "/* outer /* nested */ still a comment */ SELECT 1",
  "SELECT a FROM t WHERE b BETWEEN 1 AND 10",
  "SELECT B'1010' | B'0101', X'1F'",
  "SELECT version()",
  "SELECT chr(10) || name FROM t",
  "SELECT CAST(code AS CHAR(3)), CAST(x AS CHAR(4)) FROM t",
  "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b",
  "SELECT * FROM t WHERE tags && $1::text[] AND id <> $2",
  "SELECT 'a' || 'b' AS ab",
  'SELECT * FROM "Users" WHERE "Name" = $1 AND x % 2 = 0',
  "SELECT count(*) FILTER (WHERE status = 'done') FROM jobs",
  "SELECT id FROM t WHERE title ~* $1 OR body ~* $1",
  "SELECT json_build_object('k', $1, 'or', 'and')",
  "SELECT * FROM t WHERE a = 'x' AND b = $1 -- see ticket 42",
  "SELECT $tag$ it's $$ nested $$ text $tag$",
  "SELECT 'line one'\n'continued' AS s",
  "SELECT * FROM t WHERE id%10=0 AND id%20=0",
  "SELECT DATE'2024-01-01', interval'1 day'",
  "SELECT length((SELECT body FROM posts WHERE id = $1))",
  "SELECT substring((SELECT name FROM u LIMIT 1) from 1 for 3)",
];

Deno.test("legitimate raw SQL is not rejected (false-positive corpus)", () => {
  const d = new SqlInjectionDetector();
  assert.ok(LEGITIMATE.length >= 30);
  for (const sql of LEGITIMATE) {
    const strongest = d.inspectRawSql(sql)[0];
    assert.ok(
      !strongest || strongest.severity < 0.7,
      `${JSON.stringify(sql)}: ${strongest?.kind} ${strongest?.detail}`,
    );
    assert.doesNotThrow(() => d.check(raw(sql), "app"), sql);
  }
});

Deno.test("legitimate raw SQL with parameters between fragments is not rejected", () => {
  const d = new SqlInjectionDetector();
  const cases: string[][] = [
    ["SELECT * FROM users WHERE name = ", " AND org = ", " -- by name"],
    ["SELECT ", "::int + ", "::int AS sum"],
    ["UPDATE t SET note = ", " WHERE id = ", " RETURNING id;"],
    ["SELECT $$ literal $$ || ", ""],
  ];
  for (const parts of cases) {
    const sql = parts.map((p, i) => (i === 0 ? p : `$${i}${p}`)).join("");
    d.check({ sql, params: parts.slice(1).map(() => 1), rawText: parts }, "app");
  }
});

Deno.test("benign parameter values are not reported", () => {
  const events: DbSecurityEvent[] = [];
  const d = new SqlInjectionDetector({ onEvent: (e) => events.push(e) });
  const values = [
    "O'Reilly",
    "Rock 'n' roll",
    "don't stop",
    "a -- b",
    "I'd say yes -- or no",
    "2 or 3",
    "Tom & Jerry",
    "50% off!",
    "hello; world",
    "C:\\path\\file",
    "x = y",
    "(sic)",
    '"quoted"',
    "me+you@example.com",
    "1/2",
    "éèà",
    "why?!",
    "SELECT",
    "a_b%c",
    '{"a":1}',
    "wait--",
    "pages 3--4",
    "#hashtag",
    "email@x.y -- test",
    "Select your plan; cancel anytime",
    "I love SQL (the language)",
    42,
    null,
    true,
    new Date(0),
    new Uint8Array([39, 32, 79, 82]),
    { name: "Ann", tags: ["a", "b"] },
  ];
  d.check({ sql: "SELECT $1", params: values, rawText: [] }, "app");
  assert.deepEqual(events, []);
});
