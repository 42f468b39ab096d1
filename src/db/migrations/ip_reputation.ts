import type { Migration } from "../migrations.ts";

/** IP reputation, bans and allow/deny rules (issue #5): filled in by the reputation store's author. */
export const IP_REPUTATION: Migration = {
  version: 4,
  name: "ip_reputation",
  statements: [],
};
