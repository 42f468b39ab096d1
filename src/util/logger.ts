/**
 * A small structured logger that redacts secrets before anything is written.
 *
 * Pure: it never touches `Deno.*`. The caller decides the output format
 * (`main.ts` picks `"pretty"` when `Deno.stdout.isTerminal()`) and may pass a
 * `sink` and a {@linkcode Clock}.
 *
 * Redaction rules (applied recursively to every field, bound or per call):
 * - a field whose key matches {@linkcode SECRET_KEY_PATTERN}
 *   (`/psk|secret|key|token|password|authorization/i`) is written as `"[redacted]"`;
 * - any `Uint8Array` (any `ArrayBuffer` view or `ArrayBuffer`) is written as `"[redacted]"`;
 * - an `Error` is written as `{ name, code, message }` (no stack, no cause);
 * - cycles become `"[circular]"`, nesting deeper than 8 levels `"[truncated]"`.
 *
 * The message string itself is not inspected: never interpolate secrets into it.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

/** Log levels, least to most severe; `"silent"` disables output. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/**
 * Every {@linkcode LogLevel} in severity order.
 *
 * @example Validate a level name
 * ```ts
 * import assert from "node:assert/strict";
 * import { LOG_LEVELS } from "./logger.ts";
 * assert.ok(LOG_LEVELS.includes("warn"));
 * ```
 */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([
  "debug",
  "info",
  "warn",
  "error",
  "silent",
]);

/** Output format: one JSON object per line, or a compact human-readable line. */
export type LogFormat = "json" | "pretty";

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The placeholder written instead of a secret value. */
export const REDACTED = "[redacted]";

/** Field keys whose values are always redacted. */
// Whole-name rules, so `rekeyAfterFrames` or `pskId` stay readable while
// `psk`, `psks`, `apiKey`, `hmacSecretKey`, `sessionKey`, `adminToken` are hidden.
export const SECRET_KEY_PATTERN: RegExp = /psks?$|secret|token|password|authorization|keys?$/i;

/** A structured, redacting logger. */
export interface Logger {
  /** The minimum level this logger writes. */
  readonly level: LogLevel;
  /** Whether a line at `level` would be written (use to skip building costly fields). */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
  /** Log at debug level. */
  debug(msg: string, fields?: LogFields): void;
  /** Log at info level. */
  info(msg: string, fields?: LogFields): void;
  /** Log at warn level. */
  warn(msg: string, fields?: LogFields): void;
  /** Log at error level. */
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (the child's fields win on conflict). */
  child(fields: LogFields): Logger;
  /**
   * Change the minimum level at runtime (the admin API, SIGHUP), for this
   * logger, its parent and all their children alike.
   * @throws {RangeError} on an unknown level
   */
  setLevel(level: LogLevel): void;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /**
   * Minimum level written.
   * @default {"info"}
   */
  level?: LogLevel;
  /**
   * `"json"` writes one JSON object per line (`time`, `level`, `msg`, then fields);
   * `"pretty"` writes `HH:MM:SS.mmm LEVEL msg key=value …` for terminals.
   * @default {"json"}
   */
  format?: LogFormat;
  /**
   * Receives each finished line (without a trailing newline).
   * @default {(line) => console.log(line)}
   */
  sink?: (line: string) => void;
  /**
   * Source of timestamps.
   * @default {systemClock}
   */
  clock?: Clock;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

const MAX_DEPTH = 8;
const RESERVED = new Set(["time", "level", "msg"]);

/**
 * Return a JSON-safe copy of `fields` with secrets redacted (the rules in the
 * module doc). Used by the logger; exported for other sinks (audit, reports).
 *
 * @param fields arbitrary structured fields
 * @returns a plain object safe to `JSON.stringify`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactFields } from "./logger.ts";
 * const out = redactFields({ user: "ann", apiToken: "abc", raw: new Uint8Array(4) });
 * assert.ok(out.apiToken === "[redacted]" && out.raw === "[redacted]" && out.user === "ann");
 * ```
 */
export function redactFields(fields: LogFields): Record<string, unknown> {
  return sanitizeObject(fields, new WeakSet(), 0);
}

function sanitizeObject(
  obj: Readonly<Record<string, unknown>>,
  seen: WeakSet<object>,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const v = SECRET_KEY_PATTERN.test(key) ? REDACTED : sanitize(obj[key], seen, depth + 1);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function sanitize(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
      return undefined;
    case "symbol":
      return value.toString();
  }
  if (value === null) return null;
  const obj = value as object;
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer) {
    return REDACTED;
  }
  if (obj instanceof Error) {
    const code = (obj as { code?: unknown }).code;
    const e: Record<string, unknown> = { name: obj.name };
    if (typeof code === "string" || typeof code === "number") e.code = code;
    e.message = obj.message;
    return e;
  }
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (depth > MAX_DEPTH) return "[truncated]";
  if (seen.has(obj)) return "[circular]";
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v) => sanitize(v, seen, depth + 1) ?? null);
    if (obj instanceof Set) return [...obj].map((v) => sanitize(v, seen, depth + 1) ?? null);
    if (obj instanceof Map) {
      const rec: Record<string, unknown> = {};
      for (const [k, v] of obj) rec[String(k)] = v;
      return sanitizeObject(rec, seen, depth);
    }
    return sanitizeObject(obj as Record<string, unknown>, seen, depth);
  } finally {
    seen.delete(obj);
  }
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

function prettyTime(ms: number): string {
  const d = new Date(ms);
  const milli = String(d.getUTCMilliseconds()).padStart(3, "0");
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${milli}`;
}

function prettyValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

function formatJson(time: number, level: LogLevel, msg: string, fields: Record<string, unknown>) {
  const line: Record<string, unknown> = { time: new Date(time).toISOString(), level, msg };
  for (const k of Object.keys(fields)) line[RESERVED.has(k) ? "_" + k : k] = fields[k];
  return JSON.stringify(line);
}

function formatPretty(time: number, level: LogLevel, msg: string, fields: Record<string, unknown>) {
  let line = `${prettyTime(time)} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const k of Object.keys(fields)) line += ` ${k}=${prettyValue(fields[k])}`;
  return line;
}

/**
 * Create a {@linkcode Logger}.
 *
 * @param options level, format, sink and clock (see {@linkcode LoggerOptions})
 * @returns a logger writing through `options.sink`
 * @throws {RangeError} if `options.level` or `options.format` is unknown
 *
 * @example Collect JSON lines in a test
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./logger.ts";
 * const lines: string[] = [];
 * const log = createLogger({ level: "debug", sink: (l) => lines.push(l) });
 * log.child({ conn: 7 }).info("handshake done", { psk: "never shown" });
 * const rec = JSON.parse(lines[0]);
 * assert.ok(rec.msg === "handshake done" && rec.conn === 7 && rec.psk === "[redacted]");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!(level in SEVERITY)) throw new RangeError(`Cannot create logger: unknown level "${level}"`);
  const format = options.format ?? "json";
  if (format !== "json" && format !== "pretty") {
    throw new RangeError(`Cannot create logger: unknown format "${format}"`);
  }
  const sink = options.sink ?? ((line: string) => console.log(line));
  const clock = options.clock ?? systemClock;
  const render = format === "json" ? formatJson : formatPretty;
  return makeLogger({ level, min: SEVERITY[level], sink, clock, render }, {});
}

interface LoggerCore {
  level: LogLevel;
  min: number;
  sink: (line: string) => void;
  clock: Clock;
  render: (time: number, level: LogLevel, msg: string, fields: Record<string, unknown>) => string;
}

function makeLogger(core: LoggerCore, bound: LogFields): Logger {
  const emit = (level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (SEVERITY[level] < core.min) return;
    try {
      const merged = fields ? { ...bound, ...fields } : bound;
      core.sink(core.render(core.clock.now(), level, String(msg), redactFields(merged)));
    } catch {
      // A logger must never throw into its caller (a failing sink is not the caller's bug).
    }
  };
  return Object.freeze({
    get level(): LogLevel {
      return core.level;
    },
    setLevel(level: LogLevel): void {
      if (!(level in SEVERITY)) throw new RangeError(`Unknown log level "${level}"`);
      core.level = level;
      core.min = SEVERITY[level];
    },
    enabled: (level: Exclude<LogLevel, "silent">) => SEVERITY[level] >= core.min,
    debug: (msg: string, fields?: LogFields) => emit("debug", msg, fields),
    info: (msg: string, fields?: LogFields) => emit("info", msg, fields),
    warn: (msg: string, fields?: LogFields) => emit("warn", msg, fields),
    error: (msg: string, fields?: LogFields) => emit("error", msg, fields),
    child: (fields: LogFields) => makeLogger(core, { ...bound, ...fields }),
  });
}

/**
 * A logger that writes nothing (level `"silent"`); the default for components
 * given no logger.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noopLogger } from "./logger.ts";
 * noopLogger.child({ a: 1 }).error("dropped");
 * assert.ok(!noopLogger.enabled("error"));
 * ```
 */
export const noopLogger: Logger = Object.freeze({
  level: "silent" as const,
  enabled: () => false,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => noopLogger,
  setLevel: () => {},
});
