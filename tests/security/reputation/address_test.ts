/** Canonical addresses and ranges for the rules table, and tracking keys. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { SecurityError } from "../../../src/errors.ts";
import { parseIp, trackingKey } from "../../../src/security/ip_rules.ts";
import { formatIp, keyOf, normaliseCidr } from "../../../src/security/reputation/_address.ts";

Deno.test("normaliseCidr writes one spelling per range (RFC 5952, host bits cleared)", () => {
  const cases: [string, string][] = [
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["2001:DB8:0:0:0:0:0:0/32", "2001:db8::/32"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1/128"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["2001:db8:1:2:3:4:5:6/64", "2001:db8:1:2::/64"],
  ];
  for (const [input, want] of cases) assert.equal(normaliseCidr(input)?.cidr, want, input);
  for (const bad of ["10.0.0.0/33", "2001:db8::/129", "nope", "10.0.0.0/8/8", "", "1.2.3.4/-1"]) {
    assert.equal(normaliseCidr(bad), undefined, bad);
  }
});

Deno.test("formatIp round-trips through parseIp for every IPv6 value (property)", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      // IPv4-mapped values parse back as IPv4 by design; skip them.
      fc.pre(v >> 32n !== 0xffffn);
      const p = parseIp(formatIp(true, v));
      assert.deepEqual(p, { v6: true, value: v });
    }),
  );
});

Deno.test("keyOf accepts addresses, tracking keys and IPv6 /64 CIDRs, and refuses the rest", () => {
  assert.equal(keyOf("192.0.2.7").key, "192.0.2.7");
  assert.equal(keyOf("::ffff:192.0.2.7").key, "192.0.2.7");
  const k = trackingKey("2001:db8:1:2::99");
  assert.equal(keyOf("2001:db8:1:2::1").key, k);
  assert.equal(keyOf(k).key, k);
  assert.equal(keyOf("2001:db8:1:2::/64").key, k);
  assert.equal(keyOf(k).address, "2001:db8:1:2::");
  for (const bad of ["not-an-ip", "10.0.0.0/8", "2001:db8::/48", ""]) {
    assert.throws(
      () => keyOf(bad),
      (e) => e instanceof SecurityError && e.code === "SECURITY_INVALID_ADDRESS",
      bad,
    );
  }
});
