import assert from "node:assert/strict";
import {
  cpuCheck,
  diskCheck,
  type DiskUsage,
  memoryCheck,
  parseDfOutput,
} from "../../../src/monitor/health/mod.ts";

const signal = () => new AbortController().signal;
const GiB = 2 ** 30;
const MiB = 2 ** 20;

// --- memory -----------------------------------------------------------------

Deno.test("memoryCheck grades system memory in use: normal, high, critical", async () => {
  const at = (availablePercent: number) =>
    memoryCheck({
      readRss: () => 100 * MiB,
      readSystem: () => ({ total: 100 * GiB, available: availablePercent * GiB }),
    }).run(signal());
  const normal = await at(50);
  assert.equal(normal.status, "healthy");
  assert.equal(normal.details?.level, "normal");
  assert.equal(normal.details?.systemUsedPercent, 50);
  const high = await at(15); // 85 % used
  assert.equal(high.status, "degraded");
  assert.equal(high.details?.level, "high");
  assert.match(high.message!, /system memory 85% in use \(high\)/);
  const critical = await at(4);
  assert.equal(critical.status, "unhealthy");
  assert.equal(critical.details?.systemLevel, "critical");
});

Deno.test("memoryCheck grades the process RSS against its own thresholds", async () => {
  const at = (rss: number) =>
    memoryCheck({
      readRss: () => rss,
      readSystem: () => ({ total: 100 * GiB, available: 90 * GiB }),
      rssHighBytes: 500 * MiB,
      rssCriticalBytes: 900 * MiB,
    }).run(signal());
  assert.equal((await at(100 * MiB)).status, "healthy");
  const high = await at(600 * MiB);
  assert.equal(high.status, "degraded");
  assert.equal(high.details?.rssLevel, "high");
  assert.match(high.message!, /process RSS 600 MiB \(high\)/);
  assert.equal((await at(900 * MiB)).status, "unhealthy");
});

Deno.test("memoryCheck still grades RSS when system memory cannot be read", async () => {
  const o = await memoryCheck({
    readRss: () => 10,
    readSystem: () => {
      throw new Deno.errors.NotCapable("Requires sys access");
    },
  }).run(signal());
  assert.equal(o.status, "healthy");
  assert.match(String(o.details?.systemError), /sys access/);
});

Deno.test("memoryCheck reads the real process and system memory", async () => {
  const o = await memoryCheck().run(signal());
  assert.ok(["healthy", "degraded", "unhealthy"].includes(o.status));
  assert.ok((o.details?.rssBytes as number) > 0);
  assert.ok((o.details?.systemTotalBytes as number) > 0);
  const used = o.details?.systemUsedPercent as number;
  assert.ok(used >= 0 && used <= 100, `${used}`);
});

Deno.test("memoryCheck rejects a High threshold above Critical", () => {
  assert.throws(() => memoryCheck({ systemHighPercent: 96 }), RangeError);
});

// --- cpu --------------------------------------------------------------------

Deno.test("cpuCheck grades load per core against its thresholds", async () => {
  const at = (load: number) => cpuCheck({ readLoad: () => load, readCores: () => 4 }).run(signal());
  const ok = await at(2);
  assert.equal(ok.status, "healthy");
  assert.deepEqual(ok.details, { load1: 2, cores: 4, loadPerCore: 0.5 });
  const busy = await at(4);
  assert.equal(busy.status, "degraded");
  assert.equal(busy.message, "load 1 per core ≥ 1");
  const overloaded = await at(8.4);
  assert.equal(overloaded.status, "unhealthy");
  assert.equal(overloaded.details?.loadPerCore, 2.1);
});

Deno.test("cpuCheck is degraded, not failing, when the load average is unavailable", async () => {
  const o = await cpuCheck({
    readLoad: () => {
      throw new Error("Requires sys access");
    },
  }).run(signal());
  assert.equal(o.status, "degraded");
  assert.match(o.message!, /^load average unavailable/);
  const nan = await cpuCheck({ readLoad: () => NaN, readCores: () => 2 }).run(signal());
  assert.equal(nan.status, "degraded");
});

Deno.test("cpuCheck reads the real load average and core count", async () => {
  const o = await cpuCheck().run(signal());
  assert.equal(o.details?.cores, navigator.hardwareConcurrency);
  assert.equal(typeof o.details?.loadPerCore, "number");
});

// --- disk -------------------------------------------------------------------

Deno.test("parseDfOutput reads df -Pk, including names and mount points with spaces", () => {
  const out = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n" +
    "map auto_home         2000      1500       500      75% /Volumes/My Disk\n";
  assert.deepEqual(parseDfOutput(out), {
    totalBytes: 2000 * 1024,
    usedBytes: 1500 * 1024,
    availableBytes: 500 * 1024,
    mountPoint: "/Volumes/My Disk",
  });
  assert.throws(() => parseDfOutput("Filesystem 1024-blocks Used\n"), TypeError);
  assert.throws(() => parseDfOutput(""), TypeError);
});

Deno.test("diskCheck grades free space: healthy, degraded below 15 %, unhealthy below 5 %", async () => {
  const at = (freePercent: number) =>
    diskCheck({
      dir: "/data",
      readUsage: (): Promise<DiskUsage> =>
        Promise.resolve({
          totalBytes: 1000,
          usedBytes: 100 - freePercent,
          availableBytes: freePercent,
          mountPoint: "/",
        }),
    }).run(signal());
  const ok = await at(40);
  assert.equal(ok.status, "healthy");
  assert.deepEqual(ok.details, {
    dir: "/data",
    mountPoint: "/",
    totalBytes: 1000,
    freeBytes: 40,
    freePercent: 40,
  });
  const low = await at(10);
  assert.equal(low.status, "degraded");
  assert.equal(low.message, "disk 10% free < 15%");
  assert.equal((await at(4)).status, "unhealthy");
});

Deno.test("diskCheck reads the real filesystem of a directory with df", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const o = await diskCheck({ dir }).run(signal());
    assert.equal(o.details?.dir, dir);
    assert.ok((o.details?.totalBytes as number) > 0, JSON.stringify(o));
    const free = o.details?.freePercent as number;
    assert.ok(free >= 0 && free <= 100);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("diskCheck is degraded with a message when df is missing", async () => {
  const o = await diskCheck({ dfCommand: "somnytoo-no-such-df" }).run(signal());
  assert.equal(o.status, "degraded");
  assert.equal(o.message, "disk space unavailable: df not found");
  assert.equal(o.details?.available, false);
});

Deno.test("diskCheck is degraded with df's complaint when the directory does not exist", async () => {
  const o = await diskCheck({ dir: "/no/such/somnytoo/dir" }).run(signal());
  assert.equal(o.status, "degraded");
  assert.match(o.message!, /^disk space unavailable: df exited with \d+/);
});
