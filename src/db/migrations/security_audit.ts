import type { Migration } from "../migrations.ts";

/** Security audit log (issue #5): filled in by the audit log's author. */
export const SECURITY_AUDIT: Migration = {
  version: 3,
  name: "security_audit_log",
  statements: [],
};
