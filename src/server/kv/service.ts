/**
 * The key-value service (docs/PROTOCOL.md §8): Put / Get / Delete / List on
 * one table through the ORM, each request running as its client (the
 * session's remote address) so the database rate limit and the security
 * events name who asked.
 */

import { DatabaseError, SomnyError } from "../../errors.ts";
import {
  bytea,
  createQueryBuilder,
  int8,
  type QueryExecutor,
  table,
  timestamptz,
} from "../../orm/mod.ts";
import { Priority, WireErrorCode } from "../../protocol/mod.ts";
import { type Dispatcher, HandlerError, type RequestContext } from "../dispatcher.ts";
import {
  deleteResponse,
  getResponse,
  listResponse,
  parseKeyRequest,
  parseListRequest,
  parsePutRequest,
  prefixUpperBound,
  putResponse,
} from "./codec.ts";

/** Message types of the service. */
export const KvType = { Put: 0x21, Get: 0x22, Delete: 0x23, List: 0x24 } as const;

/** The service's table (created by migration 1, `kv_entries`). */
export const kvEntries = table("kv_entries", {
  key: bytea().primaryKey(),
  value: bytea(),
  version: int8().default(1),
  updated_at: timestamptz().defaultNow(),
});

/** Where the service keeps its data: an executor per caller. */
export interface KvStore {
  /** The executor that runs `caller`'s statements (rate limit, events). */
  forCaller(caller: string): QueryExecutor;
}

/** Register `0x21`–`0x24` on `dispatcher`, stored in `store`. */
export function registerKvService(dispatcher: Dispatcher, store: KvStore): void {
  const run = (
    handle: (qb: ReturnType<typeof createQueryBuilder>, ctx: RequestContext) => Promise<Uint8Array>,
  ) =>
  async (ctx: RequestContext): Promise<Uint8Array> => {
    const qb = createQueryBuilder(store.forCaller(ctx.session.remoteAddr));
    try {
      return await handle(qb, ctx);
    } catch (e) {
      throw toHandlerError(e);
    }
  };

  dispatcher.register(
    KvType.Put,
    run(async (qb, ctx) => {
      const req = parsePutRequest(ctx.payload);
      const row = await qb.insertInto(kvEntries)
        .values({ key: req.keyBytes, value: req.value })
        .onConflict((oc) =>
          oc.columns("key").doUpdateSet({
            value: (eb) => eb.ref("excluded.value"),
            version: (eb) => eb.op("version", "+", 1),
            updated_at: (eb) => eb.now(),
          })
        )
        .returning("version")
        .executeTakeFirst();
      return putResponse(req.key, BigInt(row!.version));
    }),
    { priority: Priority.Normal },
  );

  dispatcher.register(
    KvType.Get,
    run(async (qb, ctx) => {
      const req = parseKeyRequest(ctx.payload);
      const row = await qb.selectFrom(kvEntries).select("value", "version")
        .where("key", "=", req.keyBytes).executeTakeFirst();
      return getResponse(
        req.key,
        row ? { value: row.value, version: BigInt(row.version) } : undefined,
      );
    }),
  );

  dispatcher.register(
    KvType.Delete,
    run(async (qb, ctx) => {
      const req = parseKeyRequest(ctx.payload);
      const rows = await qb.deleteFrom(kvEntries).where("key", "=", req.keyBytes)
        .returning("key").execute();
      return deleteResponse(req.key, rows.length > 0);
    }),
  );

  dispatcher.register(
    KvType.List,
    run(async (qb, ctx) => {
      const req = parseListRequest(ctx.payload);
      // A byte range, not LIKE: the prefix is literal and the index is used.
      let q = qb.selectFrom(kvEntries).select("key", "version")
        .where("key", ">=", req.prefix);
      const upper = prefixUpperBound(req.prefix);
      if (upper) q = q.where("key", "<", upper);
      if (req.after) q = q.where("key", ">", req.after);
      const rows = await q.orderBy("key").limit(req.limit + 1).execute();
      return listResponse(
        rows.map((r) => ({ key: r.key, version: BigInt(r.version) })),
        req.limit,
      );
    }),
  );
}

// Database trouble is the server's, not the request's: Error 4 says "try
// again later"; a spent request budget is Error 3 with its retry-after.
function toHandlerError(e: unknown): unknown {
  if (e instanceof HandlerError) return e;
  if (e instanceof DatabaseError && e.code === "DB_RATE_LIMITED") {
    const retry = (e as { retryAfterMs?: number }).retryAfterMs ?? 1000;
    return new HandlerError(WireErrorCode.RateLimited, "database request budget exceeded", retry);
  }
  if (e instanceof SomnyError) {
    return new HandlerError(WireErrorCode.HandlerFailed, `storage unavailable (${e.code})`);
  }
  return e;
}
