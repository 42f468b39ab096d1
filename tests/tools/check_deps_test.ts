import assert from "node:assert/strict";
import {
  checkRules,
  type Edge,
  graphFromDenoInfo,
  npmPackageName,
  type Violation,
} from "../../tools/check_deps.ts";

function check(...edges: [string, string][]): Violation[] {
  const es: Edge[] = edges.map(([from, to]) => ({ from, to }));
  const modules = [...new Set(es.flatMap((e) => [e.from, e.to]).filter((m) => !m.includes(":")))];
  return checkRules({ modules, edges: es });
}

function rules(...edges: [string, string][]): string[] {
  return check(...edges).map((v) => `${v.file} → ${v.import}: ${v.rule}`);
}

Deno.test("a graph that follows every rule has no violations", () => {
  assert.deepEqual(
    rules(
      ["main.ts", "src/config/mod.ts"],
      ["main.ts", "src/server/mod.ts"],
      ["main.ts", "node:util"],
      ["mod.ts", "src/client/mod.ts"],
      ["src/util/mod.ts", "src/util/bytes.ts"],
      ["src/util/logger.ts", "src/util/clock.ts"],
      ["src/util/bytes.ts", "src/errors.ts"],
      ["src/config/load.ts", "src/util/mod.ts"],
      ["src/config/load.ts", "src/errors.ts"],
      ["src/config/load.ts", "src/config/schema.ts"],
      ["src/protocol/frame.ts", "src/util/mod.ts"],
      ["src/protocol/noise/handshake_state.ts", "src/protocol/noise/crypto.ts"],
      ["src/protocol/session.ts", "src/errors.ts"],
      ["src/client/client.ts", "src/protocol/mod.ts"],
      ["src/server/server.ts", "src/protocol/mod.ts"],
      ["src/server/server.ts", "src/monitor/mod.ts"],
      ["src/db/postgres_driver.ts", "npm:postgres@^3.4"],
      ["src/db/pglite_driver.ts", "npm:/@electric-sql/pglite@0.2.0"],
      ["src/monitor/http.ts", "npm:hono@^4"],
      ["src/monitor/metrics.ts", "npm:prom-client@15"],
      ["src/crypto/node_backend.ts", "node:crypto"],
      ["tests/protocol/frame_test.ts", "src/protocol/frame.ts"],
      ["tests/_helpers/db.ts", "npm:@electric-sql/pglite@0.2.0"],
      ["tests/config/load_test.ts", "npm:fast-check@^4.3.0"],
    ),
    [],
  );
});

Deno.test("src/errors.ts and src/util/ import nothing of ours but each other", () => {
  assert.deepEqual(rules(["src/errors.ts", "src/util/mod.ts"]), [
    "src/errors.ts → src/util/mod.ts: src/errors.ts imports nothing of ours",
  ]);
  assert.deepEqual(rules(["src/util/logger.ts", "src/config/mod.ts"]), [
    "src/util/logger.ts → src/config/mod.ts: src/util/ may import only src/util/ and src/errors.ts",
  ]);
});

Deno.test("src/config/ imports only util, errors and itself", () => {
  assert.deepEqual(rules(["src/config/load.ts", "src/protocol/mod.ts"]), [
    "src/config/load.ts → src/protocol/mod.ts: src/config/ may import only src/util/, src/errors.ts and src/config/",
  ]);
});

Deno.test("src/protocol/ imports only util, errors and itself, and no npm:/node: module", () => {
  assert.deepEqual(
    rules(
      ["src/protocol/frame.ts", "src/security/mod.ts"],
      ["src/protocol/noise/crypto.ts", "node:crypto"],
      ["src/protocol/pipeline.ts", "npm:fast-check@4"],
    ),
    [
      "src/protocol/frame.ts → src/security/mod.ts: src/protocol/ may import only src/util/, src/errors.ts and src/protocol/",
      "src/protocol/noise/crypto.ts → node:crypto: src/protocol/ must not import npm: or node: modules",
      "src/protocol/pipeline.ts → npm:fast-check@4: src/protocol/ must not import npm: or node: modules",
    ],
  );
});

Deno.test("src/orm/ is pure: only util, errors and itself, and no npm:/node: module", () => {
  assert.deepEqual(
    rules(
      ["src/orm/compiler.ts", "src/db/mod.ts"],
      ["src/orm/schema.ts", "npm:postgres@3"],
      ["src/orm/builders/select.ts", "src/orm/compiler.ts"],
    ),
    [
      "src/orm/compiler.ts → src/db/mod.ts: src/orm/ may import only src/util/, src/errors.ts and src/orm/",
      "src/orm/schema.ts → npm:postgres@3: src/orm/ must not import npm: or node: modules",
      "src/orm/schema.ts → npm:postgres@3: only src/db/ may import npm:postgres / npm:@electric-sql/*",
    ],
  );
});

Deno.test("src/client/ never imports src/server/", () => {
  assert.deepEqual(rules(["src/client/client.ts", "src/server/mod.ts"]), [
    "src/client/client.ts → src/server/mod.ts: src/client/ must never import src/server/",
  ]);
});

Deno.test("nothing imports main.ts, not even tests", () => {
  assert.deepEqual(rules(["tests/e2e/cli_test.ts", "main.ts"], ["src/server/mod.ts", "main.ts"]), [
    "src/server/mod.ts → main.ts: nothing may import main.ts",
    "tests/e2e/cli_test.ts → main.ts: nothing may import main.ts",
  ]);
});

Deno.test("production code crosses src/ folders only through mod.ts", () => {
  assert.deepEqual(
    rules(
      ["src/server/connection.ts", "src/util/bytes.ts"],
      ["src/crypto/mod.ts", "src/protocol/noise/crypto.ts"],
      ["main.ts", "src/server/server.ts"],
      ["tests/server/x_test.ts", "src/server/server.ts"],
    ),
    [
      "main.ts → src/server/server.ts: imports across src/ folders must go through src/server/mod.ts",
      "src/crypto/mod.ts → src/protocol/noise/crypto.ts: imports across src/ folders must go through src/protocol/mod.ts",
      "src/server/connection.ts → src/util/bytes.ts: imports across src/ folders must go through src/util/mod.ts",
    ],
  );
});

Deno.test("only src/db/ imports postgres/@electric-sql and only src/monitor/ imports hono/prom-client", () => {
  assert.deepEqual(
    rules(
      ["src/server/server.ts", "npm:postgres@^3.4"],
      ["src/security/x.ts", "npm:/@electric-sql/pglite@0.2.0/dist"],
      ["src/server/http.ts", "npm:hono@^4/jsx"],
      ["main.ts", "npm:prom-client@15"],
      ["src/db/x.ts", "npm:hono@4"],
    ),
    [
      "main.ts → npm:prom-client@15: only src/monitor/ may import npm:hono / npm:prom-client",
      "src/db/x.ts → npm:hono@4: only src/monitor/ may import npm:hono / npm:prom-client",
      "src/security/x.ts → npm:/@electric-sql/pglite@0.2.0/dist: only src/db/ may import npm:postgres / npm:@electric-sql/*",
      "src/server/http.ts → npm:hono@^4/jsx: only src/monitor/ may import npm:hono / npm:prom-client",
      "src/server/server.ts → npm:postgres@^3.4: only src/db/ may import npm:postgres / npm:@electric-sql/*",
    ],
  );
});

Deno.test("cycles among src folders are reported on every edge of the cycle", () => {
  const v = rules(
    ["src/security/limiter.ts", "src/server/mod.ts"],
    ["src/server/server.ts", "src/monitor/mod.ts"],
    ["src/monitor/health.ts", "src/security/mod.ts"],
    ["src/server/server.ts", "src/protocol/mod.ts"],
  );
  assert.deepEqual(v, [
    "src/monitor/health.ts → src/security/mod.ts: cycle among src folders {monitor, security, server}",
    "src/security/limiter.ts → src/server/mod.ts: cycle among src folders {monitor, security, server}",
    "src/server/server.ts → src/monitor/mod.ts: cycle among src folders {monitor, security, server}",
  ]);
  assert.deepEqual(rules(["src/db/a.ts", "src/db/b.ts"], ["src/db/b.ts", "src/db/a.ts"]), []);
});

Deno.test("npmPackageName handles scopes, versions, subpaths and the resolved npm:/ form", () => {
  assert.equal(npmPackageName("npm:postgres@^3.4"), "postgres");
  assert.equal(npmPackageName("npm:/postgres@3.4.5/cjs"), "postgres");
  assert.equal(npmPackageName("npm:hono"), "hono");
  assert.equal(npmPackageName("npm:@electric-sql/pglite@0.2/worker"), "@electric-sql/pglite");
  assert.equal(npmPackageName("npm:/@electric-sql/pglite@0.2.0"), "@electric-sql/pglite");
  assert.equal(npmPackageName("node:fs"), undefined);
});

Deno.test("graphFromDenoInfo keeps our modules, resolved targets and unresolved imports", () => {
  const root = "file:///repo/";
  const g = graphFromDenoInfo({
    modules: [
      {
        specifier: "data:application/typescript;base64,AAAA",
        dependencies: [{
          specifier: "file:///repo/src/a/x.ts",
          code: { specifier: "file:///repo/src/a/x.ts" },
        }],
      },
      {
        specifier: "file:///repo/src/a/x.ts",
        kind: "esm",
        dependencies: [
          { specifier: "../b/y.ts", code: { specifier: "file:///repo/src/b/y.ts" } },
          { specifier: "./t.ts", type: { specifier: "file:///repo/src/a/t.ts" } },
          { specifier: "fast-check", code: { specifier: "npm:fast-check@^4.3.0" } },
          { specifier: "./gone.ts", code: { specifier: "file:///repo/src/a/gone.ts" } },
        ],
      },
      { specifier: "file:///repo/src/b/y.ts", kind: "esm" },
      { specifier: "file:///repo/src/a/t.ts", kind: "esm" },
      {
        specifier: "file:///repo/src/a/gone.ts",
        error: 'Module not found "file:///repo/src/a/gone.ts".',
      },
      { specifier: "npm:/fast-check@4.10.2", kind: "npm" },
    ],
  }, root);
  assert.deepEqual(g.modules, ["src/a/t.ts", "src/a/x.ts", "src/b/y.ts"]);
  assert.deepEqual(g.edges, [
    { from: "src/a/x.ts", to: "src/b/y.ts" },
    { from: "src/a/x.ts", to: "src/a/t.ts" },
    { from: "src/a/x.ts", to: "npm:fast-check@^4.3.0" },
    { from: "src/a/x.ts", to: "src/a/gone.ts" },
  ]);
  assert.deepEqual(checkRules(g).map((v) => `${v.import}: ${v.rule}`), [
    'src/a/gone.ts: cannot be resolved (Module not found "file:///repo/src/a/gone.ts".)',
    "src/b/y.ts: imports across src/ folders must go through src/b/mod.ts",
  ]);
});
