/** Identifier quoting, LIKE-pattern escaping and NUL stripping. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  escapeLikePattern,
  LIKE_ESCAPE_CLAUSE,
  quoteIdentifier,
  quoteQualifiedIdentifier,
  stripNul,
} from "../../../src/security/sql_guard/mod.ts";
import { OrmError } from "../../../src/errors.ts";

/** Independent statement of the rule: 1–63 of [A-Za-z0-9_], not starting with a digit. */
function isPlainIdentifier(s: string): boolean {
  if (s.length < 1 || s.length > 63) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const letter = (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c === "_";
    if (!letter && !(i > 0 && c >= "0" && c <= "9")) return false;
  }
  return true;
}

const identChar = fc.constantFrom(..."abcxyzABCXYZ_0123456789");
const validIdentifier = fc.tuple(
  fc.constantFrom(..."abzAZ_"),
  fc.string({ unit: identChar, maxLength: 62 }),
).map(([a, b]) => a + b);
// Strings close to identifiers, so both outcomes are frequent.
const nearIdentifier = fc.string({
  unit: fc.constantFrom(..."aZ_09\"'.;- \u00e9\n$"),
  maxLength: 70,
});

Deno.test("quoteIdentifier double-quotes every valid identifier unchanged", () => {
  fc.assert(fc.property(validIdentifier, (name) => {
    assert.equal(quoteIdentifier(name), `"${name}"`);
  }));
  assert.equal(quoteIdentifier("a".repeat(63)), `"${"a".repeat(63)}"`);
  assert.equal(quoteIdentifier("_"), '"_"');
  assert.equal(quoteIdentifier("select"), '"select"', "keywords are safe once quoted");
});

Deno.test("quoteIdentifier accepts exactly the identifier pattern and throws ORM_INVALID_QUERY otherwise", () => {
  const check = (name: string) => {
    if (isPlainIdentifier(name)) {
      assert.equal(quoteIdentifier(name), `"${name}"`);
    } else {
      assert.throws(() => quoteIdentifier(name), (e) => {
        assert.ok(e instanceof OrmError);
        assert.equal(e.code, "ORM_INVALID_QUERY");
        return true;
      }, JSON.stringify(name));
    }
  };
  fc.assert(fc.property(nearIdentifier, check), { numRuns: 1000 });
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 80 }), check), { numRuns: 1000 });
  for (
    const bad of ["", "1a", "a".repeat(64), 'a"b', "a b", "a-b", "a.b", "é", "a\n", "a\0", "$a"]
  ) {
    assert.ok(!isPlainIdentifier(bad));
    check(bad);
  }
});

Deno.test("quoteIdentifier's error message truncates a long name", () => {
  const name = "x".repeat(1000) + '"';
  assert.throws(() => quoteIdentifier(name), (e) => {
    assert.ok(e instanceof Error && e.message.length < 200, String(e));
    return true;
  });
});

Deno.test("quoteIdentifier and quoteQualifiedIdentifier throw TypeError for a non-string", () => {
  assert.throws(() => quoteIdentifier(42 as unknown as string), TypeError);
  assert.throws(() => quoteQualifiedIdentifier(null as unknown as string), TypeError);
});

Deno.test("quoteQualifiedIdentifier quotes 1 to 3 dotted parts", () => {
  assert.equal(quoteQualifiedIdentifier("users"), '"users"');
  assert.equal(quoteQualifiedIdentifier("public.users"), '"public"."users"');
  assert.equal(quoteQualifiedIdentifier("public.users.id"), '"public"."users"."id"');
  for (const bad of ["", "a..b", ".a", "a.", "a.b.c.d", 'a."b"', "a.b;c"]) {
    assert.throws(() => quoteQualifiedIdentifier(bad), { code: "ORM_INVALID_QUERY" }, bad);
  }
});

/**
 * Reference LIKE matcher (PostgreSQL semantics, ESCAPE '\'): `%` any run,
 * `_` any one character, `\x` the character x; a trailing lone `\` is an
 * error, as in PostgreSQL. Matches whole strings, by code point.
 */
function like(text: string, pattern: string): boolean {
  const t = Array.from(text);
  type Tok = { any: true; many: boolean } | { any: false; ch: string };
  const p: Tok[] = [];
  const pc = Array.from(pattern);
  for (let i = 0; i < pc.length; i++) {
    const c = pc[i];
    if (c === "\\") {
      if (i + 1 >= pc.length) throw new Error("LIKE pattern must not end with escape character");
      p.push({ any: false, ch: pc[++i] });
    } else if (c === "%") p.push({ any: true, many: true });
    else if (c === "_") p.push({ any: true, many: false });
    else p.push({ any: false, ch: c });
  }
  // ok[j] = pattern prefix p[0, i) matches text prefix t[0, j)
  let ok = new Array<boolean>(t.length + 1).fill(false);
  ok[0] = true;
  for (const tok of p) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    for (let j = 0; j <= t.length; j++) {
      if (tok.any && tok.many) next[j] = ok[j] || (j > 0 && next[j - 1]);
      else if (j > 0 && ok[j - 1]) next[j] = tok.any || tok.ch === t[j - 1];
    }
    ok = next;
  }
  return ok[t.length];
}

Deno.test("the reference LIKE matcher behaves like PostgreSQL on known cases", () => {
  assert.ok(like("abc", "a%"));
  assert.ok(like("abc", "_b_"));
  assert.ok(!like("abc", "_b"));
  assert.ok(like("", "%"));
  assert.ok(like("a%b", "a\\%b"));
  assert.ok(!like("axb", "a\\%b"));
  assert.ok(like("a\\b", "a\\\\b"));
  assert.throws(() => like("a", "a\\"));
});

const likeText = fc.string({ unit: fc.constantFrom(..."ab%_\\\u00e9"), maxLength: 12 });

Deno.test("escapeLikePattern's output matches exactly the literal input", () => {
  fc.assert(
    fc.property(likeText, likeText, (s, other) => {
      const pattern = escapeLikePattern(s);
      assert.ok(like(s, pattern), `${JSON.stringify(s)} ~ ${JSON.stringify(pattern)}`);
      assert.equal(like(other, pattern), other === s);
    }),
    { numRuns: 3000 },
  );
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
    assert.ok(like(s, escapeLikePattern(s)));
  }));
});

Deno.test("escapeLikePattern inside wildcards matches exactly the texts containing the input", () => {
  fc.assert(
    fc.property(likeText, likeText, (s, text) => {
      assert.equal(like(text, `%${escapeLikePattern(s)}%`), text.includes(s));
      assert.equal(like(text, `${escapeLikePattern(s)}%`), text.startsWith(s));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("escapeLikePattern escapes only backslash, percent and underscore", () => {
  assert.equal(escapeLikePattern(""), "");
  assert.equal(escapeLikePattern("plain text"), "plain text");
  assert.equal(escapeLikePattern("50%_\\"), "50\\%\\_\\\\");
  assert.equal(
    escapeLikePattern("' OR 1=1 --"),
    "' OR 1=1 --",
    "quotes are a parameter's business",
  );
  assert.equal(LIKE_ESCAPE_CLAUSE, "ESCAPE '\\'");
});

Deno.test("stripNul removes every NUL and nothing else", () => {
  assert.equal(stripNul("a\0b\0"), "ab");
  fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
    const out = stripNul(s);
    assert.ok(!out.includes("\0"));
    assert.equal(out, s.split("\0").join(""));
  }));
});
