// Canonical text for addresses and ranges (RFC 5952 for IPv6), so one range
// has one spelling in the rules table, and tracking keys map back to an address.

import { SecurityError } from "../../errors.ts";
import { type CidrRange, parseCidr, parseIp, trackingKey } from "../ip_rules.ts";

/** RFC 5952 text of an address (`v6` false: the low 32 bits as IPv4). */
export function formatIp(v6: boolean, value: bigint): string {
  if (!v6) {
    const v = Number(value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // The longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

/** Normalised CIDR text (`10.0.0.0/8`, `2001:db8::/32`), or undefined when invalid. */
export function normaliseCidr(text: string): { cidr: string; range: CidrRange } | undefined {
  const range = parseCidr(text);
  if (!range) return undefined;
  const cidr = `${formatIp(range.v6, range.base)}/${range.prefix}`;
  return { cidr, range: { ...range, text: cidr } };
}

const V6_KEY = /^([0-9a-f]{1,16})::\/64$/;

/**
 * The tracking key of an address, of a tracking key itself (as `list()`
 * returns them, e.g. an IPv6 /64) or of an IPv6 /64 CIDR, and an address
 * inside it (for the
 * allow-list check).
 * @throws {SecurityError} `SECURITY_INVALID_ADDRESS`
 */
export function keyOf(input: string): { key: string; address: string } {
  if (parseIp(input)) return { key: trackingKey(input), address: input.trim() };
  const m = V6_KEY.exec(input.trim());
  if (m) {
    const high = BigInt(`0x${m[1]}`);
    return { key: `${high.toString(16)}::/64`, address: formatIp(true, high << 64n) };
  }
  // An IPv6 /64 in CIDR notation ("2001:db8:1:2::/64") names the same key.
  const r = parseCidr(input);
  if (r?.v6 && r.prefix === 64) {
    const address = formatIp(true, r.base);
    return { key: trackingKey(address), address };
  }
  throw new SecurityError(
    "SECURITY_INVALID_ADDRESS",
    `Invalid IP address or tracking key: ${JSON.stringify(input.slice(0, 100))}`,
  );
}
