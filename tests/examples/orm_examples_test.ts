/**
 * Runs examples/orm_examples.ts as a subprocess (as a reader would, with no
 * configuration: a fresh temporary database) and checks what it prints.
 */
import assert from "node:assert/strict";

const EXAMPLE = new URL("../../examples/orm_examples.ts", import.meta.url);
const REPO_ROOT = new URL("../../", import.meta.url);

/** `deno run -A` the example from the repository root, without DATA_DIR. */
async function runExample(): Promise<{ code: number; out: string; err: string }> {
  const env = Deno.env.toObject();
  delete env.DATA_DIR; // a temporary database, never the caller's
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EXAMPLE.href],
    cwd: REPO_ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout), err: dec.decode(stderr) };
}

/** The example's output: heading (without "== ") → the lines printed under it. */
function sections(out: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("== ")) map.set(line.slice(3), current = []);
    else if (line.startsWith("  ") && current) current.push(line.trim());
    else current = undefined;
  }
  return map;
}

/** The lines of the section titled `prefix`, or of the one whose title starts with it. */
function section(map: Map<string, string[]>, prefix: string): string[] {
  if (map.has(prefix)) return map.get(prefix)!;
  const found = [...map.keys()].filter((k) => k.startsWith(prefix));
  assert.equal(found.length, 1, `one section starting with ${JSON.stringify(prefix)}: ${found}`);
  return map.get(found[0])!;
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l));

Deno.test({
  name: "examples/orm_examples.ts runs on the embedded database and prints each step",
  async fn() {
    const { code, out, err } = await runExample();
    assert.equal(code, 0, `exit code ${code}\nstdout:\n${out}\nstderr:\n${err}`);
    assert.match(out, /\ndone\n$/);
    const s = sections(out);

    // Inserts: generated int8 ids print as strings; numeric as string; text[].
    assert.deepEqual(parse(section(s, "insert authors")).map((r) => r.id), ["1", "2", "3", "4"]);
    const books = parse(section(s, "insert books"));
    assert.equal(books.length, 6);
    assert.deepEqual(books[2], {
      id: "3",
      author_id: "2",
      title: "Solaris",
      year: 1961,
      price: "10.00",
      tags: ["sf", "classic"],
    });
    assert.deepEqual(parse(section(s, "reviews (jsonb body)"))[0].body, {
      by: "ann",
      text: "Oceanic.",
    });

    // Select, operators.
    assert.match(section(s, "compiled SQL")[0], /LIMIT \$2 OFFSET \$3/);
    assert.deepEqual(parse(section(s, "books since 1965")).map((r) => r.title), [
      "The Dispossessed",
      "Invisible Cities",
    ]);
    assert.deepEqual(section(s, "price is null"), [
      '{"title":"If on a winter\'s night a traveler"}',
    ]);
    assert.deepEqual(parse(section(s, "(price < 10 or")).map((r) => r.title), [
      "Solaris",
      "The Cyberiad",
    ]);

    // Joins.
    assert.ok(section(s, "inner join").includes('{"name":"Stanisław Lem","title":"Solaris"}'));
    assert.ok(section(s, "left join").includes('{"name":"Anonymous","books":"0"}'));
    assert.deepEqual(section(s, "full join"), ['{"name":"Anonymous","title":null}']);
    assert.equal(section(s, "join USING").length, 2);
    assert.deepEqual(parse(section(s, "natural join")).map((r) => r.name), ["Italo Calvino"]);
    assert.deepEqual(parse(section(s, "cross join"))[0].pairs, "16");

    // Aggregates and subqueries.
    const perAuthor = parse(section(s, "per author"));
    assert.deepEqual(perAuthor.find((r) => r.name === "Stanisław Lem")?.total, "19.25");
    assert.deepEqual(parse(section(s, "authors with a 5-star book")).map((r) => r.name), [
      "Stanisław Lem",
      "Ursula K. Le Guin",
    ]);
    assert.equal(section(s, "books without reviews").length, 3);
    assert.equal(section(s, "with sf as").length, 2);

    // Upserts: do nothing returns no row; do update changed price and title.
    assert.deepEqual(section(s, "insert existing author"), []);
    assert.deepEqual(parse(section(s, "upsert author"))[0].country, "XX");
    assert.deepEqual(parse(section(s, "upsert book by id")), [
      { id: "3", title: "Solaris (2nd ed.)", price: "11.50" },
    ]);

    // Updates and deletes.
    assert.deepEqual(parse(section(s, "update … set price")), [
      { title: "The Cyberiad", price: "18.50" },
    ]);
    assert.match(section(s, "delete without where")[0], /ORM_UNSAFE_QUERY/);
    assert.deepEqual(parse(section(s, "delete … where stars < 4")), [{ id: "4", stars: 3 }]);
    assert.equal(section(s, "data-modifying CTE").length, 2);

    // Raw SQL: one accepted, the injection attempt refused.
    assert.deepEqual(parse(section(s, "raw sql accepted")), [
      { title: "Solaris (2nd ed.)", tags: "sf/classic" },
    ]);
    assert.match(
      section(s, "raw sql injection attempt refused")[0],
      /SqlInjectionError SQL_INJECTION_DETECTED/,
    );

    // Transactions: the rollback left no row; the savepoint rolled back alone.
    assert.deepEqual(parse(section(s, "after the rollback")), [{ n: "0" }]);
    assert.match(section(s, "transaction with a savepoint")[0], /rolled back: .*check constraint/);
    assert.deepEqual(parse(section(s, "Solaris reviews after commit")).map((r) => r.stars), [
      5,
      4,
      3,
    ]);

    // The result cache: the second identical select was a hit; a write invalidated it.
    const cache = parse(section(s, "cache"))[0];
    assert.ok(cache.hits >= 1, `cache hits ${cache.hits}`);
    assert.equal(parse(section(s, "after a write to demo_authors"))[0].missesAgain, 1);
    const metrics = parse(section(s, "statements run per operation"));
    assert.ok(metrics.some((m) => m.operation === "select" && m.table === "demo_books"));
  },
});
