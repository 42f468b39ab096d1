import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { DASHBOARD_HTML } from "../../../src/monitor/http/dashboard.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

Deno.test("DASHBOARD_HTML loads nothing from outside: no http(s) URL, no <script src>, no <link>", () => {
  assert.ok(!/https?:\/\//i.test(DASHBOARD_HTML), "the page contains an absolute URL");
  assert.ok(!/<script[^>]*\ssrc\s*=/i.test(DASHBOARD_HTML), "the page has a <script src>");
  assert.ok(!/<link\b/i.test(DASHBOARD_HTML), "the page has a <link>");
  assert.ok(!/<img\b/i.test(DASHBOARD_HTML), "the page has an <img>");
  assert.ok(!/@import|url\(/i.test(DASHBOARD_HTML), "the CSS loads something");
  assert.ok(!/\binnerHTML\b|insertAdjacentHTML|document\.write/.test(DASHBOARD_HTML));
  assert.match(DASHBOARD_HTML, /fetch\("\.\/report"/);
});

Deno.test("DASHBOARD_HTML's CSP hashes match its inline script and style", async () => {
  const csp = DASHBOARD_HTML.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  assert.ok(csp, "no CSP meta");
  const scripts = [...DASHBOARD_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const styles = [...DASHBOARD_HTML.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
  assert.deepEqual([scripts.length, styles.length], [1, 1]);
  const sha = async (t: string) =>
    btoa(String.fromCharCode(
      ...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t))),
    ));
  assert.ok(csp.includes(`script-src 'sha256-${await sha(scripts[0])}'`), csp);
  assert.ok(csp.includes(`style-src 'sha256-${await sha(styles[0])}'`), csp);
  assert.ok(csp.includes("default-src 'none'") && csp.includes("connect-src 'self'"), csp);
});

async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A report whose numbers grow with `n`; one check degraded, one alert open. */
function makeReport(n: number, atMs: number) {
  return {
    atMs,
    uptimeSeconds: 100 + n,
    version: "0.1.0",
    health: {
      status: "degraded",
      atMs,
      checks: [
        { name: "database", status: "healthy", latencyMs: 1.5, checkedAtMs: atMs },
        {
          name: "event_loop",
          status: "degraded",
          latencyMs: 12,
          checkedAtMs: atMs,
          // Report strings are operator-visible: they must render as text.
          message: "<img src=x onerror=alert(1)> lag 120 ms",
        },
      ],
    },
    alerts: {
      open: [{
        id: "a-1",
        key: "check:event_loop",
        level: "warning",
        title: "Event loop lag <b>high</b>",
        message: "p99 lag above 100 ms",
        raisedAtMs: atMs - 65_000,
        lastSeenAtMs: atMs,
        occurrences: 3 + n,
        resolvedAtMs: null,
        acknowledgedAtMs: null,
        acknowledgedBy: null,
      }],
      recent: [],
    },
    metrics: {
      sessions: 5 + n * 2,
      connections: 5 + n * 2,
      requests: 1000 + n * n * 50,
      errors: n * 3,
      shed: 0,
      latencyMs: { p50: 2 + (n % 5), p99: 20 + (n % 7) * 3 },
      bans: 0,
      rateLimited: 0,
      dbPool: { inUse: 1, idle: 4, waiting: 0 },
      rssBytes: 50_000_000,
    },
    config: { server: { port: 7777, psk: "[redacted]" } },
  };
}

Deno.test({
  name: "the dashboard in headless Chromium shows checks and alerts, updates its charts, " +
    "shows and clears the error banner, and talks only to its own server",
  ignore: !hasChromium,
  async fn() {
    let n = 0;
    let failing = false;
    let reportHits = 0;
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
      (req) => {
        const { pathname } = new URL(req.url);
        if (pathname === "/dashboard") {
          return new Response(DASHBOARD_HTML, {
            headers: { "content-type": "text/html; charset=utf-8" },
          });
        }
        if (pathname === "/report") {
          reportHits++;
          if (failing) return new Response("boom", { status: 500 });
          n++;
          return Response.json(makeReport(n, Date.now()));
        }
        return new Response("not found", { status: 404 });
      },
    );
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const pageErrors: string[] = [];
      const cspViolations: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      page.on("console", (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      });

      await page.goto(`${origin}/dashboard?interval=200`);

      // Checks with their statuses.
      const db = page.locator('tr[data-check="database"]');
      const loop = page.locator('tr[data-check="event_loop"]');
      await db.waitFor();
      assert.deepEqual(await db.locator("th").textContent(), "database");
      assert.deepEqual(await db.locator("td.status").textContent(), "healthy");
      assert.deepEqual(await loop.locator("td.status").textContent(), "degraded");
      assert.ok(await loop.locator("td.status.degraded").count() === 1, "status not colored");
      // The hostile message is shown as text, not parsed.
      assert.deepEqual(
        await loop.locator("td").last().textContent(),
        "<img src=x onerror=alert(1)> lag 120 ms",
      );
      assert.deepEqual(await page.locator("img").count(), 0);
      assert.deepEqual(await page.locator("#status").textContent(), "degraded");

      // The open alert.
      const alert = page.locator('tr[data-alert="a-1"]');
      await alert.waitFor();
      assert.deepEqual(
        await alert.locator(".alert-title").textContent(),
        "Event loop lag <b>high</b>",
      );
      assert.deepEqual(await page.locator("b").count(), 0);
      assert.deepEqual(await alert.locator("td").first().textContent(), "warning");
      assert.match((await alert.locator("time").textContent()) ?? "", /^1m \d+s ago$/);

      // Charts grow and their paths change.
      const points = (id: string) =>
        page.locator(`#${id}`).getAttribute("data-points").then(Number);
      const pathD = (id: string) => page.locator(`#${id} path.series`).first().getAttribute("d");
      // Polled from here: the page's CSP forbids the eval that page.waitForFunction needs.
      const waitPoints = (id: string, min: number) =>
        until(async () => (await points(id)) >= min, `${id} to reach ${min} points`);
      await waitPoints("chart-requests", 2);
      const before = { s: await points("chart-sessions"), d: await pathD("chart-requests") };
      await waitPoints("chart-sessions", before.s + 3);
      const after = { s: await points("chart-sessions"), d: await pathD("chart-requests") };
      assert.ok(after.s >= before.s + 3, `sessions chart did not grow: ${before.s} → ${after.s}`);
      assert.ok(before.d && after.d && before.d !== after.d, "request-rate path did not change");
      assert.match(after.d!, /^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+)+$/);
      // Latency draws both series.
      assert.deepEqual(await page.locator("#chart-latency path.series").count(), 2);
      assert.ok(await page.locator("#chart-latency path.s1").getAttribute("d"), "no p99 line");
      assert.match((await page.locator("#updated").getAttribute("datetime")) ?? "", /^\d{4}-/);

      // /report fails → banner; recovers → banner gone.
      const banner = page.locator("#banner");
      assert.ok(await banner.isHidden(), "banner visible while healthy");
      failing = true;
      await banner.waitFor({ state: "visible", timeout: 5_000 });
      assert.match((await banner.textContent()) ?? "", /HTTP 500/);
      assert.deepEqual(await page.locator("body").getAttribute("data-state"), "error");
      const hitsWhileFailing = reportHits;
      failing = false;
      await banner.waitFor({ state: "hidden", timeout: 5_000 });
      assert.deepEqual(await page.locator("body").getAttribute("data-state"), "ok");
      assert.ok(reportHits > hitsWhileFailing);

      assert.deepEqual(pageErrors, []);
      assert.deepEqual(cspViolations, []);
      const foreign = requests.filter((u) => !u.startsWith(origin + "/"));
      assert.deepEqual(foreign, [], "requests to other hosts");
      assert.ok(requests.some((u) => u === `${origin}/report`), "no request to ./report");
    } finally {
      await browser.close();
      ac.abort();
      await server.finished;
    }
  },
});

if (!hasChromium) {
  console.warn(
    `dashboard_test: ${CHROMIUM} not found, browser test skipped (apt-get install -y chromium)`,
  );
}
