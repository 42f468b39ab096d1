/**
 * Shallow `Object.freeze` with the input's type made readonly (Kysely's
 * `freeze`): nodes are built once and never mutated, so sharing them between
 * builders is safe.
 *
 * @module
 */

/** Freeze `value` (shallowly) and return it. */
export function freeze<T>(value: T): Readonly<T> {
  return Object.freeze(value);
}
