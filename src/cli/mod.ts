/**
 * Command implementations used by `main.ts` (kept out of main.ts so they can
 * be tested without a shell).
 *
 * @example
 * ```ts ignore
 * import { runClientCommand } from "./mod.ts";
 * await runClientCommand(["ping"], io);
 * ```
 *
 * @module
 */
export { type ClientCommandEnv, runClientCommand } from "./client_command.ts";
