/**
 * Enforce the dependency rules of docs/ARCHITECTURE.md over the real module
 * graph from `deno info --json`.
 *
 *     deno run --allow-read --allow-run tools/check_deps.ts
 *
 * `deno info` takes a single root, so the roots (main.ts, mod.ts and every
 * module under src/, tests/, examples/, bench/ and tools/) are gathered into
 * one synthetic `data:` module that imports them all; files nothing imports
 * are therefore checked too.
 *
 * Rules ({@linkcode checkRules}; "ours" = a file in this repository):
 * 1. `src/errors.ts` imports nothing of ours; `src/util/` imports only
 *    `src/util/` and `src/errors.ts`.
 * 2. `src/config/` imports only `src/util/`, `src/errors.ts` and itself.
 * 3. `src/protocol/` imports only `src/util/`, `src/errors.ts` and itself,
 *    and no `npm:` or `node:` module.
 * 4. `src/client/` never imports `src/server/`. `src/orm/` is pure like
 *    `src/protocol/`: only `src/util/`, `src/errors.ts` and itself, no
 *    `npm:` or `node:` module (the database layer runs what it compiles).
 * 5. Nothing imports `main.ts`.
 * 6. Production code (src/, main.ts, mod.ts) reaches another `src/<folder>/`
 *    only through `src/<folder>/mod.ts`.
 * 7. In production code, only `src/db/` imports `npm:postgres` /
 *    `npm:@electric-sql/*`, and only `src/monitor/` imports `npm:hono` /
 *    `npm:prom-client` (tests, tools, bench and examples may).
 * 8. No cycles among `src/` folders.
 * Unresolvable imports are reported too.
 *
 * Prints `file → import: rule` per violation and exits 1, or prints
 * `check_deps: N modules, 0 violations`.
 *
 * @module
 */

/** One import edge between repo-relative paths (or an external specifier as `to`). */
export interface Edge {
  /** Importing file, repo-relative (`src/config/load.ts`). */
  readonly from: string;
  /**
   * Imported module: repo-relative path for our files, otherwise the
   * resolved specifier (`npm:postgres@^3.4`, `node:fs`, `https://…`).
   */
  readonly to: string;
}

/** The module graph the rules run on. */
export interface Graph {
  /** Our modules, repo-relative. */
  readonly modules: readonly string[];
  /** Every import edge out of our modules. */
  readonly edges: readonly Edge[];
  /** Modules that could not be loaded (repo-relative or specifier) → error text. */
  readonly unresolved?: ReadonlyMap<string, string>;
}

/** A broken rule. */
export interface Violation {
  readonly file: string;
  readonly import: string;
  readonly rule: string;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** Top-level folder under src/ (`src/protocol/noise/x.ts` → `protocol`), else undefined. */
function srcFolder(path: string): string | undefined {
  const parts = path.split("/");
  return parts[0] === "src" && parts.length > 2 ? parts[1] : undefined;
}

function isProduction(path: string): boolean {
  return path.startsWith("src/") || path === "main.ts" || path === "mod.ts";
}

/** `npm:/@scope/name@1.2.3/sub` → `@scope/name`; undefined for non-npm. */
export function npmPackageName(specifier: string): string | undefined {
  if (!specifier.startsWith("npm:")) return undefined;
  const rest = specifier.slice(4).replace(/^\/+/, "");
  const parts = rest.split("/");
  if (rest.startsWith("@")) return `${parts[0]}/${(parts[1] ?? "").split("@")[0]}`;
  return parts[0].split("@")[0];
}

const PACKAGE_OWNERS: readonly { match: (pkg: string) => boolean; folder: string; what: string }[] =
  [
    {
      match: (p) => p === "postgres" || p.startsWith("@electric-sql/"),
      folder: "db",
      what: "npm:postgres / npm:@electric-sql/*",
    },
    {
      match: (p) => p === "hono" || p === "prom-client",
      folder: "monitor",
      what: "npm:hono / npm:prom-client",
    },
  ];

function inFolder(path: string, ...prefixes: string[]): boolean {
  return prefixes.some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p));
}

/** Strongly connected components (Tarjan) of a small directed graph. */
function stronglyConnected(nodes: Iterable<string>, next: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      out.push(comp);
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

/**
 * Apply the dependency rules to a graph. Pure.
 *
 * @param graph our modules and their import edges
 * @returns violations, sorted by file then import
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRules } from "./check_deps.ts";
 * const v = checkRules({
 *   modules: ["src/protocol/frame.ts"],
 *   edges: [{ from: "src/protocol/frame.ts", to: "node:crypto" }],
 * });
 * assert.ok(v.length === 1);
 * ```
 */
export function checkRules(graph: Graph): Violation[] {
  const out: Violation[] = [];
  const add = (e: Edge, rule: string) => out.push({ file: e.from, import: e.to, rule });
  const folderEdges = new Map<string, Set<string>>();
  const folders = new Set<string>();

  for (const e of graph.edges) {
    const ours = !EXTERNAL.test(e.to);
    const from = e.from;
    const fromFolder = srcFolder(from);
    const toFolder = ours ? srcFolder(e.to) : undefined;

    const why = graph.unresolved?.get(e.to);
    if (why !== undefined) add(e, `cannot be resolved (${why})`);

    if (ours && e.to === "main.ts") add(e, "nothing may import main.ts");

    if (from === "src/errors.ts" && ours) add(e, "src/errors.ts imports nothing of ours");
    if (fromFolder === "util" && ours && !inFolder(e.to, "src/util/", "src/errors.ts")) {
      add(e, "src/util/ may import only src/util/ and src/errors.ts");
    }
    if (
      fromFolder === "config" && ours &&
      !inFolder(e.to, "src/util/", "src/errors.ts", "src/config/")
    ) {
      add(e, "src/config/ may import only src/util/, src/errors.ts and src/config/");
    }
    if (fromFolder === "protocol") {
      if (ours && !inFolder(e.to, "src/util/", "src/errors.ts", "src/protocol/")) {
        add(e, "src/protocol/ may import only src/util/, src/errors.ts and src/protocol/");
      }
      if (/^(npm|node):/.test(e.to)) add(e, "src/protocol/ must not import npm: or node: modules");
    }
    if (fromFolder === "orm") {
      if (ours && !inFolder(e.to, "src/util/", "src/errors.ts", "src/orm/")) {
        add(e, "src/orm/ may import only src/util/, src/errors.ts and src/orm/");
      }
      if (/^(npm|node):/.test(e.to)) add(e, "src/orm/ must not import npm: or node: modules");
    }
    if (fromFolder === "client" && toFolder === "server") {
      add(e, "src/client/ must never import src/server/");
    }
    if (
      isProduction(from) && toFolder !== undefined && toFolder !== fromFolder &&
      e.to !== `src/${toFolder}/mod.ts`
    ) {
      add(e, `imports across src/ folders must go through src/${toFolder}/mod.ts`);
    }
    const pkg = ours ? undefined : npmPackageName(e.to);
    if (pkg !== undefined && isProduction(from)) {
      for (const owner of PACKAGE_OWNERS) {
        if (owner.match(pkg) && fromFolder !== owner.folder) {
          add(e, `only src/${owner.folder}/ may import ${owner.what}`);
        }
      }
    }
    if (fromFolder !== undefined) folders.add(fromFolder);
    if (fromFolder !== undefined && toFolder !== undefined && fromFolder !== toFolder) {
      folders.add(toFolder);
      let set = folderEdges.get(fromFolder);
      if (!set) folderEdges.set(fromFolder, set = new Set());
      set.add(toFolder);
    }
  }

  for (const comp of stronglyConnected([...folders].sort(), folderEdges)) {
    if (comp.length < 2) continue;
    const members = new Set(comp);
    const cycle = [...comp].sort().join(", ");
    for (const e of graph.edges) {
      const a = srcFolder(e.from);
      const b = EXTERNAL.test(e.to) ? undefined : srcFolder(e.to);
      if (a && b && a !== b && members.has(a) && members.has(b)) {
        add(e, `cycle among src folders {${cycle}}`);
      }
    }
  }

  return out.sort((x, y) =>
    x.file < y.file
      ? -1
      : x.file > y.file
      ? 1
      : x.import < y.import
      ? -1
      : x.import > y.import
      ? 1
      : 0
  );
}

/** The parts of `deno info --json` output this tool reads. */
export interface DenoInfo {
  modules: {
    specifier: string;
    kind?: string;
    error?: string;
    dependencies?: {
      specifier: string;
      code?: { specifier?: string };
      type?: { specifier?: string };
    }[];
  }[];
  redirects?: Record<string, string>;
}

/**
 * Turn `deno info --json` output into a {@linkcode Graph} of repo-relative paths.
 *
 * @param info parsed `deno info --json` output
 * @param rootUrl the repository root as a `file:` URL ending in `/`
 * @returns our modules and their edges (the synthetic `data:` root is dropped)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { graphFromDenoInfo } from "./check_deps.ts";
 * const g = graphFromDenoInfo({
 *   modules: [{
 *     specifier: "file:///r/src/a/x.ts",
 *     dependencies: [{ specifier: "node:fs", code: { specifier: "node:fs" } }],
 *   }],
 * }, "file:///r/");
 * assert.ok(g.edges[0].from === "src/a/x.ts" && g.edges[0].to === "node:fs");
 * ```
 */
export function graphFromDenoInfo(info: DenoInfo, rootUrl: string): Graph {
  const rel = (
    s: string,
  ) => (s.startsWith(rootUrl) ? decodeURIComponent(s.slice(rootUrl.length)) : s);
  const modules: string[] = [];
  const edges: Edge[] = [];
  const unresolved = new Map<string, string>();
  for (const m of info.modules) {
    if (m.error !== undefined) {
      unresolved.set(rel(m.specifier), m.error.split("\n")[0]);
      continue;
    }
    if (!m.specifier.startsWith(rootUrl)) continue;
    const from = rel(m.specifier);
    modules.push(from);
    for (const d of m.dependencies ?? []) {
      const targets = new Set<string>();
      for (const r of [d.code?.specifier, d.type?.specifier]) if (r) targets.add(rel(r));
      if (targets.size === 0) targets.add(d.specifier);
      for (const to of targets) edges.push({ from, to });
    }
  }
  return { modules: modules.sort(), edges, unresolved };
}

const SOURCE = /\.(ts|tsx|mts|js|jsx|mjs)$/;
const SKIP_DIRS = new Set(["node_modules", ".git", ".somnytoo", "dist", "fixtures"]);

async function collect(dir: string, out: string[]): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const e of entries) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && !SKIP_DIRS.has(e.name)) await collect(p, out);
    else if (e.isFile && SOURCE.test(e.name)) out.push(p);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const rootUrl = new URL("../", import.meta.url).href;
  const root = decodeURIComponent(new URL(rootUrl).pathname).replace(/\/$/, "");
  const files: string[] = [];
  for (const f of ["main.ts", "mod.ts"]) {
    if (await exists(`${root}/${f}`)) files.push(`${root}/${f}`);
  }
  for (const d of ["src", "tests", "examples", "bench", "tools"]) {
    await collect(`${root}/${d}`, files);
  }
  if (files.length === 0) {
    console.log("check_deps: 0 modules, 0 violations");
    return 0;
  }
  const body = files
    .sort()
    .map((f) => `import ${JSON.stringify(new URL(`file://${f}`).href)};`)
    .join("\n");
  const bytes = new TextEncoder().encode(body);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  const synthetic = `data:application/typescript;base64,${btoa(binary)}`;
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", synthetic],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!res.success) {
    console.error(new TextDecoder().decode(res.stderr));
    console.error("check_deps: deno info failed");
    return 1;
  }
  const info = JSON.parse(new TextDecoder().decode(res.stdout)) as DenoInfo;
  const graph = graphFromDenoInfo(info, rootUrl);
  const violations = checkRules(graph);
  for (const v of violations) console.log(`${v.file} → ${v.import}: ${v.rule}`);
  const n = graph.modules.length;
  console.log(`check_deps: ${n} modules, ${violations.length} violations`);
  return violations.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
