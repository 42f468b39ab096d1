/**
 * Health checks for issue #6: the {@linkcode HealthMonitor} runner
 * (parallel runs with per-check timeouts, TTL caching, background runs,
 * liveness vs readiness), the IETF `application/health+json` formatter, and
 * one factory per check: database, network, memory, cpu, disk, server, orm
 * and api.
 *
 * @example Wire a monitor and answer /health/ready
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   cpuCheck,
 *   databaseCheck,
 *   HealthMonitor,
 *   healthHttpStatus,
 *   memoryCheck,
 *   networkCheck,
 *   toIetfHealth,
 * } from "./mod.ts";
 * import { ManualClock } from "../../util/mod.ts";
 *
 * const clock = new ManualClock();
 * const monitor = new HealthMonitor({ clock, intervalMs: 15_000 });
 * monitor.register(databaseCheck({ database: { ping: () => Promise.resolve(2) }, clock }));
 * monitor.register(networkCheck({ targets: [] }));
 * monitor.register(memoryCheck({
 *   readRss: () => 2 ** 27,
 *   readSystem: () => ({ total: 8 * 2 ** 30, available: 4 * 2 ** 30 }),
 * }));
 * monitor.register(cpuCheck({ readLoad: () => 0.5, readCores: () => 4 }));
 *
 * const report = await monitor.ready();
 * assert.equal(healthHttpStatus(report.status), 200);
 * assert.equal(toIetfHealth(report).status, "pass");
 * ```
 *
 * @module
 */

export {
  DEFAULT_CHECK_PROBES,
  DEFAULT_CHECK_TIMEOUT_MS,
  DEFAULT_CHECK_TTL_MS,
  HealthMonitor,
  type HealthMonitorOptions,
  type HealthResultListener,
  SHUTDOWN_CHECK_NAME,
  worstStatus,
} from "./health_monitor.ts";
export {
  HEALTH_JSON_CONTENT_TYPE,
  healthHttpStatus,
  IETF_COMPONENTS,
  type IetfCheck,
  type IetfComponent,
  type IetfHealthOptions,
  type IetfHealthResponse,
  type IetfObservation,
  type IetfStatus,
  ietfStatus,
  toIetfHealth,
} from "./ietf.ts";
export {
  databaseCheck,
  type DatabaseCheckOptions,
  type Pingable,
} from "./checks/database_check.ts";
export {
  networkCheck,
  type NetworkCheckOptions,
  type NetworkTarget,
  parseNetworkTarget,
} from "./checks/network_check.ts";
export {
  memoryCheck,
  type MemoryCheckOptions,
  type MemoryLevel,
  type SystemMemory,
} from "./checks/memory_check.ts";
export { cpuCheck, type CpuCheckOptions } from "./checks/cpu_check.ts";
export {
  diskCheck,
  type DiskCheckOptions,
  type DiskUsage,
  parseDfOutput,
  readDiskUsage,
  type ReadDiskUsageOptions,
} from "./checks/disk_check.ts";
export {
  serverCheck,
  type ServerCheckOptions,
  type ServerStatsLike,
} from "./checks/server_check.ts";
export {
  ormCheck,
  type OrmCheckOptions,
  type OrmOperation,
  type OrmStatsLike,
} from "./checks/orm_check.ts";
export { apiCheck, type ApiCheckOptions } from "./checks/api_check.ts";
export type {
  CheckOutcome,
  CheckResult,
  HealthCheck,
  HealthReport,
  HealthStatus,
  ProbeKind,
} from "../types.ts";
