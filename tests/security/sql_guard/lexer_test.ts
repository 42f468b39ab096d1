/** The guard's PostgreSQL lexer (private to src/security/sql_guard/). */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Token, tokenize } from "../../../src/security/sql_guard/_lexer.ts";

function brief(sql: string): string[] {
  return tokenize(sql).map((t) => `${t.type}:${t.value}${t.unterminated ? "!" : ""}`);
}

Deno.test("tokenize reads literals with their PostgreSQL escapes", () => {
  assert.deepEqual(brief("'a''b' E'c\\'d' 'e\\'"), ["string:a''b", "string:c\\'d", "string:e\\"]);
  assert.deepEqual(brief(`"a""b" U&"x" U&'\\0041'`), ['qident:a""b', "qident:x", "string:\\0041"]);
  assert.deepEqual(
    tokenize("B'01' X'1F' N'n' e'x'").map((t) => t.prefix),
    ["b", "x", "n", "e"],
  );
  assert.deepEqual(brief("$$a'b$$ $fn$ $$ $fn$ $1"), ["string:a'b", "string: $$ ", "param:$1"]);
  assert.deepEqual(brief("'open"), ["string:open!"]);
  assert.deepEqual(brief("$x$ open"), ["string: open!"]);
});

Deno.test("tokenize reads comments, nesting block comments as PostgreSQL does", () => {
  assert.deepEqual(brief("a -- b\nc"), ["word:a", "line_comment: b", "word:c"]);
  assert.deepEqual(brief("/* a /* b */ c */ d"), ["block_comment: a /* b */ c ", "word:d"]);
  assert.deepEqual(brief("/* a /* b */"), ["block_comment: a /* b */!"]);
  assert.deepEqual(brief("1--2"), ["number:1", "line_comment:2"]);
});

Deno.test("tokenize splits operators as scan.l does", () => {
  assert.deepEqual(brief("a=-1"), ["word:a", "op:=", "op:-", "number:1"]);
  assert.deepEqual(brief("a@-b"), ["word:a", "op:@-", "word:b"]);
  assert.deepEqual(brief("a<>b||c"), ["word:a", "op:<>", "word:b", "op:||", "word:c"]);
  assert.deepEqual(brief("a=/*x*/b"), ["word:a", "op:=", "block_comment:x", "word:b"]);
  assert.deepEqual(brief("d #>> '{a}'"), ["word:d", "op:#>>", "string:{a}"]);
  assert.deepEqual(brief("x::int"), ["word:x", "punct:::", "word:int"]);
});

Deno.test("tokenize reads numbers, words and stray characters", () => {
  assert.deepEqual(brief("0x1F 1.5e-3 .5 1_000 Select a$b é"), [
    "number:0x1f",
    "number:1.5e-3",
    "number:.5",
    "number:1_000",
    "word:select",
    "word:a$b",
    "word:é",
  ]);
  assert.deepEqual(brief("\\ {"), ["other:\\", "other:{"]);
});

Deno.test("tokenize records whether whitespace precedes a token", () => {
  assert.deepEqual(tokenize("'a'OR b").map((t) => t.spaceBefore), [true, false, true]);
});

Deno.test("tokenize never throws and covers every non-space character exactly once, in order", () => {
  const sqlish = fc.string({
    unit: fc.constantFrom(..."'\"$-/*ab1_ E\\\n;()&U.:@#%".split(""), "$a$", "--", "/*", "*/"),
    maxLength: 60,
  });
  const check = (s: string) => {
    const tokens: Token[] = tokenize(s);
    let at = 0;
    for (const t of tokens) {
      assert.ok(t.start >= at && t.end > t.start && t.end <= s.length, JSON.stringify(s));
      assert.ok(/^\s*$/.test(s.slice(at, t.start)), "only whitespace between tokens");
      at = t.end;
    }
    assert.ok(/^\s*$/.test(s.slice(at)));
  };
  fc.assert(fc.property(sqlish, check), { numRuns: 3000 });
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 100 }), check), { numRuns: 2000 });
});
