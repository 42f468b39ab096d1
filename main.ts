/**
 * SomnyToo command line: `serve`, `client`, `keygen`, `migrate`.
 *
 * The only module that reads `Deno.args` and `Deno.env`, and the only caller
 * of `Deno.exit`. Nothing imports it.
 *
 * ```
 * deno task start                      # serve on 0.0.0.0:8000 with the embedded defaults
 * deno task client ping                # talk to it, key read from ./.somnytoo/psk
 * deno task client echo "hello"
 * deno task client bench --connections 16 --seconds 5
 * deno task keygen [--id NAME]         # a new key, as PSK_SECRET / PSK_FILE line
 * deno task migrate                    # apply pending database migrations and exit
 * ```
 */

import { parseArgs } from "node:util";
import { ConfigError, SomnyError } from "./src/errors.ts";
import {
  type AppConfig,
  ensureDefaultHmacKey,
  ensureDefaultPsk,
  loadConfig,
  redactConfig,
} from "./src/config/mod.ts";
import { createLogger, fromHex, type Logger, toHex } from "./src/util/mod.ts";
import { selectCryptoBackend } from "./src/crypto/mod.ts";
import {
  createServer,
  registerEcho,
  registerKvService,
  reloadFrom,
  SecurityLayer,
  type SomnyServer,
} from "./src/server/mod.ts";
import denoJson from "./deno.json" with { type: "json" };

const VERSION: string = denoJson.version;
import { AuditLog, IpRules, ReputationStore } from "./src/security/mod.ts";
import { createRequestMetrics, type Monitoring, startMonitoring } from "./src/monitor/mod.ts";
import { runClientCommand } from "./src/cli/mod.ts";
import { openDatabase } from "./src/db/mod.ts";

const USAGE = `Usage:
  main.ts serve  [--config FILE] [--host HOST] [--port PORT]
  main.ts client [--host HOST] [--port PORT] [--psk-file FILE | --psk HEX] [--psk-id ID]
                 ping | echo <text> | bench [--connections N] [--seconds S] [--payload BYTES]
  main.ts keygen [--id ID]
  main.ts migrate [--config FILE]
  main.ts audit verify | purge [--config FILE]
Environment variables (and a .env file via --env-file) configure the server; see README.md.`;

async function readConfigFile(path: string | undefined): Promise<unknown> {
  if (!path) return undefined;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(
      "CONFIG_FILE_UNREADABLE",
      `Cannot read config file ${path}: ${(e as Error).name}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError("CONFIG_INVALID", `Config file ${path} is not valid JSON`);
  }
}

async function buildConfig(
  values: { config?: string; host?: string; port?: string },
): Promise<AppConfig> {
  const env = Deno.env.toObject();
  // Command-line flags are the last word, above the environment.
  if (values.host) env.SERVER_HOST = values.host;
  if (values.port) env.SERVER_PORT = values.port;
  return loadConfig({
    env,
    file: await readConfigFile(values.config),
    fileName: values.config,
    fileReader: (p) => Deno.readFileSync(p),
  });
}

function makeLogger(config: AppConfig): Logger {
  return createLogger({
    level: config.logLevel,
    format: Deno.stdout.isTerminal() ? "pretty" : "json",
    sink: (line) => console.error(line),
  });
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { config: { type: "string" }, host: { type: "string" }, port: { type: "string" } },
  });
  const config = await buildConfig(values);
  const log = makeLogger(config);
  let psks = config.security.psks;
  let pskNote = "";
  if (psks.size === 0) {
    const stored = await ensureDefaultPsk(config.server.dataDir);
    psks = new Map([["", stored.psk]]);
    pskNote = stored.created ? "generated a new key" : "reusing the stored key";
    log.info(`default PSK: ${pskNote}`, { file: stored.path });
  }
  const backend = selectCryptoBackend(config.server.cryptoBackend);
  // The embedded database unless DATABASE_URL is set; migrated when configured.
  let security: SecurityLayer | undefined;
  const database = await openDatabase(config, {
    logger: log,
    onSecurityEvent: (e) => {
      log.warn("database security event", { kind: e.kind, caller: e.caller, detail: e.detail });
      security?.onDatabaseEvent(e);
    },
  });
  // Bans shared by every instance on this database (LISTEN/NOTIFY needs a
  // connection of its own, which the one-connection embedded server lacks:
  // there the periodic resync carries changes).
  const reputation = new ReputationStore(database.db, {
    listen: database.embedded === undefined,
    allowList: new IpRules(config.security.ipWhitelist),
    logger: log,
  });
  // The audit chain's key: HMAC_SECRET_KEY, else one generated on first run.
  const audit = new AuditLog(database.db, { key: await auditKey(config, true), logger: log });
  let purgeTimer: ReturnType<typeof setInterval> | undefined;
  try {
    await reputation.start();
    // Retention: once at start, then daily.
    const purge = () =>
      audit.purgeOlderThan(config.security.auditRetentionDays).then(
        (r) => r.deleted > 0 && log.info("audit log purged", { deleted: r.deleted }),
        (e) => log.error("audit log purge failed", { error: e as Error }),
      );
    purge();
    purgeTimer = setInterval(purge, 24 * 3600_000);
    // The load monitor reads the server's queue once the server exists.
    const built: { server?: SomnyServer; monitoring?: Monitoring } = {};
    security = new SecurityLayer({
      security: config.security,
      reputation,
      audit,
      logger: log,
      load: {
        queueDepth: () => built.server?.queuedRequests ?? 0,
        loadPerCore: () => Deno.loadavg()[0] / navigator.hardwareConcurrency,
        dbWaiting: () => database.db.stats().pool.waiting,
      },
    });
    security.start();
    const layer = security;
    const metrics = createRequestMetrics({
      server: () => built.server,
      database: database.db,
      security: layer,
      health: () => built.monitoring?.health,
    });
    const server = built.server = createServer(
      { ...config.server, ...config.security },
      { psks, backend, logger: log, security, metrics: metrics.sink },
    );
    registerEcho(server.dispatcher);
    registerKvService(server.dispatcher, {
      forCaller: (caller) => layer.throttle(caller, database.db.forCaller(caller)),
    });
    const addr = server.listen();
    const monitoring = built.monitoring = startMonitoring({
      config,
      server,
      metrics,
      database: database.db,
      security: layer,
      reputation,
      audit,
      logger: log,
      version: VERSION,
    });
    if (monitoring.listener.running) {
      log.info("monitoring", {
        url: `http://${monitoring.listener.hostname}:${monitoring.listener.port}`,
        admin: config.monitoring.adminToken ? "enabled" : "disabled (set ADMIN_TOKEN)",
      });
    }
    log.info("config", { config: redactConfig(config) });
    log.info("serving", { host: addr.hostname, port: addr.port, crypto: backend.name });
    const connectHost = addr.hostname === "0.0.0.0" || addr.hostname === "::"
      ? "127.0.0.1"
      : addr.hostname;
    const keyArg = pskNote ? `--psk-file ${config.server.dataDir}/psk` : "--psk <your PSK_SECRET>";
    // The one command a client needs (the key is referenced by file, never printed).
    console.log(
      `\nSomnyToo listening on ${addr.hostname}:${addr.port}. Connect with:\n` +
        `  deno task client --host ${connectHost} --port ${addr.port} ${keyArg} echo hello\n`,
    );
    const stop = () => {
      log.info("signal received, shutting down gracefully", {});
      monitoring.setShuttingDown();
      server.shutdown();
    };
    // SIGHUP: re-read the configuration and apply what can change while running.
    const reload = async () => {
      try {
        const next = await buildConfig(values);
        const r = reloadFrom({ server, logger: log, security: layer }, config, next);
        log.info("configuration reloaded", {
          applied: r.applied,
          needsRestart: Object.keys(r.rejected),
        });
      } catch (e) {
        log.error("configuration reload failed; nothing changed", { error: e as Error });
      }
    };
    try {
      Deno.addSignalListener("SIGHUP", reload);
    } catch { /* no SIGHUP on this OS */ }
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(sig, stop);
      } catch { /* signal not supported on this OS */ }
    }
    await server.closed;
    await monitoring.close();
  } finally {
    clearInterval(purgeTimer);
    security?.close();
    await reputation.close();
    await audit.close();
    await database.close();
  }
}

function keygen(args: string[]): void {
  const { values } = parseArgs({ args, options: { id: { type: "string" } } });
  const key = toHex(crypto.getRandomValues(new Uint8Array(32)));
  console.log(values.id !== undefined ? `${values.id}=${key}` : `PSK_SECRET=${key}`);
}

async function migrateCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: "string" } } });
  const config = await buildConfig(values);
  const log = makeLogger(config);
  // Whatever MIGRATE_ON_START says: migrating is what this command is for.
  const opened = await openDatabase(
    { ...config, database: { ...config.database, migrateOnStart: true } },
    { logger: log },
  );
  try {
    const r = opened.migrations!;
    console.log(
      r.applied.length === 0
        ? `Database schema is up to date (version ${r.current}).`
        : `Applied ${r.applied.map((m) => `${m.version} ${m.name}`).join(", ")}; ` +
          `schema is now at version ${r.current}.`,
    );
  } finally {
    await opened.close();
  }
}

/** HMAC_SECRET_KEY, else the key file in the data directory (created only if `create`). */
async function auditKey(config: AppConfig, create: boolean): Promise<Uint8Array> {
  const configured = config.security.hmacSecretKey;
  if (configured) return configured;
  if (!create) {
    try {
      await Deno.lstat(`${config.server.dataDir}/hmac_key`);
    } catch {
      throw new ConfigError(
        "CONFIG_INVALID",
        `No audit key: set HMAC_SECRET_KEY or run from the data directory the server used (${config.server.dataDir})`,
      );
    }
  }
  return (await ensureDefaultHmacKey(config.server.dataDir)).key;
}

/** `audit verify` checks the chain (exit 1 at the first broken link); `audit purge` applies retention. */
async function auditCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "verify" && action !== "purge") {
    console.error(`Unknown audit action "${action ?? ""}".\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { config: { type: "string" } } });
  const config = await buildConfig(values);
  const log = makeLogger(config);
  const key = await auditKey(config, false);
  const opened = await openDatabase(config, { logger: log });
  const audit = new AuditLog(opened.db, { key, logger: log });
  try {
    if (action === "purge") {
      const r = await audit.purgeOlderThan(config.security.auditRetentionDays);
      console.log(
        r.refused
          ? `Purge refused: the records to delete do not verify (first broken: ${r.refused.firstBrokenSeq}).`
          : `Deleted ${r.deleted} audit records older than ${config.security.auditRetentionDays} days.`,
      );
      return r.refused ? 1 : 0;
    }
    const r = await audit.verify();
    if (r.ok) {
      console.log(
        `Audit log verified: ${r.checked} records` +
          (r.lastSeq !== undefined
            ? `, seq ${r.firstSeq}–${r.lastSeq}, head MAC ${r.lastMacHex}`
            : "") +
          ".",
      );
      return 0;
    }
    console.log(
      `Audit log BROKEN at seq ${r.firstBrokenSeq} (${r.reason}) after ${r.checked} good records.`,
    );
    return 1;
  } finally {
    await audit.close();
    await opened.close();
  }
}

async function main(): Promise<number> {
  const [command, ...rest] = Deno.args;
  try {
    switch (command) {
      case "serve":
        await serve(rest);
        return 0;
      case "client":
        return await runClientCommand(rest, {
          env: Deno.env.toObject(),
          readFile: (p) => Deno.readTextFile(p),
          print: (s) => console.log(s),
          backend: selectCryptoBackend("auto"),
          parseKey: fromHex,
        });
      case "keygen":
        keygen(rest);
        return 0;
      case "migrate":
        await migrateCommand(rest);
        return 0;
      case "audit":
        return await auditCommand(rest);
      case undefined:
      case "help":
      case "--help":
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`Unknown command "${command}".\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // One clear line; SomnyError messages never contain secrets.
    if (e instanceof SomnyError) console.error(`error [${e.code}]: ${e.message}`);
    else if (
      e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      console.error(`error: ${e.message}\n${USAGE}`);
    } else console.error(`error: ${(e as Error)?.message ?? e}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
