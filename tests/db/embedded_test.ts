import assert from "node:assert/strict";
import { dbTest } from "../_helpers/db_targets.ts";

dbTest(
  "db targets: each test has its own schema first on the search_path",
  async ({ sql, schema }) => {
    const [{ current_schema }] = await sql`select current_schema()`;
    assert.equal(current_schema, schema);
    await sql`create table t (id int primary key)`;
    await sql`insert into t values (1), (2)`;
    const rows = await sql`select count(*)::int as n from t`;
    assert.equal(rows[0].n, 2);
  },
);
