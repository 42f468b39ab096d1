/**
 * The ORM's two refusal kinds, as {@linkcode OrmError}s with stable codes:
 * `ORM_INVALID_QUERY` (the builder was used wrongly: unknown table or column,
 * invalid identifier, unknown operator, empty insert …) and
 * `ORM_UNSAFE_QUERY` (an UPDATE or DELETE without WHERE that was not
 * explicitly allowed).
 *
 * @module
 */

import { OrmError } from "../errors.ts";

export { OrmError };

/** An `ORM_INVALID_QUERY` error: "Cannot build query: <reason>". */
export function invalidQuery(reason: string): OrmError {
  return new OrmError("ORM_INVALID_QUERY", `Cannot build query: ${reason}`);
}

/** An `ORM_UNSAFE_QUERY` error: "Refusing unsafe query: <reason>". */
export function unsafeQuery(reason: string): OrmError {
  return new OrmError("ORM_UNSAFE_QUERY", `Refusing unsafe query: ${reason}`);
}
