/**
 * `loadConfig`: the one visible precedence chain
 *
 *     defaults (schema.ts)  ←  JSON config file  ←  environment
 *
 * `.env` is loaded by Deno's `--env-file`, so it arrives as environment.
 * Pure: the caller passes `env`, the parsed JSON file, and a `fileReader`
 * used only for the PSK file.
 *
 * Config file format: a JSON object with the same shape and the same
 * camelCase keys as {@linkcode AppConfig} (e.g. `{ "server": { "port": 9000 },
 * "security": { "aimd": { "maxLimit": 500 } } }`), every key optional, with
 * the units of the field names (`…Ms` in milliseconds). Unknown keys are
 * errors (they are usually typos), `"$schema"` is ignored, and `null` unsets
 * an optional field. Key material (`security.psks`, `security.hmacSecretKey`,
 * `security.aesSecretKey`) is refused in the file: set it in the environment
 * (`PSK_SECRET`, `HMAC_SECRET_KEY`, `AES_SECRET_KEY`) or in the PSK file.
 *
 * Environment: {@linkcode ENV_VARS} is the single table of variable name →
 * field path, parser and secrecy; {@linkcode listEnvVars} and
 * {@linkcode renderEnvDocs} generate documentation from it. Empty or
 * whitespace-only values count as unset. `DB_*_TIMEOUT` and
 * `DB_MAX_LIFETIME` are in seconds; the fields they set are in ms.
 *
 * Every failure is a {@linkcode ConfigError} whose message is one line that
 * names the variable (or file key) and what is expected. The offending value
 * is quoted for non-secret variables only.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { wipe } from "../util/mod.ts";
import {
  type AppConfig,
  buildDefaults,
  CONFIG_FIELDS,
  deepFreeze,
  type FieldSpec,
  fieldSpec,
  type FieldType,
  installKeys,
} from "./schema.ts";
import { parseHexKey, parsePskFile } from "./secrets.ts";

/** How an environment variable's text becomes a value. */
export type EnvParser =
  /** Decimal integer. */
  | "int"
  /** Decimal integer of seconds, stored ×1000 in a `…Ms` field. */
  | "seconds"
  /** Decimal number. */
  | "number"
  /** `true`/`false`/`1`/`0`, case-insensitive. */
  | "bool"
  /** One of the field's values, case-insensitive. */
  | "enum"
  /** The trimmed text. */
  | "string"
  /** Comma-separated list; entries trimmed, empty entries dropped. */
  | "list"
  /** 64 hex characters → 32 bytes. */
  | "hexKey";

/** One row of the environment table. */
export interface EnvVarSpec {
  /** Variable name. */
  readonly name: string;
  /** Field path in {@linkcode AppConfig} (`PSK_SECRET` sets the `""` entry of `security.psks`). */
  readonly path: string;
  /** How the text is parsed before the field's own validation. */
  readonly parser: EnvParser;
  /** Never echo the value (errors, docs). */
  readonly secret: boolean;
}

const env = (name: string, path: string, parser: EnvParser, secret = false): EnvVarSpec => ({
  name,
  path,
  parser,
  secret,
});

/**
 * The environment table: every variable `loadConfig` reads, in one place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENV_VARS } from "./load.ts";
 * const port = ENV_VARS.find((v) => v.name === "SERVER_PORT");
 * assert.ok(port?.path === "server.port");
 * ```
 */
export const ENV_VARS: readonly EnvVarSpec[] = Object.freeze([
  env("SERVER_HOST", "server.host", "string"),
  env("SERVER_PORT", "server.port", "int"),
  env("DATA_DIR", "server.dataDir", "string"),
  env("HANDSHAKE_TIMEOUT_MS", "server.handshakeTimeoutMs", "int"),
  env("CLOCK_SKEW_MS", "server.clockSkewMs", "int"),
  env("MAX_CONNECTIONS", "server.maxConnections", "int"),
  env("MAX_CONNECTIONS_PER_IP", "server.maxConnectionsPerIp", "int"),
  env("MAX_IN_FLIGHT_PER_SESSION", "server.maxInFlightPerSession", "int"),
  env("HEARTBEAT_INTERVAL_MS", "server.heartbeatIntervalMs", "int"),
  env("IDLE_TIMEOUT_MS", "server.idleTimeoutMs", "int"),
  env("SEND_STALL_TIMEOUT_MS", "server.sendStallTimeoutMs", "int"),
  env("PIPELINE_RELEASE_AFTER_MS", "server.pipelineReleaseAfterMs", "int"),
  env("HANDLER_TIMEOUT_MS", "server.handlerTimeoutMs", "int"),
  env("SHUTDOWN_TIMEOUT_MS", "server.shutdownTimeoutMs", "int"),
  env("CRYPTO_BACKEND", "server.cryptoBackend", "enum"),

  env("PSK_SECRET", "security.psks", "hexKey", true),
  env("PSK_FILE", "security.pskFile", "string"),
  env("HMAC_SECRET_KEY", "security.hmacSecretKey", "hexKey", true),
  env("AES_SECRET_KEY", "security.aesSecretKey", "hexKey", true),
  env("HANDSHAKE_FAILURE_LIMIT", "security.handshakeFailureLimit", "int"),
  env("IP_WHITELIST", "security.ipWhitelist", "list"),
  env("IP_BLACKLIST", "security.ipBlacklist", "list"),
  env("TEST_MODE", "security.testMode", "bool"),
  env("AIMD_ADDITIVE_INCREASE", "security.aimd.additiveIncrease", "int"),
  env("AIMD_MULTIPLICATIVE_DECREASE", "security.aimd.multiplicativeDecrease", "number"),
  env("AIMD_INITIAL_LIMIT", "security.aimd.initialLimit", "int"),
  env("AIMD_MAX_LIMIT", "security.aimd.maxLimit", "int"),
  env("AIMD_MIN_LIMIT", "security.aimd.minLimit", "int"),
  env("AUDIT_RETENTION_DAYS", "security.auditRetentionDays", "int"),

  env("DATABASE_URL", "database.url", "string", true),
  env("DB_MAX_CONNECTIONS", "database.maxConnections", "int"),
  env("DB_MIN_CONNECTIONS", "database.minConnections", "int"),
  env("DB_CONNECTION_TIMEOUT", "database.connectionTimeoutMs", "seconds"),
  env("DB_ACQUIRE_TIMEOUT", "database.acquireTimeoutMs", "seconds"),
  env("DB_IDLE_TIMEOUT", "database.idleTimeoutMs", "seconds"),
  env("DB_MAX_LIFETIME", "database.maxLifetimeMs", "seconds"),
  env("DB_STATEMENT_CACHE_SIZE", "database.statementCacheSize", "int"),
  env("DB_CONNECT_RETRIES", "database.connectRetries", "int"),
  env("ENABLE_PREPARED_STATEMENTS", "database.enablePreparedStatements", "bool"),
  env("QUERY_TIMEOUT_MS", "database.queryTimeoutMs", "int"),
  env("MAX_QUERY_LENGTH", "database.maxQueryLength", "int"),
  env("ENABLE_SQL_INJECTION_PROTECTION", "database.enableSqlInjectionProtection", "bool"),
  env("MAX_REQUESTS_PER_MINUTE", "database.maxRequestsPerMinute", "int"),
  env("DEFAULT_TRANSACTION_TIMEOUT_MS", "database.defaultTransactionTimeoutMs", "int"),
  env("MIGRATE_ON_START", "database.migrateOnStart", "bool"),
  env("REPLICA_URLS", "scaling.readReplicaUrls", "list", true),

  env("ENABLE_QUERY_CACHE", "cache.enableQueryCache", "bool"),
  env("QUERY_CACHE_SIZE", "cache.queryCacheSize", "int"),
  env("QUERY_CACHE_TTL_SECONDS", "cache.queryCacheTtlSeconds", "int"),

  env("PROMETHEUS_ENABLED", "monitoring.prometheusEnabled", "bool"),
  env("PROMETHEUS_HOST", "monitoring.prometheusHost", "string"),
  env("PROMETHEUS_PORT", "monitoring.prometheusPort", "int"),
  env("METRICS_INTERVAL_SEC", "monitoring.metricsIntervalSec", "int"),
  env("NETWORK_CHECK_TARGETS", "monitoring.networkCheckTargets", "list"),
  env("ALERT_WEBHOOK_URL", "monitoring.alertWebhookUrl", "string", true),
  env("ADMIN_TOKEN", "monitoring.adminToken", "string", true),

  env("LOG_LEVEL", "logLevel", "enum"),
].map((v) => Object.freeze(v)));

const ENV_BY_PATH: ReadonlyMap<string, EnvVarSpec> = new Map(ENV_VARS.map((v) => [v.path, v]));

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** The environment (`Deno.env.toObject()` in `main.ts`; `.env` already merged by `--env-file`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON config file, if any (see the module doc for its format). */
  file?: unknown;
  /**
   * Name of the config file, used in error messages.
   * @default {"config file"}
   */
  fileName?: string;
  /**
   * Reads the PSK file named by `PSK_FILE` / `security.pskFile` (e.g.
   * `Deno.readFileSync`). Required only when a PSK file is configured.
   */
  fileReader?: (path: string) => string | Uint8Array;
}

// ---------------------------------------------------------------- validation

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return false;
  const split = (part: string) => (part === "" ? [] : part.split(":"));
  const head = split(dbl >= 0 ? s.slice(0, dbl) : s);
  const tail = dbl >= 0 ? split(s.slice(dbl + 2)) : [];
  const lastPart = dbl >= 0 ? tail : head;
  let groups = 0;
  for (const part of [head, tail]) {
    for (let i = 0; i < part.length; i++) {
      const g = part[i];
      if (part === lastPart && i === part.length - 1 && g.includes(".")) {
        if (!isIPv4(g)) return false;
        groups += 2;
      } else if (HEX_GROUP.test(g)) {
        groups += 1;
      } else {
        return false;
      }
    }
  }
  return dbl >= 0 ? groups <= 7 : groups === 8;
}

/** Whether `s` is an IPv4/IPv6 address or CIDR (syntax only). */
function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const prefix = slash < 0 ? undefined : s.slice(slash + 1);
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (v4 ? 32 : 128);
}

function isUrlWithProtocol(s: string, protocols: readonly string[]): boolean {
  if (/\s/.test(s)) return false;
  try {
    const u = new URL(s);
    return protocols.includes(u.protocol) && u.host !== "";
  } catch {
    return false;
  }
}

const PG_PROTOCOLS = ["postgres:", "postgresql:"];
const HTTP_PROTOCOLS = ["http:", "https:"];

/** A validation failure: what is expected, and (for lists) which entry failed. */
interface Problem {
  phrase: string;
  entry?: number;
  got?: unknown;
}

function describe(type: FieldType): string {
  switch (type.kind) {
    case "int":
      return `must be an integer from ${type.min} to ${type.max}`;
    case "number":
      return type.exclusive
        ? `must be a number greater than ${type.min} and less than ${type.max}`
        : `must be a number from ${type.min} to ${type.max}`;
    case "bool":
      return "must be true or false";
    case "enum":
      return `must be one of ${type.values.join(", ")}`;
    case "word":
      return "must be a non-empty value without spaces";
    case "path":
      return "must be a non-empty path";
    case "postgresUrl":
      return "must be a postgres:// or postgresql:// URL";
    case "httpUrl":
      return "must be an http:// or https:// URL";
    case "token":
      return `must be at least ${type.minLength} characters without spaces`;
    case "cidrList":
      return "must be a list of IPv4/IPv6 addresses or CIDRs";
    case "postgresUrlList":
      return "must be a list of postgres:// or postgresql:// URLs";
    case "wordList":
      return "must be a list of values without spaces or commas";
    case "key":
    case "keyRing":
      return "must be 64 hex characters (32 bytes)";
  }
}

function describeEntry(type: FieldType): string {
  switch (type.kind) {
    case "cidrList":
      return "must be an IPv4/IPv6 address or CIDR";
    case "postgresUrlList":
      return "must be a postgres:// or postgresql:// URL";
    default:
      return "must be a non-empty value without spaces or commas";
  }
}

/** Check an already-typed value against its field type. */
function check(type: FieldType, value: unknown): Problem | undefined {
  const bad = { phrase: describe(type), got: value };
  switch (type.kind) {
    case "int":
      return typeof value === "number" && Number.isInteger(value) && value >= type.min &&
          value <= type.max
        ? undefined
        : bad;
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return bad;
      const ok = type.exclusive
        ? value > type.min && value < type.max
        : value >= type.min && value <= type.max;
      return ok ? undefined : bad;
    }
    case "bool":
      return typeof value === "boolean" ? undefined : bad;
    case "enum":
      return typeof value === "string" && type.values.includes(value) ? undefined : bad;
    case "word":
      return typeof value === "string" && /^\S+$/.test(value) ? undefined : bad;
    case "path":
      if (value === undefined && type.optional) return undefined;
      return typeof value === "string" && value.trim() !== "" && !value.includes("\0")
        ? undefined
        : bad;
    case "postgresUrl":
      if (value === undefined && type.optional) return undefined;
      return typeof value === "string" && isUrlWithProtocol(value, PG_PROTOCOLS) ? undefined : bad;
    case "httpUrl":
      if (value === undefined && type.optional) return undefined;
      return typeof value === "string" && isUrlWithProtocol(value, HTTP_PROTOCOLS)
        ? undefined
        : bad;
    case "token":
      if (value === undefined && type.optional) return undefined;
      return typeof value === "string" && value.length >= type.minLength && /^\S+$/.test(value)
        ? undefined
        : bad;
    case "cidrList":
    case "postgresUrlList":
    case "wordList": {
      if (!Array.isArray(value)) return bad;
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        const ok = typeof v === "string" &&
          (type.kind === "cidrList"
            ? isIpOrCidr(v)
            : type.kind === "postgresUrlList"
            ? isUrlWithProtocol(v, PG_PROTOCOLS)
            : /^[^\s,]+$/.test(v));
        if (!ok) return { phrase: describeEntry(type), entry: i + 1, got: v };
      }
      return undefined;
    }
    case "key":
    case "keyRing":
      return value instanceof Uint8Array && value.length === 32 ? undefined : bad;
  }
}

function shown(value: unknown): string {
  let s = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  if (s.length > 60) s = s.slice(0, 57) + "...";
  return JSON.stringify(s);
}

function fail(label: string, problem: Problem, secret: boolean): never {
  const who = problem.entry === undefined ? label : `${label} entry ${problem.entry}`;
  const got = secret || problem.got === undefined ? "" : ` (got ${shown(problem.got)})`;
  throw new ConfigError("CONFIG_INVALID", `${who} ${problem.phrase}${got}`);
}

// ---------------------------------------------------------------- env parsing

const INT_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function secondsPhrase(type: FieldType): string {
  if (type.kind !== "int") return describe(type);
  return `must be a whole number of seconds from ${Math.ceil(type.min / 1000)} to ${
    Math.floor(type.max / 1000)
  }`;
}

function parseEnv(spec: EnvVarSpec, field: FieldSpec, raw: string): unknown {
  const text = raw.trim();
  const bad = (phrase = describe(field.type)): never =>
    fail(spec.name, { phrase, got: text }, spec.secret);
  switch (spec.parser) {
    case "int": {
      if (!INT_TEXT.test(text)) bad();
      const n = Number(text);
      const p = check(field.type, n);
      return p ? bad() : n;
    }
    case "seconds": {
      if (!INT_TEXT.test(text)) bad(secondsPhrase(field.type));
      const ms = Number(text) * 1000;
      return check(field.type, ms) ? bad(secondsPhrase(field.type)) : ms;
    }
    case "number": {
      if (!NUMBER_TEXT.test(text)) bad();
      const n = Number(text);
      return check(field.type, n) ? bad() : n;
    }
    case "bool": {
      const t = text.toLowerCase();
      if (t === "true" || t === "1") return true;
      if (t === "false" || t === "0") return false;
      return bad("must be true, false, 1 or 0");
    }
    case "enum": {
      const t = text.toLowerCase();
      return check(field.type, t) ? bad() : t;
    }
    case "string": {
      const p = check(field.type, text);
      return p ? fail(spec.name, p, spec.secret) : text;
    }
    case "list": {
      const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
      const p = check(field.type, items);
      return p ? fail(spec.name, p, spec.secret) : items;
    }
    case "hexKey":
      return parseHexKey(spec.name, text);
  }
}

// ---------------------------------------------------------------- file walking

interface Setting {
  value: unknown;
  label: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const PREFIXES: ReadonlySet<string> = new Set(
  CONFIG_FIELDS.flatMap((f) => {
    const parts = f.path.split(".");
    return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("."));
  }),
);

function readFile(
  obj: Record<string, unknown>,
  prefix: string,
  fileName: string,
  out: Map<string, Setting>,
): void {
  for (const key of Object.keys(obj)) {
    if (prefix === "" && key === "$schema") continue;
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const value = obj[key];
    const field = fieldSpec(path);
    const label = `${path} in ${fileName}`;
    if (field) {
      if (field.envOnly) {
        const envName = ENV_BY_PATH.get(path)?.name ?? "the environment";
        throw new ConfigError(
          "CONFIG_INVALID",
          `${label} is not allowed: key material is read only from the environment (${envName})`,
        );
      }
      const optional = "optional" in field.type && field.type.optional === true;
      const v = value === null && optional ? undefined : value;
      const p = check(field.type, v);
      if (p) fail(label, p, field.secret !== undefined);
      out.set(path, { value: Array.isArray(v) ? [...v] : v, label });
    } else if (PREFIXES.has(path)) {
      if (!isPlainObject(value)) {
        throw new ConfigError("CONFIG_INVALID", `${label} must be an object`);
      }
      readFile(value, path, fileName, out);
    } else {
      throw new ConfigError("CONFIG_INVALID", `${fileName} has an unknown key ${shown(path)}`);
    }
  }
}

// ---------------------------------------------------------------- assembly

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = root;
  for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
}

function getPath(root: Record<string, unknown>, path: string): unknown {
  let node: unknown = root;
  for (const p of path.split(".")) node = (node as Record<string, unknown>)[p];
  return node;
}

function joinDataPath(dir: string, name: string): string {
  const trimmed = dir.replace(/[\\/]+$/, "");
  return (trimmed === "" ? dir : trimmed) + "/" + name;
}

/**
 * Load, validate and deep-freeze the configuration:
 * defaults ← `file` ← `env` (later wins), then cross-field checks
 * (heartbeat < idle timeout, min ≤ max pairs, metrics port ≠ server port),
 * then the PSK ring: `""` → `PSK_SECRET`, plus every entry of the PSK file
 * (read through `fileReader`). An empty ring means "no PSK configured".
 *
 * @param options the environment, the parsed config file and a file reader
 * @returns the frozen {@linkcode AppConfig} (see schema.ts for how key material is held)
 * @throws {ConfigError} `CONFIG_INVALID` with a one-line message naming the
 *   variable or file key (never a secret value); `CONFIG_FILE_UNREADABLE`
 *   when the PSK file cannot be read
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./load.ts";
 * const config = loadConfig({
 *   env: { SERVER_PORT: "9000", DB_CONNECTION_TIMEOUT: "5" },
 *   file: { server: { port: 7000, host: "127.0.0.1" } },
 * });
 * assert.ok(config.server.port === 9000); // env beats file
 * assert.ok(config.server.host === "127.0.0.1"); // file beats default
 * assert.ok(config.database.connectionTimeoutMs === 5000); // seconds → ms
 * ```
 */
export function loadConfig(options: LoadConfigOptions): AppConfig {
  const fileName = options.fileName ?? "config file";
  const settings = new Map<string, Setting>();

  if (options.file !== undefined) {
    if (!isPlainObject(options.file)) {
      throw new ConfigError("CONFIG_INVALID", `${fileName} must contain a JSON object`);
    }
    readFile(options.file, "", fileName, settings);
  }

  const keys = new Map<string, Uint8Array>();
  for (const spec of ENV_VARS) {
    const raw = options.env[spec.name];
    if (raw === undefined || raw.trim() === "") continue;
    const field = fieldSpec(spec.path)!;
    const value = parseEnv(spec, field, raw);
    if (spec.parser === "hexKey") keys.set(spec.path, value as Uint8Array);
    else settings.set(spec.path, { value, label: spec.name });
  }

  const labelOf = (path: string) =>
    settings.get(path)?.label ?? ENV_BY_PATH.get(path)?.name ?? path;

  const cfg = buildDefaults();
  for (const [path, s] of settings) setPath(cfg, path, s.value);
  if (!settings.has("database.embeddedDir")) {
    setPath(
      cfg,
      "database.embeddedDir",
      joinDataPath(getPath(cfg, "server.dataDir") as string, "db"),
    );
  }

  const num = (path: string) => getPath(cfg, path) as number;
  const requireOrder = (lo: string, hi: string, strict: boolean, relation: string) => {
    const a = num(lo);
    const b = num(hi);
    if (strict ? a < b : a <= b) return;
    throw new ConfigError(
      "CONFIG_INVALID",
      `${labelOf(lo)} must be ${relation} ${labelOf(hi)} (${a} vs ${b})`,
    );
  };
  requireOrder("server.heartbeatIntervalMs", "server.idleTimeoutMs", true, "less than");
  requireOrder("database.minConnections", "database.maxConnections", false, "at most");
  requireOrder("security.aimd.minLimit", "security.aimd.initialLimit", false, "at most");
  requireOrder("security.aimd.initialLimit", "security.aimd.maxLimit", false, "at most");
  requireOrder("scaling.minReplicas", "scaling.maxReplicas", false, "at most");
  requireOrder("scaling.scaleDownCpuPercent", "scaling.scaleUpCpuPercent", true, "less than");
  if (
    getPath(cfg, "monitoring.prometheusEnabled") === true &&
    num("server.port") !== 0 && num("monitoring.prometheusPort") === num("server.port")
  ) {
    throw new ConfigError(
      "CONFIG_INVALID",
      `${labelOf("monitoring.prometheusPort")} must differ from ${labelOf("server.port")} ` +
        `(both ${num("server.port")})`,
    );
  }

  const ring = new Map<string, Uint8Array>();
  const pskSecret = keys.get("security.psks");
  if (pskSecret) ring.set("", pskSecret);
  const pskFile = getPath(cfg, "security.pskFile") as string | undefined;
  if (pskFile !== undefined) {
    const label = labelOf("security.pskFile");
    if (!options.fileReader) {
      throw new ConfigError(
        "CONFIG_INVALID",
        `${label} is set but loadConfig was given no fileReader to read it`,
      );
    }
    let text: string | Uint8Array;
    try {
      text = options.fileReader(pskFile);
    } catch (err) {
      const why = err instanceof Error ? err.name : "error";
      throw new ConfigError(
        "CONFIG_FILE_UNREADABLE",
        `Cannot read ${label} ${JSON.stringify(pskFile)}: ${why}`,
        { cause: err },
      );
    }
    const entries = parsePskFile(text, pskFile);
    if (entries.size === 0) {
      throw new ConfigError("CONFIG_INVALID", `${label} ${JSON.stringify(pskFile)} has no keys`);
    }
    for (const [id, key] of entries) {
      if (ring.has(id)) {
        throw new ConfigError(
          "CONFIG_INVALID",
          `PSK file ${pskFile} defines id "" which PSK_SECRET already sets; keep one of them`,
        );
      }
      ring.set(id, key);
    }
  }

  installKeys(cfg.security as Record<string, unknown>, {
    psks: ring,
    hmacSecretKey: keys.get("security.hmacSecretKey"),
    aesSecretKey: keys.get("security.aesSecretKey"),
  });
  for (const k of ring.values()) wipe(k);
  for (const k of keys.values()) wipe(k);
  return deepFreeze(cfg) as unknown as AppConfig;
}

// ---------------------------------------------------------------- docs

/** One documented environment variable (see {@linkcode listEnvVars}). */
export interface EnvVarDoc {
  /** Variable name. */
  readonly name: string;
  /** Field path in {@linkcode AppConfig}. */
  readonly path: string;
  /** Accepted values, e.g. `"integer 1–65535"`. */
  readonly accepts: string;
  /** The default as the variable would spell it, or `"(unset)"`. */
  readonly default: string;
  /** Whether the value is secret. */
  readonly secret: boolean;
  /** One-line description. */
  readonly description: string;
}

function accepts(spec: EnvVarSpec, type: FieldType): string {
  switch (spec.parser) {
    case "seconds":
      return type.kind === "int"
        ? `seconds ${Math.ceil(type.min / 1000)}–${Math.floor(type.max / 1000)}`
        : "seconds";
    case "bool":
      return "true | false | 1 | 0";
    case "hexKey":
      return "64 hex characters";
    case "list":
      return type.kind === "cidrList"
        ? "comma list of IPs/CIDRs"
        : type.kind === "postgresUrlList"
        ? "comma list of postgres:// URLs"
        : "comma list";
    default:
      break;
  }
  switch (type.kind) {
    case "int":
      return `integer ${type.min}–${type.max}`;
    case "number":
      return type.exclusive
        ? `number in (${type.min}, ${type.max})`
        : `number ${type.min}–${type.max}`;
    case "enum":
      return type.values.join(" | ");
    case "postgresUrl":
      return "postgres:// URL";
    case "httpUrl":
      return "http(s):// URL";
    case "token":
      return `≥ ${type.minLength} characters`;
    default:
      return "text";
  }
}

function defaultText(spec: EnvVarSpec, field: FieldSpec): string {
  if (spec.path === "database.embeddedDir") return "${DATA_DIR}/db";
  const d = field.default;
  if (d === undefined) return "(unset)";
  if (Array.isArray(d)) return d.length === 0 ? "(empty)" : d.join(",");
  if (spec.parser === "seconds" && typeof d === "number") return String(d / 1000);
  return String(d);
}

/**
 * The environment table joined with the field table, ready for docs.
 *
 * @returns one entry per variable, in table order
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listEnvVars } from "./load.ts";
 * const v = listEnvVars().find((d) => d.name === "DB_CONNECTION_TIMEOUT")!;
 * assert.ok(v.default === "30" && v.path === "database.connectionTimeoutMs");
 * ```
 */
export function listEnvVars(): readonly EnvVarDoc[] {
  return ENV_VARS.map((spec) => {
    const field = fieldSpec(spec.path)!;
    return Object.freeze({
      name: spec.name,
      path: spec.path,
      accepts: accepts(spec, field.type),
      default: defaultText(spec, field),
      secret: spec.secret,
      description: field.doc,
    });
  });
}

/**
 * A Markdown table of every environment variable (for docs/ and `--help`).
 *
 * @returns Markdown text ending in a newline
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderEnvDocs } from "./load.ts";
 * assert.ok(renderEnvDocs().includes("| `SERVER_PORT` |"));
 * ```
 */
export function renderEnvDocs(): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const rows = listEnvVars().map((d) =>
    `| \`${d.name}\` | \`${d.path}\` | ${esc(d.accepts)} | ${esc(d.default)} | ${
      d.secret ? "yes" : ""
    } | ${esc(d.description)} |`
  );
  return [
    "| Variable | Field | Accepts | Default | Secret | Description |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
