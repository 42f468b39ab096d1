/**
 * What the security layer adds per frame, in-process: `SecurityLayer.packet`
 * (anomaly detector + AIMD limiter) for one busy address, with the bench's
 * raised thresholds, against the trackingKey parse it saves per frame.
 *
 *     deno run -A bench/experiments/security_packet_cost.ts
 *
 * @module
 */
import { trackingKey } from "../../src/security/mod.ts";
import { SecurityLayer } from "../../src/server/mod.ts";
import { benchSecurityOptions } from "../security_options.ts";

const N = 1_000_000;
const layer = new SecurityLayer(benchSecurityOptions());
let sink = 0;
function time(name: string, f: () => number): void {
  const best: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) sink += f();
    best.push((performance.now() - t0) * 1000 / N);
  }
  console.log(`${name.padEnd(28)} ${Math.min(...best).toFixed(3)} µs per call (best of 5 × ${N})`);
}
time("SecurityLayer.packet (1 KiB)", () => layer.packet("127.0.0.1", "127.0.0.1", 0x20, 1024));
time("trackingKey (for scale)", () => trackingKey("127.0.0.1").length);
console.log(sink > 0 ? "" : "?");
