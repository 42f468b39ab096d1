/**
 * The live /metrics text against Prometheus' own tools (Debian package
 * `prometheus`): `promtool check metrics` reports nothing, and a real
 * Prometheus server scrapes the endpoint with the target up. Each test is
 * skipped, with a line saying why, when its binary is absent.
 */

import assert from "node:assert/strict";
import { populatedMetrics } from "./_populate.ts";

const PROMTOOL = "/usr/bin/promtool";
const PROMETHEUS = "/usr/bin/prometheus";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const hasPromtool = exists(PROMTOOL);
const hasPrometheus = exists(PROMETHEUS);
if (!hasPromtool) {
  console.log(`promtool test skipped: ${PROMTOOL} not found (apt-get install prometheus)`);
}
if (!hasPrometheus) {
  console.log(
    `Prometheus scrape test skipped: ${PROMETHEUS} not found (apt-get install prometheus)`,
  );
}

/** A real HTTP server on 127.0.0.1:0 serving the metrics at /metrics. */
function serveMetrics(): { url: string; port: number; server: Deno.HttpServer } {
  const metrics = populatedMetrics();
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname !== "/metrics") return new Response("not found", { status: 404 });
    // keep the hooks moving between scrapes
    metrics.frame("in", 0x20, 64 + n++);
    metrics.request(0x20, 0.001);
    return new Response(await metrics.metrics(), {
      headers: { "content-type": metrics.contentType },
    });
  });
  const port = server.addr.port;
  return { url: `http://127.0.0.1:${port}/metrics`, port, server };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "promtool check metrics reports nothing for the live /metrics output",
  ignore: !hasPromtool,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { url, server } = serveMetrics();
    try {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      for (
        const name of [
          "somnytoo_connections",
          "somnytoo_sessions",
          "somnytoo_handshakes_total",
          "somnytoo_frames_total",
          "somnytoo_frame_bytes_total",
          "somnytoo_request_duration_seconds",
          "somnytoo_errors_total",
          "somnytoo_requests_shed_total",
          "somnytoo_security_decisions_total",
          "somnytoo_security_active_bans",
          "somnytoo_db_query_duration_seconds",
          "somnytoo_db_cache_hits_total",
          "somnytoo_db_cache_misses_total",
          "somnytoo_db_pool_connections",
          "somnytoo_health_status",
          "somnytoo_process_cpu_seconds_total",
        ]
      ) assert(text.includes(`# TYPE ${name} `), name);
      const child = new Deno.Command(PROMTOOL, {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(text));
      await writer.close();
      const out = await child.output();
      const report = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(report, "");
      assert.equal(out.code, 0);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "a real Prometheus server scrapes /metrics and reports the target up",
  ignore: !hasPrometheus,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { port, server } = serveMetrics();
    const dir = await Deno.makeTempDir({ prefix: "somnytoo_prom_" });
    const promPort = freePort();
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: somnytoo",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${port}"]`,
        "",
      ].join("\n"),
    );
    const prom = new Deno.Command(PROMETHEUS, {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    const logDone = prom.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (s) => void log.push(s) }),
    ).catch(() => {});
    try {
      const deadline = Date.now() + 20_000;
      let target: { health: string; lastError: string; scrapeUrl: string } | undefined;
      while (Date.now() < deadline) {
        try {
          const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`);
          const body = await res.json();
          target = body.data?.activeTargets?.[0];
          if (target?.health === "up") break;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(
        target?.health,
        "up",
        `target not up: ${JSON.stringify(target)}\n${log.join("").slice(-2000)}`,
      );
      assert.equal(target?.scrapeUrl, `http://127.0.0.1:${port}/metrics`);
      assert.equal(target?.lastError, "");
      // and the samples are queryable
      const q = await fetch(
        `http://127.0.0.1:${promPort}/api/v1/query?query=somnytoo_connections`,
      ).then((r) => r.json());
      assert.equal(q.status, "success");
    } finally {
      prom.kill("SIGTERM");
      await prom.status;
      await logDone;
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
