/**
 * Print the environment variable reference (Markdown) generated from the
 * config tables, e.g. `deno run tools/gen_config_docs.ts > docs/CONFIG.md`.
 *
 * @module
 */

import { renderEnvDocs } from "../src/config/mod.ts";

if (import.meta.main) {
  console.log("# Configuration\n");
  console.log(
    "Precedence: defaults ← JSON config file (same camelCase keys as `AppConfig`) ← " +
      "environment (`.env` via `--env-file`). Secret values never appear in error messages " +
      "or in `redactConfig` output.\n",
  );
  console.log(renderEnvDocs());
}
