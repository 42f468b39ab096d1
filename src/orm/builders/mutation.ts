/**
 * Pieces shared by INSERT, UPDATE and DELETE: targets, SET lists and
 * RETURNING items.
 *
 * @module
 */

import { invalidQuery } from "../errors.ts";
import { assertIdentifier, describe } from "../identifier.ts";
import { freeze } from "../nodes/freeze.ts";
import type { SelectItemNode, SetNode, TableSourceNode } from "../nodes/mod.ts";
import { AliasedTable, Table, tableSpec } from "../schema.ts";
import { parseSelectItem } from "./expression.ts";
import { expressionBuilder, setValueNode } from "./expression_builder.ts";
import type { TargetArg } from "./types.ts";

/** An INSERT/UPDATE/DELETE target → node. */
export function targetNode(target: TargetArg): TableSourceNode {
  if (target instanceof Table) {
    return freeze({ kind: "table", table: tableSpec(target), alias: null });
  }
  if (target instanceof AliasedTable) {
    return freeze({ kind: "table", table: tableSpec(target.table), alias: target.alias });
  }
  throw invalidQuery(`invalid target ${describe(target)} (a declared table or table.as(alias))`);
}

/** `{ col: value, … }` → SET nodes (undefined entries are skipped). */
export function setNodes(values: unknown): SetNode[] {
  if (typeof values === "function") values = values(expressionBuilder);
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw invalidQuery("set() takes an object of column → value");
  }
  const out: SetNode[] = [];
  for (const [column, value] of Object.entries(values)) {
    if (value === undefined) continue;
    assertIdentifier(column, "column");
    out.push(freeze({ column, value: setValueNode(value) }));
  }
  return out;
}

/** RETURNING items (same forms as select). */
export function returningItems(items: readonly unknown[]): SelectItemNode[] {
  if (items.length === 0) throw invalidQuery("returning() needs at least one column");
  return items.map((i) => parseSelectItem(i));
}

/** `RETURNING *`. */
export const RETURNING_ALL: SelectItemNode = freeze({ kind: "selectAll", table: null });
