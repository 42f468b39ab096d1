/**
 * Leaf utilities shared by every layer: byte helpers, time as a dependency,
 * and the redacting logger. Nothing here touches `Deno.*` or imports any other
 * folder of ours (only `src/errors.ts` is allowed); other folders import util
 * through this file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger, fromHex, ManualClock, toHex } from "./mod.ts";
 * const clock = new ManualClock(0);
 * const lines: string[] = [];
 * const log = createLogger({ clock, sink: (l) => lines.push(l) });
 * log.info("hello", { id: toHex(fromHex("beef")) });
 * assert.ok(JSON.parse(lines[0]).time === "1970-01-01T00:00:00.000Z");
 * ```
 *
 * @module
 */

export { concat, decodeUtf8Strict, fromHex, timingSafeEqual, toHex, utf8, wipe } from "./bytes.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  noopLogger,
  REDACTED,
  redactFields,
  SECRET_KEY_PATTERN,
} from "./logger.ts";
export { type Socket, SocketReader, type SocketReaderOptions, SocketSink } from "./socket.ts";
export { readLines } from "./lines.ts";
export { LruMap } from "./lru_map.ts";
