/** The default application handler: Echo (0x20), which every server serves (protocol-v1 §4). */

import { PacketType, Priority } from "../protocol/mod.ts";
import type { Dispatcher, Handler } from "./dispatcher.ts";

/** Answers with the same type, id and payload. */
export const echoHandler: Handler = (ctx) => ctx.payload;

/** Register Echo on `dispatcher`. */
export function registerEcho(dispatcher: Dispatcher): Dispatcher {
  return dispatcher.register(PacketType.Echo, echoHandler, { priority: Priority.Normal });
}
