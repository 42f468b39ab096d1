/**
 * Handshake patterns as data (Noise rev 34 §7.4 fundamental, §7.5 one-way,
 * §18 deferred) and the `pskN` modifier (§9.2). Only 25519/AESGCM/SHA256 is
 * implemented, which is all protocol v1 needs; the pattern table is complete
 * so the machinery is proved against the whole cacophony vector file.
 */

/** A message token (Noise §7.1). */
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

/** A parsed handshake pattern. */
export interface HandshakePattern {
  readonly name: string;
  /** Pre-message tokens known by the responder about the initiator (`-> s`). */
  readonly initiatorPre: readonly ("e" | "s")[];
  /** Pre-message tokens known by the initiator about the responder (`<- s`). */
  readonly responderPre: readonly ("e" | "s")[];
  /** Messages, alternating initiator → responder first. */
  readonly messages: readonly (readonly Token[])[];
  /** True when a psk modifier is present (affects the `e` token, §9.3). */
  readonly hasPsk: boolean;
}

// name: [initiator pre, responder pre, messages…], messages as "tok,tok|tok".
const BASE: Record<string, string> = {
  N: "|s|e,es",
  K: "s|s|e,es,ss",
  X: "|s|e,es,s,ss",
  NN: "||e|e,ee",
  NK: "|s|e,es|e,ee",
  NX: "||e|e,ee,s,es",
  KN: "s||e|e,ee,se",
  KK: "s|s|e,es,ss|e,ee,se",
  KX: "s||e|e,ee,se,s,es",
  XN: "||e|e,ee|s,se",
  XK: "|s|e,es|e,ee|s,se",
  XX: "||e|e,ee,s,es|s,se",
  IN: "||e,s|e,ee,se",
  IK: "|s|e,es,s,ss|e,ee,se",
  IX: "||e,s|e,ee,se,s,es",
  NK1: "|s|e|e,ee,es",
  NX1: "||e|e,ee,s|es",
  X1N: "||e|e,ee|s|se",
  X1K: "|s|e,es|e,ee|s|se",
  XK1: "|s|e|e,ee,es|s,se",
  X1K1: "|s|e|e,ee,es|s|se",
  X1X: "||e|e,ee,s,es|s|se",
  XX1: "||e|e,ee,s|es,s,se",
  X1X1: "||e|e,ee,s|es,s|se",
  K1N: "s||e|e,ee|se",
  K1K: "s|s|e,es|e,ee|se",
  KK1: "s|s|e|e,ee,se,es",
  K1K1: "s|s|e|e,ee,es|se",
  K1X: "s||e|e,ee,s,es|se",
  KX1: "s||e|e,ee,se,s|es",
  K1X1: "s||e|e,ee,s|se,es",
  I1N: "||e,s|e,ee|se",
  I1K: "|s|e,es,s|e,ee|se",
  IK1: "|s|e,s|e,ee,se,es",
  I1K1: "|s|e,s|e,ee,es|se",
  I1X: "||e,s|e,ee,s,es|se",
  IX1: "||e,s|e,ee,se,s|es",
  I1X1: "||e,s|e,ee,s|se,es",
};

/** One-way patterns: every message goes initiator → responder (§7.5). */
export function isOneWay(pattern: HandshakePattern): boolean {
  return pattern.name === "N" || pattern.name === "K" || pattern.name === "X" ||
    /^[NKX]psk/.test(pattern.name);
}

function tokens(s: string): Token[] {
  return s === "" ? [] : (s.split(",") as Token[]);
}

/**
 * Parse a pattern name with optional modifiers, e.g. `"NNpsk0"`, `"XXpsk3"`,
 * `"NNpsk0+psk2"`.
 * @throws {RangeError} for an unknown pattern or modifier.
 */
export function parsePattern(name: string): HandshakePattern {
  const m = /^([NKXI]1?[NKX]?1?)((?:psk\d)(?:\+psk\d)*)?$/.exec(name);
  const base = m ? BASE[m[1]] : undefined;
  if (!m || base === undefined) throw new RangeError(`Unknown handshake pattern: ${name}`);
  const [ipre, rpre, ...msgs] = base.split("|");
  const messages = msgs.map(tokens);
  const mods = m[2] ? m[2].split("+") : [];
  for (const mod of mods) {
    const n = Number(mod.slice(3));
    if (n === 0) messages[0].unshift("psk");
    else if (n <= messages.length) messages[n - 1].push("psk");
    else throw new RangeError(`Modifier ${mod} does not fit pattern ${m[1]}`);
  }
  return {
    name,
    initiatorPre: tokens(ipre) as ("e" | "s")[],
    responderPre: tokens(rpre) as ("e" | "s")[],
    messages,
    hasPsk: mods.length > 0,
  };
}

/** Split `Noise_NNpsk0_25519_AESGCM_SHA256` into its parts. */
export function parseProtocolName(
  protocolName: string,
): { pattern: HandshakePattern; dh: string; cipher: string; hash: string } {
  const parts = protocolName.split("_");
  if (parts.length !== 5 || parts[0] !== "Noise") {
    throw new RangeError(`Invalid Noise protocol name: ${protocolName}`);
  }
  const [, p, dh, cipher, hash] = parts;
  if (dh !== "25519" || cipher !== "AESGCM" || hash !== "SHA256") {
    throw new RangeError(`Unsupported Noise suite: ${dh}_${cipher}_${hash}`);
  }
  return { pattern: parsePattern(p), dh, cipher, hash };
}
