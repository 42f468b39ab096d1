/**
 * Disk check: free space of the filesystem holding a directory (the data
 * directory). Deno has no `statfs`, so this runs `df -Pk <dir>` (POSIX
 * output, 1024-byte blocks) and parses it. Where `df` is missing or fails,
 * the check is degraded with a message, not unhealthy: the measurement is
 * unavailable, not the disk.
 *
 * @module
 */

import type { CheckOutcome, HealthCheck, ProbeKind } from "../../types.ts";
import { errorMessage, round2 } from "../_util.ts";

/** One filesystem's figures (bytes). */
export interface DiskUsage {
  /** Size of the filesystem. */
  readonly totalBytes: number;
  /** In use. */
  readonly usedBytes: number;
  /** Available to unprivileged users. */
  readonly availableBytes: number;
  /** Where the filesystem is mounted. */
  readonly mountPoint: string;
}

// Filesystem 1024-blocks Used Available Capacity Mounted-on (names may hold spaces).
const DF_LINE = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+(.+)$/;

/**
 * Parse the output of `df -Pk <dir>` (its last line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDfOutput } from "./disk_check.ts";
 * const out = "Filesystem 1024-blocks Used Available Capacity Mounted on\n" +
 *   "/dev/sda1 1000 900 100 90% /data\n";
 * assert.deepEqual(parseDfOutput(out), {
 *   totalBytes: 1024000,
 *   usedBytes: 921600,
 *   availableBytes: 102400,
 *   mountPoint: "/data",
 * });
 * ```
 * @throws {TypeError} when no line has the df -P shape
 */
export function parseDfOutput(output: string): DiskUsage {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 1; i--) {
    const m = DF_LINE.exec(lines[i]);
    if (m) {
      return {
        totalBytes: Number(m[2]) * 1024,
        usedBytes: Number(m[3]) * 1024,
        availableBytes: Number(m[4]) * 1024,
        mountPoint: m[6],
      };
    }
  }
  throw new TypeError("Cannot parse df output: no filesystem line");
}

/** Options for {@linkcode readDiskUsage}. */
export interface ReadDiskUsageOptions {
  /** Kills df when aborted. */
  readonly signal?: AbortSignal;
  /** The df executable. @default "df" */
  readonly command?: string;
}

/**
 * Run `df -Pk dir` and parse it.
 *
 * @example
 * ```ts ignore
 * import { readDiskUsage } from "./disk_check.ts";
 * console.log(await readDiskUsage("."));
 * ```
 * @throws {Deno.errors.NotFound} when `df` is not installed
 * @throws {Error} when df fails (e.g. the directory does not exist)
 */
export async function readDiskUsage(
  dir: string,
  options: ReadDiskUsageOptions = {},
): Promise<DiskUsage> {
  const signal = options.signal;
  const out = await new Deno.Command(options.command ?? "df", {
    args: ["-Pk", dir],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    ...(signal ? { signal } : {}),
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n", 1)[0];
    throw new Error(`df exited with ${out.code}${err ? `: ${err}` : ""}`);
  }
  return parseDfOutput(new TextDecoder().decode(out.stdout));
}

/** Options for {@linkcode diskCheck}. */
export interface DiskCheckOptions {
  /** A directory on the filesystem to watch (the data directory). @default "." */
  readonly dir?: string;
  /** Check name. @default "disk" */
  readonly name?: string;
  /** Probes it counts for (a full disk cannot take writes). @default ["readiness"] */
  readonly probes?: readonly ProbeKind[];
  /** Longest run (ms). @default 5000 */
  readonly timeoutMs?: number;
  /** A result is reused for this long (ms) (free space changes slowly). @default 30000 */
  readonly ttlMs?: number;
  /** Free space (%) below which the check is `degraded`. @default 15 */
  readonly degradedFreePercent?: number;
  /** Free space (%) below which the check is `unhealthy`. @default 5 */
  readonly unhealthyFreePercent?: number;
  /** The df executable used by the default reader. @default "df" */
  readonly dfCommand?: string;
  /** Reads the filesystem's figures. @default readDiskUsage (runs df; needs --allow-run) */
  readonly readUsage?: (dir: string, signal: AbortSignal) => Promise<DiskUsage>;
}

/**
 * A {@linkcode HealthCheck} of free disk space.
 *
 * @example With an injected reader
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskCheck } from "./disk_check.ts";
 * const check = diskCheck({
 *   readUsage: () =>
 *     Promise.resolve({ totalBytes: 100, usedBytes: 97, availableBytes: 3, mountPoint: "/" }),
 * });
 * const outcome = await check.run(new AbortController().signal);
 * assert.equal(outcome.status, "unhealthy");
 * ```
 */
export function diskCheck(options: DiskCheckOptions = {}): HealthCheck {
  const dir = options.dir ?? ".";
  const degradedAt = options.degradedFreePercent ?? 15;
  const unhealthyAt = options.unhealthyFreePercent ?? 5;
  if (!(unhealthyAt <= degradedAt)) {
    throw new RangeError("Cannot create disk check: unhealthyFreePercent is above degraded");
  }
  const read = options.readUsage ??
    ((d: string, signal: AbortSignal) =>
      readDiskUsage(d, { signal, command: options.dfCommand ?? "df" }));
  return {
    name: options.name ?? "disk",
    probes: options.probes ?? ["readiness"],
    ttlMs: options.ttlMs ?? 30_000,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      let usage: DiskUsage;
      try {
        usage = await read(dir, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        const missing = err instanceof Deno.errors.NotFound;
        return {
          status: "degraded",
          message: missing
            ? "disk space unavailable: df not found"
            : `disk space unavailable: ${errorMessage(err)}`,
          details: { available: false, dir },
        };
      }
      const usable = usage.usedBytes + usage.availableBytes;
      // As df's Capacity column: share of what unprivileged users can use.
      const freePercent = usable > 0 ? round2(usage.availableBytes / usable * 100) : 0;
      const details = {
        dir,
        mountPoint: usage.mountPoint,
        totalBytes: usage.totalBytes,
        freeBytes: usage.availableBytes,
        freePercent,
      };
      if (freePercent < unhealthyAt) {
        return {
          status: "unhealthy",
          message: `disk ${freePercent}% free < ${unhealthyAt}%`,
          details,
        };
      }
      if (freePercent < degradedAt) {
        return {
          status: "degraded",
          message: `disk ${freePercent}% free < ${degradedAt}%`,
          details,
        };
      }
      return { status: "healthy", details };
    },
  };
}
