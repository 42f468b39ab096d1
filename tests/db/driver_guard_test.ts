import assert from "node:assert/strict";
import { isPostgresWriteRace } from "../../src/db/driver_guard.ts";

Deno.test("driver guard: matches only postgres.js's nextWrite null-socket TypeError", () => {
  const race = new TypeError("Cannot read properties of null (reading 'write')");
  race.stack =
    `${race.message}\n    at Immediate.nextWrite (file:///x/node_modules/.deno/postgres@3.4.9/node_modules/postgres/src/connection.js:255:22)`;
  assert.equal(isPostgresWriteRace(race), true);
  const elsewhere = new TypeError(race.message);
  elsewhere.stack = `${race.message}\n    at nextWrite (file:///app/src/mine.ts:1:1)`;
  assert.equal(isPostgresWriteRace(elsewhere), false);
  const other = new TypeError("Cannot read properties of null (reading 'end')");
  other.stack = race.stack.replace("'write'", "'end'");
  assert.equal(isPostgresWriteRace(other), false);
  assert.equal(isPostgresWriteRace(new Error(race.message)), false);
  assert.equal(isPostgresWriteRace("nextWrite"), false);
});
