/**
 * Identifier validation and quoting. Every table, column, alias, CTE and
 * constraint name that reaches SQL text passes {@linkcode quoteIdentifier}:
 * it must match {@linkcode IDENTIFIER_PATTERN} (PostgreSQL's unquoted
 * identifier shape, at most 63 bytes) and is always double-quoted, so case is
 * preserved and keywords are harmless.
 *
 * @module
 */

import { invalidQuery } from "./errors.ts";

/** What an identifier may look like: a letter or `_`, then up to 62 letters, digits or `_`. */
export const IDENTIFIER_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

// Validated names → quoted text. Bounded so a caller feeding endless distinct
// (valid) aliases cannot grow it without limit.
const quoted = new Map<string, string>();
const MAX_CACHED = 4096;

/** Whether `name` is a valid identifier (no throw). */
export function isIdentifier(name: unknown): name is string {
  return typeof name === "string" && IDENTIFIER_PATTERN.test(name);
}

/**
 * Throw `ORM_INVALID_QUERY` unless `name` is a valid identifier.
 *
 * @param name the candidate
 * @param what what it names, for the message ("column", "alias" …)
 */
export function assertIdentifier(name: unknown, what: string): asserts name is string {
  if (typeof name === "string" && quoted.has(name)) return;
  if (!isIdentifier(name)) {
    throw invalidQuery(`invalid ${what} name ${describe(name)} (must match ${IDENTIFIER_PATTERN})`);
  }
}

/** `"name"`, after validation (cached). */
export function quoteIdentifier(name: string, what = "identifier"): string {
  const hit = quoted.get(name);
  if (hit !== undefined) return hit;
  assertIdentifier(name, what);
  const text = `"${name}"`;
  if (quoted.size >= MAX_CACHED) quoted.clear();
  quoted.set(name, text);
  return text;
}

/** A short, printable rendering of a rejected name for error messages. */
export function describe(value: unknown): string {
  if (typeof value !== "string") return typeof value;
  const s = JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  return s;
}
