/**
 * The `orm` suite's process (started by run.ts; orm_bench.ts has the
 * method). One JSON line per result on stdout:
 *
 *     {"compile": [CellResult…]}     builder compile cost of each query
 *     {"skipped": "reason"}          the database is unreachable (or refused the schema)
 *     {"pair": [orm, postgres.js]}   one query at one concurrency
 *     {"error": "message"}           measuring failed (the schema is still dropped)
 *     {"done": true}
 *
 *     deno run -A bench/orm_process.ts --database-url URL [--quick]
 *
 * @module
 */

import { redactUrl } from "../src/db/mod.ts";
import { ORM_QUERIES } from "./cells.ts";
import { compileCell, compileCost, ORM_FULL, ORM_QUICK, OrmBench } from "./orm_bench.ts";
import { parseFlags } from "./procs.ts";

const flags = parseFlags(Deno.args);
const url = flags.get("database-url");
if (!url) throw new Error("missing --database-url");
const timing = flags.has("quick") ? ORM_QUICK : ORM_FULL;
const emit = (o: unknown) => console.log(JSON.stringify(o));
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

const costs = compileCost(timing.compileIterations);
emit({ compile: ORM_QUERIES.map((q) => compileCell(q, costs[q])) });

const bench = new OrmBench({ url, timing });
try {
  let opened = false;
  try {
    await bench.open();
    opened = true;
  } catch (e) {
    emit({ skipped: `database ${redactUrl(url)} not usable (${message(e)})` });
  }
  if (opened) {
    try {
      for (const q of ORM_QUERIES) await bench.measureQuery(q, (o, r) => emit({ pair: [o, r] }));
    } catch (e) {
      emit({ error: message(e) });
    }
  }
} finally {
  await bench.close().catch((e) => console.error(`orm: cleanup failed: ${message(e)}`));
}
emit({ done: true });
// A connection attempt to an unreachable host would keep the process alive.
Deno.exit(0);
