/**
 * Reloadable settings: the admin API's updates and SIGHUP's reload, on a
 * real server (limits take effect on the next accept / request) and a real
 * logger.
 */
import assert from "node:assert/strict";
import { CONFIG_DEFAULTS, loadConfig } from "../../src/config/mod.ts";
import { SessionError } from "../../src/errors.ts";
import {
  currentSettings,
  defaultSettings,
  reloadFrom,
  SecurityLayer,
  updateSettings,
} from "../../src/server/mod.ts";
import { createLogger } from "../../src/util/mod.ts";
import { connectClient, startTestServer } from "../_helpers/test_server.ts";

Deno.test("updateSettings: valid values apply at once, others are refused with a reason", async () => {
  const ts = startTestServer();
  const logger = createLogger({ level: "info", sink: () => {} });
  try {
    const targets = { server: ts.server, logger };
    assert.equal(currentSettings(targets).logLevel, "info");
    const r = updateSettings(targets, {
      "logLevel": "debug",
      "server.maxConnectionsPerIp": 1,
      "server.maxInFlightPerSession": 0,
      "server.port": 9999,
    });
    assert.deepEqual([...r.applied].sort(), ["logLevel", "server.maxConnectionsPerIp"]);
    assert.match(
      r.rejected["server.maxInFlightPerSession"],
      /MAX_IN_FLIGHT_PER_SESSION|maxInFlightPerSession/,
    );
    assert.match(r.rejected["server.port"], /restart/);
    assert.equal(logger.level, "debug");
    assert.equal(ts.server.limits().maxConnectionsPerIp, 1);
    // In force for the next accept: a second connection from 127.0.0.1 is refused.
    const first = await connectClient(ts);
    await assert.rejects(connectClient(ts), SessionError);
    await first.close();
    assert.deepEqual(updateSettings(targets, [1, 2]).applied, []);
  } finally {
    await ts.close();
  }
});

Deno.test("reloadFrom (SIGHUP): applies changed reloadable values, lists the rest as needing a restart", async () => {
  const ts = startTestServer();
  const logger = createLogger({ level: "info", sink: () => {} });
  try {
    const previous = CONFIG_DEFAULTS;
    const next = loadConfig({
      env: { LOG_LEVEL: "warn", MAX_IN_FLIGHT_PER_SESSION: "7", SERVER_PORT: "8123" },
    });
    const r = reloadFrom({ server: ts.server, logger }, previous, next);
    assert.ok(r.applied.includes("logLevel") && r.applied.includes("server.maxInFlightPerSession"));
    assert.equal(r.rejected["server.port"], "changed, but needs a restart");
    assert.equal(logger.level, "warn");
    assert.equal(ts.server.limits().maxInFlightPerSession, 7);
    assert.equal(defaultSettings().logLevel, CONFIG_DEFAULTS.logLevel);
  } finally {
    await ts.close();
  }
});

Deno.test("updateSettings: AIMD limits of the security layer, validated as a set", async () => {
  const ts = startTestServer();
  const logger = createLogger({ level: "info", sink: () => {} });
  const security = new SecurityLayer({ security: CONFIG_DEFAULTS.security });
  try {
    const targets = { server: ts.server, logger, security };
    assert.equal(currentSettings(targets)["security.aimd.maxLimit"], 10_000);
    const ok = updateSettings(targets, {
      "security.aimd.maxLimit": 500,
      "security.aimd.additiveIncrease": 5,
    });
    assert.deepEqual([...ok.applied].sort(), [
      "security.aimd.additiveIncrease",
      "security.aimd.maxLimit",
    ]);
    assert.equal(security.aimdParameters().maxLimit, 500);
    // min above initial: each value is in range alone, the set is not.
    const bad = updateSettings(targets, { "security.aimd.minLimit": 200 });
    assert.deepEqual(bad.applied, []);
    assert.match(bad.rejected["security.aimd.minLimit"], /minLimit/);
    assert.equal(security.aimdParameters().minLimit, 10, "nothing changed");
  } finally {
    await ts.close();
  }
});
