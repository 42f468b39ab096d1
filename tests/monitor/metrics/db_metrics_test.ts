import assert from "node:assert/strict";
import { SomnyMetrics } from "../../../src/monitor/metrics/mod.ts";
import { databaseFor, dbTest, rawQuery } from "../../_helpers/db_targets.ts";

function sample(text: string, line: string): number | undefined {
  const hit = text.split("\n").find((l) => l.startsWith(`${line} `));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

dbTest(
  "a real Database's statements are counted by operation in the duration histogram",
  async (t) => {
    const db = databaseFor(t);
    const metrics = new SomnyMetrics({ defaultMetrics: false, databaseStats: () => db.stats() });
    try {
      await db.execute(rawQuery("CREATE TABLE m (id int primary key, v text)"));
      for (let i = 0; i < 3; i++) {
        await db.execute(
          rawQuery("INSERT INTO m (id, v) VALUES ($1, $2)", [i, "x"], {
            operation: "insert",
            writes: ["m"],
          }),
        );
      }
      for (let i = 0; i < 2; i++) {
        await db.execute(rawQuery("SELECT v FROM m WHERE id = $1", [i], {
          operation: "select",
          reads: ["m"],
        }));
      }
      let text = await metrics.metrics();
      const count = (op: string) =>
        sample(text, `somnytoo_db_query_duration_seconds_count{operation="${op}"}`);
      assert.equal(count("insert"), 3);
      assert.equal(count("select"), 2);
      assert.ok(count("raw")! >= 1);
      assert.equal(
        sample(text, 'somnytoo_db_query_duration_seconds_bucket{le="+Inf",operation="insert"}'),
        3,
      );
      const sum = sample(text, 'somnytoo_db_query_duration_seconds_sum{operation="insert"}')!;
      assert.ok(sum > 0 && sum < 30, `sum ${sum} s`);
      const pool = sample(text, "somnytoo_db_pool_max_connections")!;
      assert.ok(pool >= 1);
      // a later scrape adds only what ran since
      await db.execute(rawQuery("SELECT 1", [], { operation: "select" }));
      text = await metrics.metrics();
      assert.equal(count("insert"), 3);
      assert.equal(count("select"), 3);
    } finally {
      await db.close();
    }
  },
);
