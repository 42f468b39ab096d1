/**
 * What the admin routes of the HTTP sub-app act on ({@linkcode AdminBackend}),
 * declared here so `src/monitor/` never imports the server or the security
 * layer: the real objects satisfy the small structural interfaces below, and
 * {@linkcode createAdminBackend} composes them.
 *
 * @module
 */

import type { Alert } from "../types.ts";

/** The actor recorded in the audit log for every action taken through the admin API. */
export const ADMIN_ACTOR = "admin-api";

/** One established session as the admin API lists it. */
export interface AdminSession {
  /** Hex session id. */
  readonly id: string;
  /** Peer address. */
  readonly remoteAddr: string;
  /** The psk id the peer authenticated with (an identifier, not key material). */
  readonly pskId: string;
  /** "open", "draining", … */
  readonly state: string;
  /** Requests being handled. */
  readonly inFlight: number;
}

/** How to ban an address by hand. */
export interface AdminBanOptions {
  /** Never expires. @default false */
  readonly permanent?: boolean;
  /** Length of a temporary ban. @default the security layer's (1 h) */
  readonly durationMs?: number;
  /** Why (recorded in the audit log). */
  readonly reason: string;
}

/** Which rule list. */
export type AdminRuleList = "allow" | "deny";

/** What an update of the reloadable settings did. */
export interface SettingsUpdateResult {
  /** Setting names applied. */
  readonly applied: readonly string[];
  /** Setting name → why it was not applied (unknown, not reloadable, invalid). */
  readonly rejected: Readonly<Record<string, string>>;
}

/** The runtime-reloadable settings (limits, thresholds, log level): the caller decides which. */
export interface SettingsControl {
  /** The current reloadable settings. */
  view(): unknown;
  /** Apply what can be applied of `patch`. */
  update(
    patch: Readonly<Record<string, unknown>>,
  ): SettingsUpdateResult | Promise<SettingsUpdateResult>;
}

/** The alert book (`AlertManager` fits). */
export interface AlertBook {
  /** Alerts, newest first; `open` true: only open ones, false: only resolved ones. */
  list(options?: { readonly open?: boolean; readonly limit?: number }): readonly Alert[];
  /** Acknowledge one alert; undefined when no alert has that id. */
  acknowledge(id: string, by: string): Alert | undefined;
}

/** Everything the admin routes do. Values returned are redacted again before they are sent. */
export interface AdminBackend {
  /** The configuration, already redacted by the caller (`redactConfig`). */
  config(): unknown;
  /** The reloadable settings now. */
  settings(): unknown;
  /** Apply a patch of reloadable settings. */
  updateSettings(
    patch: Readonly<Record<string, unknown>>,
  ): SettingsUpdateResult | Promise<SettingsUpdateResult>;
  /** Established sessions. */
  sessions(): readonly AdminSession[];
  /** Close one session (GoAway policy); false when no open session has that id. */
  kick(id: string): boolean;
  /** Bans in force. */
  bans(): Promise<readonly unknown[]>;
  /**
   * Ban an address. A result `{ applied: false }` (allow-listed) is answered
   * 409. @throws {SomnyError} `SECURITY_INVALID_ADDRESS`
   */
  ban(ip: string, options: AdminBanOptions, actor: string): Promise<unknown>;
  /** Lift a ban; false when there was none. */
  unban(ip: string, actor: string): Promise<boolean>;
  /** Allow and deny rules. */
  rules(): Promise<readonly unknown[]>;
  /** Add a rule. @throws {SomnyError} `SECURITY_INVALID_ADDRESS` on a bad CIDR */
  addRule(cidr: string, list: AdminRuleList, note: string, actor: string): Promise<unknown>;
  /** Remove a rule; false when there was none. */
  removeRule(cidr: string, actor: string): Promise<boolean>;
  /** Why an address is or is not refused. */
  explain(ip: string): Promise<unknown>;
  /** The alert book. */
  readonly alerts: AlertBook;
  /** Verify the audit log's chain. */
  auditVerify(): Promise<unknown>;
}

/** A session as the server exposes it (`ServerConnection` fits). */
export interface SessionLike {
  /** Hex session id ("" before the handshake). */
  readonly id: string;
  /** Peer address. */
  readonly remoteAddr: string;
  /** The psk id the peer authenticated with. */
  readonly pskId: string;
  /** Connection state. */
  readonly state: string;
  /** Requests being handled. */
  readonly inFlight: number;
}

/** The server's session control (`SomnyServer` fits). */
export interface SessionControl {
  /** Established sessions. */
  sessions(): readonly SessionLike[];
  /** Close one session by id. */
  kick(id: string): boolean;
}

/** The security layer's operator actions (`SecurityLayer` fits). */
export interface SecurityControl {
  /** Ban an address (audited with `actor`). */
  ban(ip: string, options: AdminBanOptions, actor: string): Promise<unknown>;
  /** Lift a ban; false when there was none. */
  unban(ip: string, actor: string): Promise<boolean>;
  /** Add an allow or deny rule. */
  addRule(cidr: string, list: AdminRuleList, note: string, actor: string): Promise<unknown>;
  /** Remove a rule; false when there was none. */
  removeRule(cidr: string, actor: string): Promise<boolean>;
  /** Why an address is or is not refused. */
  explain(ip: string): Promise<unknown>;
}

/** The persisted bans and rules (`ReputationStore` fits). */
export interface ReputationView {
  /** Bans in force. */
  list(): Promise<readonly unknown[]>;
  /** Allow and deny rules. */
  rules(): Promise<readonly unknown[]>;
}

/** The audit log (`AuditLog` fits). */
export interface AuditVerifier {
  /** Verify the whole chain. */
  verify(): Promise<unknown>;
}

/** The parts {@linkcode createAdminBackend} composes; absent parts answer 404. */
export interface AdminParts {
  /** The redacted configuration, or a function returning it (read per request). */
  readonly config: unknown;
  /** Reloadable settings. @default none: the view is `{}` and every change is rejected */
  readonly settings?: SettingsControl;
  /** Sessions (the server). */
  readonly sessions?: SessionControl;
  /** Bans and rules (the security layer). */
  readonly security?: SecurityControl;
  /** Persisted bans and rules to list (the reputation store). */
  readonly reputation?: ReputationView;
  /** Alerts. */
  readonly alerts: AlertBook;
  /** The audit log. */
  readonly audit?: AuditVerifier;
}

/**
 * Thrown by a backend when a part is not configured; the app answers 404
 * with `{ error: message }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AdminUnavailableError } from "./admin_backend.ts";
 * const e = new AdminUnavailableError("audit log");
 * assert.equal(e.message, "audit log not configured");
 * ```
 */
export class AdminUnavailableError extends Error {
  /**
   * Name the missing part.
   *
   * @param what the missing part, e.g. "audit log"
   */
  constructor(what: string) {
    super(`${what} not configured`);
    this.name = "AdminUnavailableError";
  }
}

function need<T>(part: T | undefined, what: string): T {
  if (part === undefined) throw new AdminUnavailableError(what);
  return part;
}

/**
 * Compose an {@linkcode AdminBackend} from the real objects: the server
 * (sessions), the security layer (ban/unban/rules/explain), the reputation
 * store (lists), the alert manager and the audit log.
 *
 * @param parts what to compose; the configuration must already be redacted
 * @returns the backend for `createMonitoringApp({ admin })`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AlertManager } from "../alerts/mod.ts";
 * import { createAdminBackend } from "./admin_backend.ts";
 * const admin = createAdminBackend({ config: { logLevel: "info" }, alerts: new AlertManager() });
 * assert.deepEqual(admin.config(), { logLevel: "info" });
 * assert.deepEqual(admin.sessions(), []);
 * ```
 */
export function createAdminBackend(parts: AdminParts): AdminBackend {
  const { settings, sessions, security, reputation, audit } = parts;
  return {
    config: () => typeof parts.config === "function" ? parts.config() : parts.config,
    settings: () => settings?.view() ?? {},
    updateSettings: (patch) =>
      settings?.update(patch) ?? {
        applied: [],
        rejected: Object.fromEntries(Object.keys(patch).map((k) => [k, "not reloadable"])),
      },
    sessions: () =>
      (sessions?.sessions() ?? []).map((s) => ({
        id: s.id,
        remoteAddr: s.remoteAddr,
        pskId: s.pskId,
        state: s.state,
        inFlight: s.inFlight,
      })),
    kick: (id) => sessions?.kick(id) ?? false,
    bans: async () => reputation ? await reputation.list() : [],
    ban: (ip, options, actor) => need(security, "security layer").ban(ip, options, actor),
    unban: (ip, actor) => need(security, "security layer").unban(ip, actor),
    rules: async () => reputation ? await reputation.rules() : [],
    addRule: (cidr, list, note, actor) =>
      need(security, "security layer").addRule(cidr, list, note, actor),
    removeRule: (cidr, actor) => need(security, "security layer").removeRule(cidr, actor),
    explain: (ip) => need(security, "security layer").explain(ip),
    alerts: parts.alerts,
    auditVerify: () => need(audit, "audit log").verify(),
  };
}
