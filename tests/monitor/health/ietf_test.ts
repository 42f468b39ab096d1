import assert from "node:assert/strict";
import {
  HEALTH_JSON_CONTENT_TYPE,
  healthHttpStatus,
  HealthMonitor,
  ietfStatus,
  memoryCheck,
  networkCheck,
  toIetfHealth,
} from "../../../src/monitor/health/mod.ts";
import type { CheckResult, HealthReport } from "../../../src/monitor/types.ts";
import { ManualClock } from "../../../src/util/mod.ts";

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const ISO = "2025-01-02T03:04:05.000Z";

function result(more: Partial<CheckResult> & Pick<CheckResult, "name" | "status">): CheckResult {
  return { latencyMs: 1, checkedAtMs: T0, ...more };
}

Deno.test("ietfStatus and healthHttpStatus map our statuses to the draft's and to HTTP", () => {
  assert.deepEqual(
    (["healthy", "degraded", "unhealthy"] as const).map((
      s,
    ) => [ietfStatus(s), healthHttpStatus(s)]),
    [["pass", 200], ["warn", 200], ["fail", 503]],
  );
  assert.equal(HEALTH_JSON_CONTENT_TYPE, "application/health+json");
});

Deno.test("toIetfHealth formats a passing report with observed values and no output", () => {
  const report: HealthReport = {
    status: "healthy",
    atMs: T0,
    checks: [
      result({ name: "database", status: "healthy", details: { roundTripMs: 1.5 } }),
      result({ name: "disk", status: "healthy", details: { freePercent: 42 } }),
    ],
  };
  assert.deepEqual(toIetfHealth(report, { serviceId: "somnytoo", version: "1" }), {
    status: "pass",
    version: "1",
    serviceId: "somnytoo",
    checks: {
      "database:responseTime": [{
        componentType: "datastore",
        observedValue: 1.5,
        observedUnit: "ms",
        status: "pass",
        time: ISO,
      }],
      "disk:freeSpace": [{
        componentType: "system",
        observedValue: 42,
        observedUnit: "percent",
        status: "pass",
        time: ISO,
      }],
    },
  });
});

Deno.test("toIetfHealth gives output on failing and warning checks, and a top-level output", () => {
  const body = toIetfHealth({
    status: "unhealthy",
    atMs: T0,
    checks: [
      result({ name: "database", status: "unhealthy", message: "database unreachable: refused" }),
      result({
        name: "cpu",
        status: "degraded",
        message: "load 1.2 per core ≥ 1",
        details: { loadPerCore: 1.2 },
      }),
      result({ name: "custom_thing", status: "healthy", details: { whatever: 1 } }),
      result({ name: "shutdown", status: "unhealthy", message: "shutting down" }),
    ],
  });
  assert.equal(body.status, "fail");
  assert.equal(
    body.output,
    "database: database unreachable: refused; cpu: load 1.2 per core ≥ 1; shutdown: shutting down",
  );
  assert.deepEqual(body.checks["database:responseTime"], [{
    componentType: "datastore",
    status: "fail",
    time: ISO,
    output: "database unreachable: refused",
  }]);
  assert.deepEqual(body.checks["cpu:utilization"], [{
    componentType: "system",
    observedValue: 1.2,
    observedUnit: "load/core",
    status: "warn",
    time: ISO,
    output: "load 1.2 per core ≥ 1",
  }]);
  assert.deepEqual(body.checks["custom_thing"], [{
    componentType: "component",
    status: "pass",
    time: ISO,
  }]);
  assert.deepEqual(body.checks["shutdown"], [{
    componentType: "system",
    status: "fail",
    time: ISO,
    output: "shutting down",
  }]);
});

Deno.test("toIetfHealth lists one observation per network target and per memory figure", () => {
  const body = toIetfHealth({
    status: "degraded",
    atMs: T0,
    checks: [
      result({
        name: "network",
        status: "degraded",
        message: "1 of 2 network targets unreachable",
        details: {
          targets: 2,
          reachable: 1,
          latencyMs: { "a:1": 3 },
          failed: { "b:2": "Connection refused" },
        },
      }),
      result({
        name: "memory",
        status: "healthy",
        details: { systemUsedPercent: 40, rssBytes: 1000 },
      }),
    ],
  });
  assert.equal(body.status, "warn");
  assert.deepEqual(body.checks["network:connectTime"], [
    {
      componentId: "a:1",
      componentType: "system",
      observedValue: 3,
      observedUnit: "ms",
      status: "pass",
      time: ISO,
    },
    {
      componentId: "b:2",
      componentType: "system",
      status: "fail",
      time: ISO,
      output: "Connection refused",
    },
  ]);
  assert.deepEqual(
    body.checks["memory:utilization"].map((c) => [c.componentId, c.observedValue, c.observedUnit]),
    [["system", 40, "percent"], ["process", 1000, "bytes"]],
  );
});

Deno.test("toIetfHealth takes per-check presentation overrides", () => {
  const body = toIetfHealth({
    status: "healthy",
    atMs: T0,
    checks: [result({ name: "queue", status: "healthy", details: { depth: 7 } })],
  }, {
    components: {
      queue: {
        componentType: "component",
        measurement: "depth",
        observe: (r) => [{ value: r.details?.depth as number, unit: "items" }],
      },
    },
  });
  assert.deepEqual(body.checks["queue:depth"], [{
    componentType: "component",
    observedValue: 7,
    observedUnit: "items",
    status: "pass",
    time: ISO,
  }]);
});

Deno.test("toIetfHealth formats a HealthMonitor report end to end as JSON", async () => {
  const monitor = new HealthMonitor({ clock: new ManualClock(T0) });
  monitor.register(networkCheck());
  monitor.register(memoryCheck({
    readRss: () => 1,
    readSystem: () => ({ total: 100, available: 3 }),
    probes: ["readiness"],
  }));
  const body = JSON.parse(JSON.stringify(toIetfHealth(await monitor.report())));
  assert.equal(body.status, "fail");
  assert.equal(body.checks["network:connectTime"][0].status, "pass");
  assert.equal(body.checks["memory:utilization"][0].status, "fail");
  assert.equal(body.checks["memory:utilization"][0].time, ISO);
});
