import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type AppConfig,
  CONFIG_DEFAULTS,
  CONFIG_FIELDS,
  ENV_VARS,
  listEnvVars,
  loadConfig,
  renderEnvDocs,
} from "../../src/config/mod.ts";
import { ConfigError } from "../../src/errors.ts";
import { toHex } from "../../src/util/mod.ts";

const KEY_A = "a1".repeat(32);
const KEY_B = "b2".repeat(32);
const KEY_C = "c3".repeat(32);

/** Run `fn`, expect a ConfigError with `code`, and return its message. */
function configError(fn: () => unknown, code = "CONFIG_INVALID"): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

function envError(env: Record<string, string>): string {
  return configError(() => loadConfig({ env }));
}

/** Every 8-character window of `secret`, so partial leaks are caught too. */
function assertNoLeak(message: string, secret: string) {
  for (let i = 0; i + 8 <= secret.length; i++) {
    const part = secret.slice(i, i + 8);
    assert.ok(!message.includes(part), `message leaks ${JSON.stringify(part)}: ${message}`);
  }
}

// ------------------------------------------------------------------ precedence

Deno.test("loadConfig with an empty env and no file returns the defaults", () => {
  const c = loadConfig({ env: {} });
  assert.deepEqual(c, CONFIG_DEFAULTS);
  assert.equal(c.security.psks.size, 0);
  assert.equal(c.security.hmacSecretKey, undefined);
  assert.equal(c.database.embeddedDir, "./.somnytoo/db");
});

Deno.test("precedence is defaults ← config file ← environment", () => {
  const c = loadConfig({
    env: { SERVER_PORT: "9001", LOG_LEVEL: "warn", AIMD_MAX_LIMIT: "600" },
    file: {
      server: { port: 7000, host: "127.0.0.1" },
      security: { aimd: { maxLimit: 500, minLimit: 5 } },
      logLevel: "debug",
      orm: { slowQueryMs: 50 },
    },
  });
  assert.equal(c.server.port, 9001, "env beats file");
  assert.equal(c.server.host, "127.0.0.1", "file beats default");
  assert.equal(c.logLevel, "warn");
  assert.equal(c.security.aimd.maxLimit, 600);
  assert.equal(c.security.aimd.minLimit, 5);
  assert.equal(c.security.aimd.initialLimit, 100, "untouched default");
  assert.equal(c.orm.slowQueryMs, 50);
  assert.equal(c.server.idleTimeoutMs, 45_000);
});

Deno.test("an empty or blank env value counts as unset and keeps the file's value", () => {
  const c = loadConfig({
    env: { SERVER_PORT: "", SERVER_HOST: "   " },
    file: { server: { port: 7100 } },
  });
  assert.equal(c.server.port, 7100);
  assert.equal(c.server.host, "0.0.0.0");
});

Deno.test("every env variable reaches its field", () => {
  const env: Record<string, string> = {
    SERVER_HOST: "127.0.0.2",
    SERVER_PORT: "8443",
    DATA_DIR: "/var/lib/somny/",
    PSK_SECRET: KEY_A,
    PSK_FILE: "/etc/somny/psks",
    HMAC_SECRET_KEY: KEY_B,
    AES_SECRET_KEY: KEY_C,
    LOG_LEVEL: "DEBUG",
    HANDSHAKE_TIMEOUT_MS: "2000",
    CLOCK_SKEW_MS: "1000",
    MAX_CONNECTIONS: "50",
    MAX_CONNECTIONS_PER_IP: "5",
    MAX_IN_FLIGHT_PER_SESSION: "7",
    HEARTBEAT_INTERVAL_MS: "1000",
    IDLE_TIMEOUT_MS: "3000",
    SEND_STALL_TIMEOUT_MS: "2500",
    PIPELINE_RELEASE_AFTER_MS: "0",
    HANDLER_TIMEOUT_MS: "400",
    SHUTDOWN_TIMEOUT_MS: "500",
    CRYPTO_BACKEND: "Node",
    HANDSHAKE_FAILURE_LIMIT: "0",
    IP_WHITELIST: " 10.0.0.0/8, ::1 ,,192.168.1.1",
    IP_BLACKLIST: "203.0.113.0/24,2001:db8::/32",
    AUDIT_RETENTION_DAYS: "30",
    TEST_MODE: "TRUE",
    AIMD_ADDITIVE_INCREASE: "2",
    AIMD_MULTIPLICATIVE_DECREASE: "0.5",
    AIMD_INITIAL_LIMIT: "20",
    AIMD_MAX_LIMIT: "40",
    AIMD_MIN_LIMIT: "3",
    DATABASE_URL: "postgres://app:pw@db:5432/app",
    DB_MAX_CONNECTIONS: "20",
    DB_MIN_CONNECTIONS: "2",
    DB_CONNECTION_TIMEOUT: "3",
    DB_ACQUIRE_TIMEOUT: "4",
    DB_IDLE_TIMEOUT: "60",
    DB_MAX_LIFETIME: "600",
    DB_STATEMENT_CACHE_SIZE: "0",
    DB_CONNECT_RETRIES: "9",
    ENABLE_PREPARED_STATEMENTS: "0",
    QUERY_TIMEOUT_MS: "1500",
    MAX_QUERY_LENGTH: "2000",
    ENABLE_SQL_INJECTION_PROTECTION: "false",
    MAX_REQUESTS_PER_MINUTE: "60",
    DEFAULT_TRANSACTION_TIMEOUT_MS: "1500",
    MIGRATE_ON_START: "0",
    ENABLE_QUERY_CACHE: "False",
    QUERY_CACHE_SIZE: "10",
    QUERY_CACHE_TTL_SECONDS: "5",
    PROMETHEUS_ENABLED: "1",
    PROMETHEUS_HOST: "0.0.0.0",
    PROMETHEUS_PORT: "9200",
    METRICS_INTERVAL_SEC: "30",
    NETWORK_CHECK_TARGETS: "db:5432,https://example.com/health",
    ALERT_WEBHOOK_URL: "https://hooks.example.com/T0/B0/XYZ",
    ADMIN_TOKEN: "0123456789abcdef0123",
    REPLICA_URLS: "postgres://r1/app,postgresql://u:p@r2:5433/app",
  };
  assert.deepEqual(
    Object.keys(env).sort(),
    ENV_VARS.map((v) => v.name).sort(),
    "this test covers every variable of the table",
  );
  const c = loadConfig({ env, fileReader: () => `ops=${KEY_C}\n` });
  assert.deepEqual(c.server, {
    ...CONFIG_DEFAULTS.server,
    host: "127.0.0.2",
    port: 8443,
    dataDir: "/var/lib/somny/",
    handshakeTimeoutMs: 2000,
    clockSkewMs: 1000,
    maxConnections: 50,
    maxConnectionsPerIp: 5,
    maxInFlightPerSession: 7,
    heartbeatIntervalMs: 1000,
    idleTimeoutMs: 3000,
    sendStallTimeoutMs: 2500,
    pipelineReleaseAfterMs: 0,
    handlerTimeoutMs: 400,
    shutdownTimeoutMs: 500,
    cryptoBackend: "node",
  });
  assert.equal(c.logLevel, "debug");
  assert.deepEqual([...c.security.psks.keys()], ["", "ops"]);
  assert.equal(toHex(c.security.psks.get("")!), KEY_A);
  assert.equal(c.security.pskFile, "/etc/somny/psks");
  assert.equal(toHex(c.security.hmacSecretKey!), KEY_B);
  assert.equal(toHex(c.security.aesSecretKey!), KEY_C);
  assert.equal(c.security.handshakeFailureLimit, 0);
  assert.deepEqual(c.security.ipWhitelist, ["10.0.0.0/8", "::1", "192.168.1.1"]);
  assert.deepEqual(c.security.ipBlacklist, ["203.0.113.0/24", "2001:db8::/32"]);
  assert.equal(c.security.auditRetentionDays, 30);
  assert.equal(c.security.testMode, true);
  assert.deepEqual(c.security.aimd, {
    additiveIncrease: 2,
    multiplicativeDecrease: 0.5,
    initialLimit: 20,
    maxLimit: 40,
    minLimit: 3,
  });
  assert.deepEqual(c.database, {
    ...CONFIG_DEFAULTS.database,
    url: "postgres://app:pw@db:5432/app",
    maxConnections: 20,
    minConnections: 2,
    connectionTimeoutMs: 3000,
    acquireTimeoutMs: 4000,
    idleTimeoutMs: 60_000,
    maxLifetimeMs: 600_000,
    statementCacheSize: 0,
    connectRetries: 9,
    enablePreparedStatements: false,
    queryTimeoutMs: 1500,
    maxQueryLength: 2000,
    enableSqlInjectionProtection: false,
    maxRequestsPerMinute: 60,
    defaultTransactionTimeoutMs: 1500,
    migrateOnStart: false,
    embeddedDir: "/var/lib/somny/db",
  });
  assert.deepEqual(c.scaling.readReplicaUrls, [
    "postgres://r1/app",
    "postgresql://u:p@r2:5433/app",
  ]);
  assert.deepEqual(c.cache, {
    enableQueryCache: false,
    queryCacheSize: 10,
    queryCacheTtlSeconds: 5,
  });
  assert.deepEqual(c.monitoring, {
    ...CONFIG_DEFAULTS.monitoring,
    prometheusEnabled: true,
    prometheusHost: "0.0.0.0",
    prometheusPort: 9200,
    metricsIntervalSec: 30,
    networkCheckTargets: ["db:5432", "https://example.com/health"],
    alertWebhookUrl: "https://hooks.example.com/T0/B0/XYZ",
    adminToken: "0123456789abcdef0123",
  });
});

Deno.test("database.embeddedDir follows the final dataDir unless set explicitly", () => {
  assert.equal(loadConfig({ env: { DATA_DIR: "/srv/s" } }).database.embeddedDir, "/srv/s/db");
  assert.equal(
    loadConfig({ env: {}, file: { server: { dataDir: "data" } } }).database.embeddedDir,
    "data/db",
  );
  assert.equal(
    loadConfig({ env: { DATA_DIR: "/srv/s" }, file: { database: { embeddedDir: "/fast/db" } } })
      .database.embeddedDir,
    "/fast/db",
  );
});

// ------------------------------------------------------------------ immutability

function assertDeepFrozen(value: unknown, path = "config") {
  if (value === null || typeof value !== "object") return;
  assert.ok(Object.isFrozen(value), `${path} is frozen`);
  for (const [k, v] of Object.entries(value)) assertDeepFrozen(v, `${path}.${k}`);
}

Deno.test("the loaded config is deep-frozen", () => {
  const c = loadConfig({ env: { IP_WHITELIST: "10.0.0.1", PSK_SECRET: KEY_A } });
  assertDeepFrozen(c);
  assert.throws(() => {
    (c.server as { port: number }).port = 1;
  }, TypeError);
  assert.throws(() => {
    (c.security.ipWhitelist as string[]).push("1.1.1.1");
  }, TypeError);
  assert.throws(() => {
    (c.security.aimd as { maxLimit: number }).maxLimit = 1;
  }, TypeError);
  assert.equal(typeof (c.security.psks as unknown as { set?: unknown }).set, "undefined");
  assertDeepFrozen(CONFIG_DEFAULTS);
});

Deno.test("key material is hidden from enumeration and handed out as copies", () => {
  const c = loadConfig({
    env: { PSK_SECRET: KEY_A, HMAC_SECRET_KEY: KEY_B, AES_SECRET_KEY: KEY_C },
  });
  const keys = Object.keys(c.security);
  assert.ok(!keys.includes("hmacSecretKey") && !keys.includes("aesSecretKey"));
  const json = JSON.stringify(c);
  for (const k of [KEY_A, KEY_B, KEY_C]) assert.ok(!json.includes(k.slice(0, 8)));
  assert.ok(!json.includes("161,161"), "no byte arrays serialized");

  const h = c.security.hmacSecretKey!;
  h.fill(0);
  assert.equal(toHex(c.security.hmacSecretKey!), KEY_B, "mutating a copy changes nothing");
  const p = c.security.psks.get("")!;
  p.fill(0);
  assert.equal(toHex(c.security.psks.get("")!), KEY_A);
  for (const [, v] of c.security.psks) v.fill(0);
  assert.equal(toHex([...c.security.psks.values()][0]), KEY_A);
  assert.ok(!Deno.inspect(c).includes("161"), "console.log shows no key bytes");
});

// ------------------------------------------------------------------ PSK ring

Deno.test('the PSK ring holds PSK_SECRET as id "" plus every PSK file entry', () => {
  const reads: string[] = [];
  const c = loadConfig({
    env: { PSK_SECRET: KEY_A, PSK_FILE: "/etc/somny/psks" },
    fileReader: (path) => {
      reads.push(path);
      return `# team keys\nops=${KEY_B}\n\nci = ${KEY_C}\n`;
    },
  });
  assert.deepEqual(reads, ["/etc/somny/psks"]);
  assert.equal(c.security.pskFile, "/etc/somny/psks");
  assert.deepEqual([...c.security.psks.keys()], ["", "ops", "ci"]);
  assert.equal(toHex(c.security.psks.get("ci")!), KEY_C);
});

Deno.test("the PSK file may be named in the config file and read as bytes", () => {
  const c = loadConfig({
    env: {},
    file: { security: { pskFile: "psks.txt" } },
    fileReader: () => new TextEncoder().encode(`=${KEY_A}\n`),
  });
  assert.deepEqual([...c.security.psks.keys()], [""]);
});

Deno.test('PSK ring errors: id "" twice, no reader, unreadable, empty file', () => {
  let msg = configError(() =>
    loadConfig({ env: { PSK_SECRET: KEY_A, PSK_FILE: "p" }, fileReader: () => `=${KEY_B}` })
  );
  assert.match(msg, /PSK_SECRET/);
  assertNoLeak(msg, KEY_A);
  assertNoLeak(msg, KEY_B);

  msg = configError(() => loadConfig({ env: { PSK_FILE: "p" } }));
  assert.match(msg, /^PSK_FILE is set but loadConfig was given no fileReader/);

  msg = configError(
    () =>
      loadConfig({
        env: { PSK_FILE: "/nope" },
        fileReader: () => {
          throw new Deno.errors.NotFound("No such file");
        },
      }),
    "CONFIG_FILE_UNREADABLE",
  );
  assert.equal(msg, 'Cannot read PSK_FILE "/nope": NotFound');

  msg = configError(() => loadConfig({ env: { PSK_FILE: "p" }, fileReader: () => "# none\n" }));
  assert.equal(msg, 'PSK_FILE "p" has no keys');

  msg = configError(() =>
    loadConfig({ env: { PSK_FILE: "k.txt" }, fileReader: () => `ops=${KEY_A.slice(2)}zz\n` })
  );
  assert.equal(msg, "PSK file k.txt line 1: key must be 64 hex characters (32 bytes)");
});

// ------------------------------------------------------------------ env validation

/** Variable → a bad value and the exact expected message. */
const BAD_ENV: Record<string, [string, string]> = {
  SERVER_HOST: ["my host", 'SERVER_HOST must be a non-empty value without spaces (got "my host")'],
  SERVER_PORT: ["70000", 'SERVER_PORT must be an integer from 0 to 65535 (got "70000")'],
  DATA_DIR: ["a\0b", 'DATA_DIR must be a non-empty path (got "a\\u0000b")'],
  PSK_SECRET: [KEY_A.slice(0, 62) + "zz", "PSK_SECRET must be 64 hex characters (32 bytes)"],
  PSK_FILE: ["x\0y", 'PSK_FILE must be a non-empty path (got "x\\u0000y")'],
  HMAC_SECRET_KEY: [KEY_B.slice(0, 63), "HMAC_SECRET_KEY must be 64 hex characters (32 bytes)"],
  AES_SECRET_KEY: [KEY_C + "00", "AES_SECRET_KEY must be 64 hex characters (32 bytes)"],
  LOG_LEVEL: [
    "verbose",
    'LOG_LEVEL must be one of debug, info, warn, error, silent (got "verbose")',
  ],
  HANDSHAKE_TIMEOUT_MS: [
    "10s",
    'HANDSHAKE_TIMEOUT_MS must be an integer from 100 to 300000 (got "10s")',
  ],
  CLOCK_SKEW_MS: ["-1", 'CLOCK_SKEW_MS must be an integer from 0 to 3600000 (got "-1")'],
  MAX_CONNECTIONS: ["0", 'MAX_CONNECTIONS must be an integer from 1 to 10000000 (got "0")'],
  MAX_CONNECTIONS_PER_IP: [
    "1.5",
    'MAX_CONNECTIONS_PER_IP must be an integer from 1 to 10000000 (got "1.5")',
  ],
  MAX_IN_FLIGHT_PER_SESSION: [
    "lots",
    'MAX_IN_FLIGHT_PER_SESSION must be an integer from 1 to 1000000 (got "lots")',
  ],
  HEARTBEAT_INTERVAL_MS: [
    "99",
    'HEARTBEAT_INTERVAL_MS must be an integer from 100 to 3600000 (got "99")',
  ],
  IDLE_TIMEOUT_MS: ["1e3", 'IDLE_TIMEOUT_MS must be an integer from 200 to 86400000 (got "1e3")'],
  SEND_STALL_TIMEOUT_MS: [
    "50",
    'SEND_STALL_TIMEOUT_MS must be an integer from 100 to 600000 (got "50")',
  ],
  PIPELINE_RELEASE_AFTER_MS: [
    "-1",
    'PIPELINE_RELEASE_AFTER_MS must be an integer from 0 to 3600000 (got "-1")',
  ],
  HANDLER_TIMEOUT_MS: ["0", 'HANDLER_TIMEOUT_MS must be an integer from 1 to 86400000 (got "0")'],
  SHUTDOWN_TIMEOUT_MS: [
    "0x10",
    'SHUTDOWN_TIMEOUT_MS must be an integer from 0 to 3600000 (got "0x10")',
  ],
  CRYPTO_BACKEND: [
    "openssl",
    'CRYPTO_BACKEND must be one of auto, webcrypto, node, libcrypto (got "openssl")',
  ],
  HANDSHAKE_FAILURE_LIMIT: [
    "-5",
    'HANDSHAKE_FAILURE_LIMIT must be an integer from 0 to 1000000 (got "-5")',
  ],
  IP_WHITELIST: [
    "10.0.0.0/8,10.0.0.0/33",
    'IP_WHITELIST entry 2 must be an IPv4/IPv6 address or CIDR (got "10.0.0.0/33")',
  ],
  IP_BLACKLIST: [
    "10.0.0.1,not-an-ip",
    'IP_BLACKLIST entry 2 must be an IPv4/IPv6 address or CIDR (got "not-an-ip")',
  ],
  AUDIT_RETENTION_DAYS: ["0", 'AUDIT_RETENTION_DAYS must be an integer from 1 to 36500 (got "0")'],
  TEST_MODE: ["yes", 'TEST_MODE must be true, false, 1 or 0 (got "yes")'],
  AIMD_ADDITIVE_INCREASE: [
    "0",
    'AIMD_ADDITIVE_INCREASE must be an integer from 1 to 1000000 (got "0")',
  ],
  AIMD_MULTIPLICATIVE_DECREASE: [
    "1",
    'AIMD_MULTIPLICATIVE_DECREASE must be a number greater than 0 and less than 1 (got "1")',
  ],
  AIMD_INITIAL_LIMIT: ["x", 'AIMD_INITIAL_LIMIT must be an integer from 1 to 10000000 (got "x")'],
  AIMD_MAX_LIMIT: ["0", 'AIMD_MAX_LIMIT must be an integer from 1 to 10000000 (got "0")'],
  AIMD_MIN_LIMIT: ["", ""], // filled in below (blank is "unset", so use another value)
  DATABASE_URL: [
    "mysql://root:hunter2hunter2@db/app",
    "DATABASE_URL must be a postgres:// or postgresql:// URL",
  ],
  DB_MAX_CONNECTIONS: [
    "10001",
    'DB_MAX_CONNECTIONS must be an integer from 1 to 10000 (got "10001")',
  ],
  DB_MIN_CONNECTIONS: ["-1", 'DB_MIN_CONNECTIONS must be an integer from 0 to 10000 (got "-1")'],
  DB_CONNECTION_TIMEOUT: [
    "30000ms",
    'DB_CONNECTION_TIMEOUT must be a whole number of seconds from 1 to 3600 (got "30000ms")',
  ],
  DB_ACQUIRE_TIMEOUT: [
    "0",
    'DB_ACQUIRE_TIMEOUT must be a whole number of seconds from 1 to 3600 (got "0")',
  ],
  DB_IDLE_TIMEOUT: [
    "86401",
    'DB_IDLE_TIMEOUT must be a whole number of seconds from 1 to 86400 (got "86401")',
  ],
  DB_MAX_LIFETIME: [
    "1.5",
    'DB_MAX_LIFETIME must be a whole number of seconds from 1 to 604800 (got "1.5")',
  ],
  DB_STATEMENT_CACHE_SIZE: [
    "-1",
    'DB_STATEMENT_CACHE_SIZE must be an integer from 0 to 1000000 (got "-1")',
  ],
  DB_CONNECT_RETRIES: ["101", 'DB_CONNECT_RETRIES must be an integer from 0 to 100 (got "101")'],
  ENABLE_PREPARED_STATEMENTS: [
    "on",
    'ENABLE_PREPARED_STATEMENTS must be true, false, 1 or 0 (got "on")',
  ],
  QUERY_TIMEOUT_MS: ["0", 'QUERY_TIMEOUT_MS must be an integer from 1 to 86400000 (got "0")'],
  MAX_QUERY_LENGTH: ["0", 'MAX_QUERY_LENGTH must be an integer from 1 to 100000000 (got "0")'],
  ENABLE_SQL_INJECTION_PROTECTION: [
    "2",
    'ENABLE_SQL_INJECTION_PROTECTION must be true, false, 1 or 0 (got "2")',
  ],
  MAX_REQUESTS_PER_MINUTE: [
    "0",
    'MAX_REQUESTS_PER_MINUTE must be an integer from 1 to 100000000 (got "0")',
  ],
  DEFAULT_TRANSACTION_TIMEOUT_MS: [
    "0",
    'DEFAULT_TRANSACTION_TIMEOUT_MS must be an integer from 1 to 86400000 (got "0")',
  ],
  MIGRATE_ON_START: ["yes", 'MIGRATE_ON_START must be true, false, 1 or 0 (got "yes")'],
  ENABLE_QUERY_CACHE: ["enabled", 'ENABLE_QUERY_CACHE must be true, false, 1 or 0 (got "enabled")'],
  QUERY_CACHE_SIZE: ["0", 'QUERY_CACHE_SIZE must be an integer from 1 to 10000000 (got "0")'],
  QUERY_CACHE_TTL_SECONDS: [
    "86401",
    'QUERY_CACHE_TTL_SECONDS must be an integer from 1 to 86400 (got "86401")',
  ],
  PROMETHEUS_ENABLED: ["nope", 'PROMETHEUS_ENABLED must be true, false, 1 or 0 (got "nope")'],
  PROMETHEUS_HOST: ["a b", 'PROMETHEUS_HOST must be a non-empty value without spaces (got "a b")'],
  PROMETHEUS_PORT: ["65536", 'PROMETHEUS_PORT must be an integer from 0 to 65535 (got "65536")'],
  METRICS_INTERVAL_SEC: ["0", 'METRICS_INTERVAL_SEC must be an integer from 1 to 3600 (got "0")'],
  NETWORK_CHECK_TARGETS: [
    "db:5432,bad host:1",
    'NETWORK_CHECK_TARGETS entry 2 must be a non-empty value without spaces or commas (got "bad host:1")',
  ],
  ALERT_WEBHOOK_URL: [
    "ftp://hooks.example.com/T000/B000/SECRETPATHxyz",
    "ALERT_WEBHOOK_URL must be an http:// or https:// URL",
  ],
  ADMIN_TOKEN: ["shortSecret12", "ADMIN_TOKEN must be at least 16 characters without spaces"],
  REPLICA_URLS: [
    "mysql://u:replicaSecret99@r2/app",
    "REPLICA_URLS entry 1 must be a postgres:// or postgresql:// URL",
  ],
};
BAD_ENV.AIMD_MIN_LIMIT = [
  "ten",
  'AIMD_MIN_LIMIT must be an integer from 1 to 10000000 (got "ten")',
];

Deno.test("every env variable has a tested validation error", () => {
  assert.deepEqual(Object.keys(BAD_ENV).sort(), ENV_VARS.map((v) => v.name).sort());
});

for (const [name, [value, expected]] of Object.entries(BAD_ENV)) {
  Deno.test(`${name} with a bad value throws "${expected}"`, () => {
    const msg = envError({ [name]: value });
    assert.equal(msg, expected);
    assert.ok(msg.startsWith(name + " "), "the message names the variable first");
    const spec = ENV_VARS.find((v) => v.name === name)!;
    if (spec.secret) assertNoLeak(msg, value);
  });
}

Deno.test("secret variables never appear in error messages, whatever their value", () => {
  const secretNames = ENV_VARS.filter((v) => v.secret).map((v) => v.name);
  assert.deepEqual(secretNames.sort(), [
    "ADMIN_TOKEN",
    "AES_SECRET_KEY",
    "ALERT_WEBHOOK_URL",
    "DATABASE_URL",
    "HMAC_SECRET_KEY",
    "PSK_SECRET",
    "REPLICA_URLS",
  ]);
  fc.assert(
    fc.property(
      fc.constantFrom(...secretNames),
      fc.string({ minLength: 8, maxLength: 80 }).filter((s) => s.trim().length >= 8),
      (name, value) => {
        try {
          loadConfig({ env: { [name]: value } });
        } catch (e) {
          assert.ok(e instanceof ConfigError);
          assert.ok(e.message.startsWith(name));
          assert.ok(!e.message.includes(value.trim()), e.message);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("booleans accept true/false/1/0 in any case", () => {
  for (
    const [text, want] of [["true", true], ["TRUE", true], ["1", true], ["false", false], [
      "False",
      false,
    ], ["0", false]] as const
  ) {
    assert.equal(loadConfig({ env: { TEST_MODE: text } }).security.testMode, want, text);
  }
});

Deno.test("IP_WHITELIST accepts IPv4/IPv6 addresses and CIDRs and rejects malformed ones", () => {
  const good = [
    "0.0.0.0/0",
    "255.255.255.255",
    "192.168.0.0/16",
    "::",
    "::/0",
    "::1",
    "fe80::1",
    "2001:db8::/32",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8/128",
    "::ffff:192.0.2.1",
    "64:ff9b::192.0.2.33/96",
    "1::",
  ];
  const c = loadConfig({ env: { IP_WHITELIST: good.join(",") } });
  assert.deepEqual(c.security.ipWhitelist, good);
  const bad = [
    "256.0.0.1",
    "1.2.3",
    "01.2.3.4",
    "1.2.3.4/33",
    "1.2.3.4/",
    "1.2.3.4/-1",
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "::g",
    "1.2.3.4::",
    "::1/129",
    "fe80::1%eth0",
    "example.com",
  ];
  for (const b of bad) {
    const msg = envError({ IP_WHITELIST: `10.0.0.1,${b}` });
    assert.equal(
      msg,
      `IP_WHITELIST entry 2 must be an IPv4/IPv6 address or CIDR (got ${JSON.stringify(b)})`,
    );
  }
});

Deno.test("cross-field rules name both variables", () => {
  assert.equal(
    envError({ HEARTBEAT_INTERVAL_MS: "5000", IDLE_TIMEOUT_MS: "5000" }),
    "HEARTBEAT_INTERVAL_MS must be less than IDLE_TIMEOUT_MS (5000 vs 5000)",
  );
  assert.equal(
    envError({ DB_MIN_CONNECTIONS: "60" }),
    "DB_MIN_CONNECTIONS must be at most DB_MAX_CONNECTIONS (60 vs 50)",
  );
  assert.equal(
    envError({ AIMD_MIN_LIMIT: "200" }),
    "AIMD_MIN_LIMIT must be at most AIMD_INITIAL_LIMIT (200 vs 100)",
  );
  assert.equal(
    envError({ AIMD_INITIAL_LIMIT: "20000" }),
    "AIMD_INITIAL_LIMIT must be at most AIMD_MAX_LIMIT (20000 vs 10000)",
  );
  assert.equal(
    envError({ PROMETHEUS_PORT: "8000" }),
    "PROMETHEUS_PORT must differ from SERVER_PORT (both 8000)",
  );
  assert.equal(
    loadConfig({ env: { PROMETHEUS_PORT: "8000", PROMETHEUS_ENABLED: "false" } }).monitoring
      .prometheusPort,
    8000,
  );
  assert.equal(
    configError(() =>
      loadConfig({ env: {}, file: { scaling: { minReplicas: 5, maxReplicas: 2 } } })
    ),
    "scaling.minReplicas in config file must be at most scaling.maxReplicas in config file (5 vs 2)",
  );
  assert.equal(
    configError(() => loadConfig({ env: {}, file: { scaling: { scaleDownCpuPercent: 80 } } })),
    "scaling.scaleDownCpuPercent in config file must be less than scaling.scaleUpCpuPercent (80 vs 75)",
  );
});

// ------------------------------------------------------------------ file validation

Deno.test("config file errors name the key and the file", () => {
  const load = (file: unknown) =>
    configError(() => loadConfig({ env: {}, file, fileName: "somny.json" }));
  assert.equal(load([1]), "somny.json must contain a JSON object");
  assert.equal(load({ server: { prot: 1 } }), 'somny.json has an unknown key "server.prot"');
  assert.equal(load({ sever: {} }), 'somny.json has an unknown key "sever"');
  assert.equal(load({ server: 5 }), "server in somny.json must be an object");
  assert.equal(
    load({ server: { port: "8000" } }),
    'server.port in somny.json must be an integer from 0 to 65535 (got "8000")',
  );
  assert.equal(
    load({ server: { port: 80.5 } }),
    'server.port in somny.json must be an integer from 0 to 65535 (got "80.5")',
  );
  assert.equal(
    load({ security: { testMode: "true" } }),
    'security.testMode in somny.json must be true or false (got "true")',
  );
  assert.equal(
    load({ security: { ipWhitelist: "10.0.0.1" } }),
    'security.ipWhitelist in somny.json must be a list of IPv4/IPv6 addresses or CIDRs (got "10.0.0.1")',
  );
  assert.equal(
    load({ security: { anomalyWeights: { burstTraffic: 1.5 } } }),
    'security.anomalyWeights.burstTraffic in somny.json must be a number from 0 to 1 (got "1.5")',
  );
  assert.equal(
    load({ security: { hmacSecretKey: KEY_A } }),
    "security.hmacSecretKey in somny.json is not allowed: key material is read only from the environment (HMAC_SECRET_KEY)",
  );
  assert.equal(
    load({ security: { psks: {} } }),
    "security.psks in somny.json is not allowed: key material is read only from the environment (PSK_SECRET)",
  );
  const leak = load({ database: { url: "mysql://u:fileSecret123@h/db" } });
  assert.equal(leak, "database.url in somny.json must be a postgres:// or postgresql:// URL");
  assertNoLeak(leak, "fileSecret123");
  const tokenMsg = load({ monitoring: { adminToken: "tooShortSecret" } });
  assertNoLeak(tokenMsg, "tooShortSecret");
});

Deno.test("config file: $schema is ignored and null unsets an optional field", () => {
  const c = loadConfig({
    env: {},
    file: { $schema: "./schema.json", database: { url: null }, monitoring: { adminToken: null } },
  });
  assert.equal(c.database.url, undefined);
  assert.equal(c.monitoring.adminToken, undefined);
  assert.throws(() => loadConfig({ env: {}, file: { server: { port: null } } }), ConfigError);
});

Deno.test("config file covers every non-key field (same keys as AppConfig)", () => {
  // Build a file from the defaults and check it loads back to the defaults.
  const file: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) {
    if (f.envOnly || f.default === undefined) continue;
    const parts = f.path.split(".");
    let node = file;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts.at(-1)!] = f.default;
  }
  const c: AppConfig = loadConfig({ env: {}, file });
  assert.deepEqual(c, CONFIG_DEFAULTS);
});

// ------------------------------------------------------------------ docs table

Deno.test("the env table maps each variable to a real field with a matching secret flag", () => {
  const names = new Set<string>();
  for (const v of ENV_VARS) {
    assert.ok(!names.has(v.name), `duplicate ${v.name}`);
    names.add(v.name);
    const field = CONFIG_FIELDS.find((f) => f.path === v.path);
    assert.ok(field, `${v.name} → ${v.path} exists`);
    assert.equal(v.secret, field.secret !== undefined, `${v.name} secret flag`);
  }
  const docs = listEnvVars();
  assert.equal(docs.length, ENV_VARS.length);
  const t = docs.find((d) => d.name === "DB_IDLE_TIMEOUT")!;
  assert.deepEqual(
    { ...t },
    {
      name: "DB_IDLE_TIMEOUT",
      path: "database.idleTimeoutMs",
      accepts: "seconds 1–86400",
      default: "300",
      secret: false,
      description: "Close idle pooled connections after (ms)",
    },
  );
  const md = renderEnvDocs();
  for (const v of ENV_VARS) assert.ok(md.includes(`| \`${v.name}\` |`), v.name);
  assert.equal(md.trimEnd().split("\n").length, ENV_VARS.length + 2);
});
