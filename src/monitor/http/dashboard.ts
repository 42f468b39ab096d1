/**
 * The monitoring dashboard (issue #6): one self-contained HTML page served
 * at `/dashboard`. It polls `./report` (the `MonitoringReport` JSON, see
 * `../types.ts`) and draws the overall status, every check, the open alerts
 * and four time-series charts (sessions, request rate, latency p50/p99,
 * error rate) derived from successive reports.
 *
 * Self-contained on purpose: no CDN, no web fonts, no images by URL, so it
 * works on an air-gapped host and leaks nothing to third parties. The page
 * carries its own Content-Security-Policy (a `<meta>`) that allows only its
 * own inline script and style, by SHA-256 hash, and `connect-src 'self'`.
 *
 * @module
 */
import { createHash } from "node:crypto";

// Every string that comes from the report is written with textContent or
// setAttribute, never innerHTML: titles and messages are operator-visible
// and may contain anything.
/** Points kept per chart (one per report). */
const MAX_POINTS = 60;
/** The charts' SVG viewBox, and the headroom above the highest grid line. */
const CHART_W = 300;
const CHART_H = 90;
const CHART_PAD_TOP = 12;

const STYLE = String.raw`
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #1d2330; --muted: #5f6b7a;
  --card: #fff; --line: #d9dee5; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e;
  --s1: #0969da; --s2: #8250df; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --card: #161b22; --line: #30363d;
    --ok: #3fb950; --warn: #d29922; --bad: #f85149; --s1: #58a6ff; --s2: #bc8cff; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center;
  padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 1.15rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
h3 { font-size: .85rem; margin: 0; font-weight: 600; }
main { padding: 1rem 1.25rem; display: grid; gap: 1rem; max-width: 1200px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
.meta { color: var(--muted); font-size: .85rem; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: 999px; font-weight: 600;
  border: 1px solid currentColor; text-transform: uppercase; font-size: .8rem; letter-spacing: .03em; }
.healthy { color: var(--ok); } .degraded { color: var(--warn); } .unhealthy { color: var(--bad); }
.unknown { color: var(--muted); }
.lvl-info { color: var(--s1); } .lvl-warning { color: var(--warn); }
.lvl-error, .lvl-critical { color: var(--bad); } .lvl-critical { font-weight: 700; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .8rem; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty td { color: var(--muted); font-style: italic; }
#banner { background: var(--bad); color: #fff; padding: .6rem 1.25rem; font-weight: 600; }
#banner[hidden] { display: none; }
.charts { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); }
figure { margin: 0; }
figcaption { display: flex; justify-content: space-between; align-items: baseline; gap: .5rem; }
.value { font-variant-numeric: tabular-nums; font-size: .85rem; }
svg { display: block; width: 100%; height: 90px; margin-top: .25rem; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .series { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg .s0 { stroke: var(--s1); } svg .s1 { stroke: var(--s2); }
svg text { fill: var(--muted); font-size: 9px; }
.legend0 { color: var(--s1); } .legend1 { color: var(--s2); }
`;

const SCRIPT = String.raw`
"use strict";
(function () {
  var MAX_POINTS = ${MAX_POINTS};
  var params = new URLSearchParams(location.search);
  var intervalMs = Number(params.get("interval"));
  if (!isFinite(intervalMs) || intervalMs <= 0) intervalMs = 2000;
  intervalMs = Math.min(Math.max(intervalMs, 100), 3600000);

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function str(v) { return typeof v === "string" ? v : (v === undefined || v === null ? "" : String(v)); }
  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }
  function statusClass(s) {
    return s === "healthy" || s === "degraded" || s === "unhealthy" ? s : "unknown";
  }
  function fmt(v, digits) {
    if (v === null) return "–";
    var a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
    return v.toFixed(a >= 100 || Number.isInteger(v) ? 0 : digits);
  }
  function fmtUnit(v, unit) { return v === null ? "–" : fmt(v, 2) + unit; }
  function fmtAge(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s ago";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m ago";
    return Math.floor(s / 86400) + "d ago";
  }
  function fmtUptime(sec) {
    if (sec === null) return "–";
    var s = Math.floor(sec);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }
  function iso(ms) {
    var n = num(ms);
    return n === null ? "" : new Date(n).toISOString();
  }

  // ---- charts: the <figure>s are in the markup (parsed as SVG there) ----
  var W = ${CHART_W}, H = ${CHART_H}, PAD_TOP = ${CHART_PAD_TOP};
  function Chart(id, unit, seriesNames) {
    this.unit = unit;
    this.names = seriesNames;
    this.points = [];
    this.fig = $(id);
    this.value = this.fig.querySelector(".value");
    this.maxLabel = this.fig.querySelector("text");
    this.paths = Array.prototype.slice.call(this.fig.querySelectorAll("path.series"));
  }
  Chart.prototype.push = function (values) {
    this.points.push(values);
    if (this.points.length > MAX_POINTS) this.points.shift();
    this.draw();
  };
  Chart.prototype.draw = function () {
    var pts = this.points, max = 0;
    pts.forEach(function (vs) { vs.forEach(function (v) { if (v !== null && v > max) max = v; }); });
    var top = max > 0 ? max * 1.1 : 1;
    var step = W / (MAX_POINTS - 1);
    var x0 = W - (pts.length - 1) * step;
    var self = this;
    this.paths.forEach(function (path, si) {
      var d = "", pen = false;
      pts.forEach(function (vs, i) {
        var v = vs[si];
        if (v === null) { pen = false; return; }
        var x = (x0 + i * step).toFixed(1);
        var y = (H - 1 - (H - 1 - PAD_TOP) * (v / top)).toFixed(1);
        d += (pen ? "L" : "M") + x + " " + y + " ";
        pen = true;
      });
      // A lone point still shows up as a short tick.
      if (pts.length === 1 && d) d += "l-2 0";
      path.setAttribute("d", d.trim());
    });
    this.maxLabel.textContent = "max " + fmtUnit(max, this.unit);
    this.fig.setAttribute("data-points", String(pts.length));
    var last = pts[pts.length - 1] || [];
    this.value.replaceChildren();
    this.names.forEach(function (name, i) {
      if (i) self.value.appendChild(document.createTextNode(" · "));
      var s = el("span", self.names.length > 1 ? "legend" + i : null,
        (name ? name + " " : "") + fmtUnit(last[i] === undefined ? null : last[i], self.unit));
      self.value.appendChild(s);
    });
  };

  var charts = {
    sessions: new Chart("chart-sessions", "", [""]),
    requests: new Chart("chart-requests", "/s", [""]),
    latency: new Chart("chart-latency", " ms", ["p50", "p99"]),
    errors: new Chart("chart-errors", "/s", [""]),
  };

  // ---- report rendering ----
  function renderChecks(checks) {
    var body = $("checks-body");
    body.replaceChildren();
    if (!checks.length) {
      var tr = el("tr", "empty");
      var td = el("td", null, "No checks registered");
      td.colSpan = 4;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    checks.forEach(function (c) {
      c = c || {};
      var tr = el("tr");
      tr.setAttribute("data-check", str(c.name));
      tr.appendChild(el("th", null, str(c.name))).scope = "row";
      var st = el("td", "status " + statusClass(c.status), str(c.status) || "unknown");
      tr.appendChild(st);
      var lat = num(c.latencyMs);
      tr.appendChild(el("td", "num", lat === null ? "–" : lat.toFixed(lat < 10 ? 1 : 0) + " ms"));
      tr.appendChild(el("td", null, str(c.message)));
      body.appendChild(tr);
    });
  }
  function renderAlerts(open, nowMs) {
    var body = $("alerts-body");
    body.replaceChildren();
    $("alerts-count").textContent = String(open.length);
    if (!open.length) {
      var tr = el("tr", "empty");
      var td = el("td", null, "No open alerts");
      td.colSpan = 4;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    open.forEach(function (a) {
      a = a || {};
      var tr = el("tr");
      tr.setAttribute("data-alert", str(a.id));
      tr.appendChild(el("td", "lvl-" + (/^(info|warning|error|critical)$/.test(a.level) ? a.level : "info"), str(a.level)));
      var t = el("td");
      t.appendChild(el("div", "alert-title", str(a.title)));
      if (a.message) t.appendChild(el("div", "meta", str(a.message)));
      tr.appendChild(t);
      var since = el("td");
      var raised = num(a.raisedAtMs);
      var time = el("time", null, raised === null ? "–" : fmtAge(nowMs - raised));
      if (raised !== null) { time.dateTime = iso(raised); time.title = iso(raised); }
      since.appendChild(time);
      tr.appendChild(since);
      tr.appendChild(el("td", "num", num(a.occurrences) === null ? "–" : String(a.occurrences)));
      body.appendChild(tr);
    });
  }

  var prev = null;
  function rate(cur, before, dtSec) {
    if (cur === null || before === null || dtSec <= 0 || cur < before) return null; // restart: skip
    return (cur - before) / dtSec;
  }
  function render(r) {
    var health = r.health || {};
    var status = statusClass(health.status);
    var badge = $("status");
    badge.className = "badge " + status;
    badge.textContent = str(health.status) || "unknown";
    var checks = Array.isArray(health.checks) ? health.checks : [];
    var alerts = r.alerts && Array.isArray(r.alerts.open) ? r.alerts.open : [];
    var atMs = num(r.atMs) !== null ? r.atMs : Date.now();
    renderChecks(checks);
    renderAlerts(alerts, atMs);
    $("version").textContent = str(r.version) || "–";
    $("uptime").textContent = fmtUptime(num(r.uptimeSeconds));
    var upd = $("updated");
    upd.textContent = new Date(atMs).toLocaleTimeString();
    upd.dateTime = iso(atMs);

    var m = r.metrics || {};
    var lat = m.latencyMs || {};
    var cur = { atMs: atMs, requests: num(m.requests), errors: num(m.errors) };
    charts.sessions.push([num(m.sessions)]);
    charts.latency.push([num(lat.p50), num(lat.p99)]);
    if (prev && atMs > prev.atMs) {
      var dt = (atMs - prev.atMs) / 1000;
      charts.requests.push([rate(cur.requests, prev.requests, dt)]);
      charts.errors.push([rate(cur.errors, prev.errors, dt)]);
    }
    if (!prev || atMs > prev.atMs) prev = cur;
  }

  // ---- polling: one request at a time, next one after the previous settles ----
  var failing = false;
  function setError(msg) {
    var b = $("banner");
    if (msg) {
      b.textContent = "Cannot load the report: " + msg + ". Retrying every " +
        (intervalMs / 1000) + " s; the figures below are stale.";
      b.hidden = false;
      failing = true;
    } else if (failing) {
      b.hidden = true;
      b.textContent = "";
      failing = false;
    }
    document.body.setAttribute("data-state", msg ? "error" : "ok");
  }
  function poll() {
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, Math.max(intervalMs * 2, 5000));
    fetch("./report", { headers: { accept: "application/json" }, cache: "no-store", signal: ctl.signal })
      .then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (r) {
        if (!r || typeof r !== "object") throw new Error("not a report");
        render(r);
        setError(null);
      })
      .catch(function (e) {
        setError(e && e.name === "AbortError" ? "timed out" : str(e && e.message) || "network error");
      })
      .then(function () {
        clearTimeout(timer);
        setTimeout(poll, intervalMs);
      });
  }
  $("interval").textContent = String(intervalMs / 1000) + " s";
  poll();
})();
`;

/** One chart's markup; the script fills in the paths, the value and the max label. */
function chartFigure(id: string, title: string, series: number): string {
  const grid = [0, 0.5, 1].map((f) => {
    const y = (CHART_H - 1 - (CHART_H - 1 - CHART_PAD_TOP) * f).toFixed(1);
    return `<line class="grid" x1="0" x2="${CHART_W}" y1="${y}" y2="${y}"/>`;
  }).join("");
  const paths = Array.from({ length: series }, (_, i) => `<path class="series s${i}" d=""/>`)
    .join("");
  return `<figure id="${id}" data-points="0">
      <figcaption><h3>${title}</h3><span class="value">–</span></figcaption>
      <svg viewBox="0 0 ${CHART_W} ${CHART_H}" preserveAspectRatio="none" role="img"
        aria-label="${title} over the last ${MAX_POINTS} reports">${grid}<text x="2" y="9"></text>${paths}</svg>
    </figure>`;
}

function sha256Base64(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64");
}

// CSP by hash: the page's own <style> and <script> run, nothing else does;
// data only from the same origin (the relative ./report).
const CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256Base64(SCRIPT)}'`,
  `style-src 'sha256-${sha256Base64(STYLE)}'`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/**
 * The whole `/dashboard` page as one HTML string: inline CSS, inline
 * vanilla JS and inline SVG charts, no external resource of any kind.
 *
 * The page fetches `./report` (relative, so it works behind a path prefix:
 * serve it at `<prefix>/dashboard` next to `<prefix>/report`) every 2 s, or
 * every `?interval=<ms>` (clamped to 100 ms … 1 h). It shows the overall
 * status, a table of checks, the open alerts, four charts over the last 60
 * reports (sessions, Δrequests/Δt, latency p50/p99, Δerrors/Δt), the time
 * of the last update, and a banner while `/report` fails. Report strings are
 * written as text, never parsed as HTML.
 *
 * It carries a `<meta>` Content-Security-Policy allowing only its own
 * script and style (by SHA-256) and `connect-src 'self'`; a stricter CSP
 * header without those hashes would stop it from running.
 *
 * @example Serve it
 * ```ts
 * import { DASHBOARD_HTML } from "./dashboard.ts";
 *
 * const res = new Response(DASHBOARD_HTML, {
 *   headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" },
 * });
 * console.log(res.headers.get("content-type")); // "text/html; charset=utf-8"
 * ```
 */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>SomnyToo monitor</title>
<style>${STYLE}</style>
</head>
<body data-state="loading">
<header>
  <h1>SomnyToo monitor</h1>
  <div role="status" aria-live="polite" aria-atomic="true">Status:
    <span id="status" class="badge unknown">loading</span></div>
  <div class="meta">Version <span id="version">–</span> · up <span id="uptime">–</span>
    · updated <time id="updated">never</time> · every <span id="interval">–</span></div>
</header>
<div id="banner" role="alert" hidden></div>
<main>
  <section aria-labelledby="checks-h">
    <h2 id="checks-h">Health checks</h2>
    <table>
      <thead><tr><th scope="col">Check</th><th scope="col">Status</th>
        <th scope="col">Latency</th><th scope="col">Message</th></tr></thead>
      <tbody id="checks-body" aria-live="polite"></tbody>
    </table>
  </section>
  <section aria-labelledby="alerts-h">
    <h2 id="alerts-h">Open alerts (<span id="alerts-count">0</span>)</h2>
    <table>
      <thead><tr><th scope="col">Level</th><th scope="col">Alert</th>
        <th scope="col">Since</th><th scope="col">Occurrences</th></tr></thead>
      <tbody id="alerts-body"></tbody>
    </table>
  </section>
  <section aria-labelledby="charts-h">
    <h2 id="charts-h">Traffic</h2>
    <div id="charts" class="charts">
    ${chartFigure("chart-sessions", "Sessions", 1)}
    ${chartFigure("chart-requests", "Request rate", 1)}
    ${chartFigure("chart-latency", "Latency", 2)}
    ${chartFigure("chart-errors", "Error rate", 1)}
    </div>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
