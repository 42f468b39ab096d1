/**
 * The SQL-injection corpus (tests/fixtures/sql_injection/payloads.txt)
 * through the whole stack (ORM → Database with its guard → PostgreSQL):
 * as values every payload is stored and read back byte for byte, and finds
 * exactly its own row; as an identifier it is refused before any SQL is
 * written; spliced into raw SQL text it is refused by the guard, and the
 * table is untouched.
 */
import assert from "node:assert/strict";
import { OrmError } from "../../src/errors.ts";
import { createQueryBuilder, createTableSql, int8, jsonb, table, text } from "../../src/orm/mod.ts";
import { databaseFor, dbTest } from "../_helpers/db_targets.ts";

const PAYLOADS = Deno.readTextFileSync(
  new URL("../fixtures/sql_injection/payloads.txt", import.meta.url),
).split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#!"));

const notes = table("notes", {
  id: int8().primaryKey().generatedByDefault(),
  body: text(),
  doc: jsonb<{ p: string }>(),
});

/** A TemplateStringsArray made at run time: raw SQL text written by "the caller". */
function rawText(text: string): TemplateStringsArray {
  return Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray;
}

dbTest(
  "injection corpus: stored as values, read back byte for byte; refused as identifiers and in raw SQL",
  async (t) => {
    assert.ok(PAYLOADS.length >= 100, `corpus has ${PAYLOADS.length} payloads`);
    const db = databaseFor(t, { maxConnections: 4, guard: "config" });
    try {
      const qb = createQueryBuilder(db);
      await db.execute(createTableSql(notes));
      for (const p of PAYLOADS) {
        const row = await qb.insertInto(notes).values({ body: p, doc: { p } })
          .returning("id").executeTakeFirst();
        const back = await qb.selectFrom(notes).select("id", "body", "doc")
          .where("body", "=", p).execute();
        assert.equal(back.length, 1, `exactly one row matches ${JSON.stringify(p)}`);
        assert.equal(back[0].id, row!.id);
        assert.equal(back[0].body, p);
        assert.deepEqual(back[0].doc, { p });
      }
      const [{ n }] = await qb.selectFrom(notes).select((eb) => [eb.count().as("n")]).execute();
      assert.equal(Number(n), PAYLOADS.length);

      for (const p of PAYLOADS) {
        assert.throws(
          // deno-lint-ignore no-explicit-any
          () => qb.selectFrom(notes).select(p as any).compile(),
          (e: unknown) => e instanceof OrmError && e.code === "ORM_INVALID_QUERY",
          `identifier ${JSON.stringify(p)}`,
        );
        assert.throws(() => table(p, { id: int8() }), OrmError);
      }

      let refused = 0;
      const candidates = PAYLOADS.filter((p) => p.includes("'"));
      for (const p of candidates) {
        const q = qb.sql(rawText(`SELECT body FROM notes WHERE body = '${p}'`));
        try {
          await q.execute();
          assert.fail(`not refused: ${JSON.stringify(p)}`);
        } catch (e) {
          assert.ok(e instanceof OrmError && e.code === "SQL_INJECTION_DETECTED", String(e));
          refused++;
        }
      }
      assert.equal(refused, candidates.length, "every quote-breaking payload is refused");
      const [{ m }] = await qb.selectFrom(notes).select((eb) => [eb.count().as("m")]).execute();
      assert.equal(Number(m), PAYLOADS.length, "the table is untouched");
    } finally {
      await db.close();
    }
  },
);
