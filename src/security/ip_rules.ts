/**
 * IP addresses and CIDR ranges (IPv4 and IPv6), compiled once and matched
 * without allocation per lookup beyond parsing the address.
 */

/** A parsed address: family and 128-bit value (IPv4 in the low 32 bits). */
export interface ParsedIp {
  readonly v6: boolean;
  readonly value: bigint;
}

/** Parse an IPv4 or IPv6 address; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4. */
export function parseIp(text: string): ParsedIp | undefined {
  let s = text.trim();
  if (s.startsWith("[") !== s.endsWith("]")) return undefined;
  if (s.startsWith("[")) s = s.slice(1, -1);
  const zone = s.indexOf("%"); // zone ids (fe80::1%eth0) exist only for IPv6
  if (zone >= 0) {
    if (!s.includes(":") || zone === s.length - 1) return undefined;
    s = s.slice(0, zone);
  }
  if (text.trim().startsWith("[") && !s.includes(":")) return undefined;
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, value: v4 };
  if (!s.includes(":")) return undefined;
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffff_ffffn };
  return { v6: true, value: v6 };
}

function parseV4(s: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255 || (m[i].length > 1 && m[i][0] === "0")) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  // A dotted IPv4 part may only end the whole address.
  const parseGroups = (part: string, v4Tail: boolean): bigint[] | undefined => {
    if (part === "") return [];
    const out: bigint[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (v4Tail && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseV4(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(BigInt(parseInt(g, 16)));
      } else return undefined;
    }
    return out;
  };
  const head = parseGroups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1], true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill(0n), ...tail];
  let v = 0n;
  for (const g of all) v = (v << 16n) | g;
  return v;
}

/** A CIDR range. */
export interface CidrRange {
  readonly v6: boolean;
  readonly base: bigint;
  readonly prefix: number;
  readonly text: string;
}

/** Parse `addr` or `addr/prefix`; undefined when invalid. */
export function parseCidr(text: string): CidrRange | undefined {
  const [addr, p, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = ip.v6 ? 128 : 32;
  let prefix = p === undefined ? bits : Number(p);
  // An IPv4-mapped range (::ffff:0:0/96) is the IPv4 range with 96 fewer bits.
  if (!ip.v6 && addr.includes(":") && p !== undefined) prefix -= 96;
  if (
    !Number.isInteger(prefix) || prefix < 0 || prefix > bits ||
    (p !== undefined && !/^\d+$/.test(p))
  ) {
    return undefined;
  }
  const shift = BigInt(bits - prefix);
  return { v6: ip.v6, base: (ip.value >> shift) << shift, prefix, text: text.trim() };
}

/** A compiled list of CIDR ranges. */
export class IpRules {
  readonly #ranges: CidrRange[];

  /**
   * @param entries addresses or CIDRs
   * @throws {RangeError} naming the first invalid entry
   */
  constructor(entries: readonly string[]) {
    this.#ranges = entries.filter((e) => e.trim() !== "").map((e) => {
      const r = parseCidr(e);
      if (!r) throw new RangeError(`Invalid IP address or CIDR: ${e}`);
      return r;
    });
  }

  /** Number of ranges. */
  get size(): number {
    return this.#ranges.length;
  }

  /** True if `address` falls in any range. */
  matches(address: string): boolean {
    if (this.#ranges.length === 0) return false;
    const ip = parseIp(address);
    if (!ip) return false;
    const bits = ip.v6 ? 128 : 32;
    for (const r of this.#ranges) {
      if (r.v6 !== ip.v6) continue;
      const shift = BigInt(bits - r.prefix);
      if ((ip.value >> shift) << shift === r.base) return true;
    }
    return false;
  }
}

/**
 * The key an address is tracked under: the address itself for IPv4, its /64
 * for IPv6 (one host usually owns a whole /64).
 */
export function trackingKey(address: string): string {
  const ip = parseIp(address);
  if (!ip) return address;
  if (!ip.v6) {
    // Normalized, so "::ffff:1.2.3.4" and "1.2.3.4" share one budget.
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  return `${(ip.value >> 64n).toString(16)}::/64`;
}
