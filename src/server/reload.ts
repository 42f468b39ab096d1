/**
 * Settings that change while the server runs (issue #6: the admin API's
 * "change reloadable settings", and SIGHUP): the log level, the server's
 * connection and request limits, and the security layer's AIMD rate limits. Everything else needs a restart; a reload
 * says which changed settings it could not apply.
 *
 * Values are validated by the same rules as at start-up (`loadConfig`), so
 * a bad value is refused with the same one-line message naming it.
 *
 * @module
 */

import { type AppConfig, CONFIG_DEFAULTS, loadConfig } from "../config/mod.ts";
import { ConfigError } from "../errors.ts";
import type { Logger, LogLevel } from "../util/mod.ts";
import type { SecurityLayer } from "./security_layer.ts";
import type { ReloadableLimits, SomnyServer } from "./server.ts";

/** The dotted config paths that can change at runtime. */
export const RELOADABLE_SETTINGS: readonly string[] = Object.freeze([
  "logLevel",
  "server.maxConnections",
  "server.maxConnectionsPerIp",
  "server.maxInFlightPerSession",
  "security.handshakeFailureLimit",
  "security.aimd.additiveIncrease",
  "security.aimd.multiplicativeDecrease",
  "security.aimd.initialLimit",
  "security.aimd.maxLimit",
  "security.aimd.minLimit",
]);

const AIMD_PREFIX = "security.aimd.";

const LIMIT_OF: Readonly<Record<string, keyof ReloadableLimits>> = {
  "server.maxConnections": "maxConnections",
  "server.maxConnectionsPerIp": "maxConnectionsPerIp",
  "server.maxInFlightPerSession": "maxInFlightPerSession",
  "security.handshakeFailureLimit": "handshakeFailureLimit",
};

/** What reloading acts on. */
export interface ReloadTargets {
  readonly server: Pick<SomnyServer, "updateLimits" | "limits">;
  readonly logger: Pick<Logger, "level" | "setLevel">;
  /** The security layer's AIMD limits (absent: those settings are refused). */
  readonly security?: Pick<SecurityLayer, "aimdParameters" | "setAimdParameters">;
}

/** The outcome of a reload or an update. */
export interface ReloadResult {
  /** Paths whose new value is now in force. */
  readonly applied: readonly string[];
  /** Paths refused, with why (not reloadable, invalid value). */
  readonly rejected: Readonly<Record<string, string>>;
}

/** The reloadable settings as they are now, by path. */
export function currentSettings(targets: ReloadTargets): Record<string, unknown> {
  const limits = targets.server.limits();
  const out: Record<string, unknown> = { logLevel: targets.logger.level };
  for (const [path, name] of Object.entries(LIMIT_OF)) out[path] = limits[name];
  const aimd = targets.security?.aimdParameters();
  if (aimd) { for (const [name, v] of Object.entries(aimd)) out[AIMD_PREFIX + name] = v; }
  return out;
}

/**
 * Apply `patch` (dotted path → value, e.g. `{"logLevel": "debug",
 * "server.maxConnections": 500}`): each reloadable path with a valid value
 * is applied; the rest are listed in `rejected`. Nothing is applied when the
 * patch is not an object.
 */
export function updateSettings(targets: ReloadTargets, patch: unknown): ReloadResult {
  const rejected: Record<string, string> = {};
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return { applied: [], rejected: { "": "expected a JSON object of setting paths to values" } };
  }
  const valid: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(patch)) {
    if (!RELOADABLE_SETTINGS.includes(path)) {
      rejected[path] = "not reloadable (needs a restart)";
      continue;
    }
    const problem = validate(path, value);
    if (problem) rejected[path] = problem;
    else valid[path] = value;
  }
  return { applied: apply(targets, valid, rejected), rejected };
}

/**
 * SIGHUP: apply the reloadable settings of a freshly loaded `next` config
 * that differ from what is in force; changed settings that need a restart
 * (compared with `previous`, the config the process started with) are
 * listed in `rejected`.
 */
export function reloadFrom(
  targets: ReloadTargets,
  previous: AppConfig,
  next: AppConfig,
): ReloadResult {
  const now = currentSettings(targets);
  const changes: Record<string, unknown> = {};
  for (const path of RELOADABLE_SETTINGS) {
    const v = read(next, path);
    if (v !== now[path]) changes[path] = v;
  }
  const rejected: Record<string, string> = {};
  for (const section of ["server", "database", "scaling", "cache", "orm", "monitoring"] as const) {
    const before = previous[section] as unknown as Record<string, unknown>;
    const after = next[section] as unknown as Record<string, unknown>;
    for (const key of Object.keys(after)) {
      const path = `${section}.${key}`;
      if (RELOADABLE_SETTINGS.includes(path)) continue;
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
        rejected[path] = "changed, but needs a restart";
      }
    }
  }
  return { applied: apply(targets, changes, rejected), rejected };
}

function apply(
  targets: ReloadTargets,
  valid: Record<string, unknown>,
  rejected: Record<string, string>,
): string[] {
  const applied: string[] = [];
  const limits: Record<string, number> = {};
  const aimd: Record<string, number> = {};
  for (const [path, value] of Object.entries(valid)) {
    if (path === "logLevel") {
      targets.logger.setLevel(value as LogLevel);
      applied.push(path);
    } else if (path.startsWith(AIMD_PREFIX)) {
      aimd[path.slice(AIMD_PREFIX.length)] = value as number;
    } else {
      limits[LIMIT_OF[path]] = value as number;
    }
  }
  if (Object.keys(limits).length > 0) {
    targets.server.updateLimits(limits);
    for (const path of Object.keys(valid)) {
      if (path !== "logLevel" && !path.startsWith(AIMD_PREFIX)) applied.push(path);
    }
  }
  if (Object.keys(aimd).length > 0) {
    const paths = Object.keys(aimd).map((n) => AIMD_PREFIX + n);
    try {
      if (!targets.security) throw new Error("no security layer");
      // Together: min ≤ initial ≤ max is checked over the new set as a whole.
      targets.security.setAimdParameters(aimd);
      applied.push(...paths);
    } catch (e) {
      for (const p of paths) rejected[p] = (e as Error).message;
    }
  }
  return applied;
}

/** The start-up rules for one value: undefined when valid, else the message. */
function validate(path: string, value: unknown): string | undefined {
  // {"a.b.c": v} → {a: {b: {c: v}}}, the shape of a config file.
  const parts = path.split(".");
  const file = parts.reduceRight<Record<string, unknown>>(
    (inner, part, i) => i === parts.length - 1 ? { [part]: value } : { [part]: inner },
    {},
  );
  try {
    loadConfig({ env: {}, file });
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

function read(config: AppConfig, path: string): unknown {
  let v: unknown = config;
  for (const part of path.split(".")) v = (v as Record<string, unknown>)[part];
  return v;
}

/** The defaults of the reloadable settings (for documentation and tests). */
export function defaultSettings(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of RELOADABLE_SETTINGS) out[path] = read(CONFIG_DEFAULTS, path);
  return out;
}
