/**
 * Events the database safety layer reports to the reputation and audit
 * layers. Sinks are called synchronously; an exception thrown by a sink is
 * swallowed so that reporting can never change whether a query runs.
 */

import type { Finding } from "./finding.ts";

/** What happened. */
export type DbSecurityEventKind =
  /** Raw SQL rejected as injection, or a parameter value that looks like a payload. */
  | "SQLInjectionAttempt"
  /** A caller exceeded its database requests per minute (once per window per caller). */
  | "ORMQueryFlood";

/** One report to the reputation layer. */
export interface DbSecurityEvent {
  /** What happened. */
  readonly kind: DbSecurityEventKind;
  /** The caller identity passed to the guard (client IP, session id …). */
  readonly caller: string;
  /** A one-line description without the query text. */
  readonly detail: string;
  /** SQLInjectionAttempt: the findings behind the report, strongest first. */
  readonly findings?: readonly Finding[];
  /** Wall-clock time of the event (`Clock.now()`), ms since the Unix epoch. */
  readonly atMs: number;
  /**
   * SQLInjectionAttempt: true when the query was refused, false when it was
   * only reported (suspicious parameter values, or protection disabled).
   */
  readonly rejected?: boolean;
}

/** Receives {@linkcode DbSecurityEvent}s. */
export type DbSecurityEventSink = (event: DbSecurityEvent) => void;

/** Call `sink` if set, ignoring anything it throws. */
export function emitEvent(sink: DbSecurityEventSink | undefined, event: DbSecurityEvent): void {
  if (!sink) return;
  try {
    sink(event);
  } catch {
    // A broken sink must not turn reporting into a query failure.
  }
}
