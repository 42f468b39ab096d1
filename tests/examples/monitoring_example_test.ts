/** Runs examples/monitoring.ts as a reader would and checks what it prints. */
import assert from "node:assert/strict";

const EXAMPLE = new URL("../../examples/monitoring.ts", import.meta.url);

Deno.test("examples/monitoring.ts: a custom check turns readiness to warn, custom and built-in metrics count", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EXAMPLE.href],
    cwd: new URL("../../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(out, /^reversed: gnirotinom$/m);
  assert.match(out, /^ready while the backlog is small: pass$/m);
  assert.match(out, /^ready with a backlog of 42: warn$/m);
  assert.match(out, /^metric: example_reversed_bytes_total 15$/m);
  assert.match(out, /^metric: somnytoo_request_duration_seconds_count\{type="reverse"\} 3$/m);
});
