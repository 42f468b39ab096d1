/**
 * Configuration: the {@linkcode AppConfig} types and defaults, the pure
 * loader with its one precedence chain (defaults ← JSON file ← environment),
 * key parsing, redaction, and the default-PSK store.
 *
 * Imports only `../util/mod.ts` and `../errors.ts`. `main.ts` is the only
 * caller of {@linkcode loadConfig}; everything else receives slices
 * (`config.server`, `config.database`, …).
 *
 * @example How main.ts wires it
 * ```ts ignore
 * import { ensureDefaultPsk, loadConfig, redactConfig } from "./src/config/mod.ts";
 *
 * const file = await Deno.readTextFile("somnytoo.json").then(JSON.parse).catch(() => undefined);
 * const config = loadConfig({ env: Deno.env.toObject(), file, fileName: "somnytoo.json", fileReader: Deno.readFileSync });
 * const psks = config.security.psks.size > 0
 *   ? config.security.psks
 *   : new Map([["", (await ensureDefaultPsk(config.server.dataDir)).psk]]);
 * console.log(JSON.stringify(redactConfig(config)));
 * ```
 *
 * @module
 */

export {
  type AimdConfig,
  type AnomalyWeights,
  type AppConfig,
  type CacheConfig,
  CONFIG_DEFAULTS,
  CONFIG_FIELDS,
  CRYPTO_BACKENDS,
  type CryptoBackendName,
  type DatabaseConfig,
  type FieldSpec,
  type FieldType,
  KeyRing,
  type LogLevel,
  type MonitoringConfig,
  type OrmConfig,
  type ScalingConfig,
  type SecretKind,
  type SecurityConfig,
  type ServerConfig,
} from "./schema.ts";
export {
  ENV_VARS,
  type EnvParser,
  type EnvVarDoc,
  type EnvVarSpec,
  listEnvVars,
  loadConfig,
  type LoadConfigOptions,
  renderEnvDocs,
} from "./load.ts";
export {
  type JsonValue,
  MAX_PSK_ID_BYTES,
  parseHexKey,
  parsePskFile,
  redactConfig,
  type RedactedConfig,
} from "./secrets.ts";
export {
  type DefaultHmacKey,
  type DefaultPsk,
  ensureDefaultHmacKey,
  ensureDefaultPsk,
} from "./psk_store.ts";
