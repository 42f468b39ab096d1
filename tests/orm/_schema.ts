/**
 * Tables shared by the ORM tests.
 *
 * @module
 */

import {
  boolean,
  bytea,
  createQueryBuilder,
  date,
  float4,
  float8,
  int2,
  int4,
  int8,
  json,
  jsonb,
  numeric,
  table,
  text,
  timestamp,
  timestamptz,
  uuid,
  varchar,
} from "../../src/orm/mod.ts";

export const users = table("users", {
  id: int8().primaryKey().generatedByDefault(),
  name: text(),
  email: text().nullable().unique(),
  age: int4().nullable(),
  meta: jsonb<{ tags: string[] }>().default({ tags: [] }),
  created_at: timestamptz().defaultNow(),
});

export const posts = table("posts", {
  id: int8().primaryKey().generatedByDefault(),
  user_id: int8().references(users, "id", { onDelete: "cascade" }),
  title: text(),
  published: boolean().default(false),
  score: int4().default(0),
});

/** Shares only `id` with users: for USING and NATURAL joins. */
export const profiles = table("profiles", {
  id: int8().primaryKey(),
  bio: text().nullable(),
});

export const counters = table("counters", {
  key: text().primaryKey(),
  n: int4().default(0),
  note: text().nullable(),
});

export const allTypes = table("all_types", {
  id: int4().primaryKey().generatedAlways(),
  i2: int2().nullable(),
  i8: int8().nullable(),
  num: numeric(10, 2).nullable(),
  f4: float4().nullable(),
  f8: float8().nullable(),
  vc: varchar(20).default("it's"),
  b: boolean().nullable(),
  ts: timestamptz().nullable(),
  tsn: timestamp().nullable(),
  d: date().nullable(),
  jb: jsonb<{ a: number }>().nullable(),
  j: json<number[]>().nullable(),
  by: bytea().nullable(),
  u: uuid().defaultRandom(),
  arr: int4().array().default([1, 2]),
  tarr: text().array().nullable(),
});

/** A builder without executor: compile only. */
export const db = createQueryBuilder();
