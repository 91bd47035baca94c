// Fledge dashboard: lists Canaries and draws one Canary's releases as SVG, live from server-sent events.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const state = { selected: null, source: null, detail: null };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- list ----
  function renderList(snapshot) {
    $("scope").textContent = snapshot.scope ? "(" + snapshot.scope + ")" : "";
    const feeds = $("feeds");
    feeds.replaceChildren();
    for (const feed of Object.values(snapshot.feeds || {})) {
      if (feed.error) feeds.appendChild(el("p", { class: "feed-error" }, "⚠ " + feed.error));
    }
    const body = $("canaries").tBodies[0];
    body.replaceChildren();
    if (!snapshot.canaries.length) {
      body.appendChild(el("tr", {}, "")).appendChild(el("td", { colspan: "6", class: "muted" }, "No Canaries."));
    }
    for (const c of snapshot.canaries) {
      const key = c.namespace + "/" + c.name;
      const row = el("tr", { "data-canary": key, "aria-selected": String(key === state.selected) });
      row.appendChild(el("td", {}, c.namespace));
      const nameCell = el("td");
      nameCell.appendChild(el("button", { type: "button", class: "name" }, c.name));
      row.appendChild(nameCell);
      row.appendChild(el("td", { class: "phase", "data-phase": c.phase }, c.phase));
      const weight = el("td", { class: "weight" });
      const bar = el("span", { class: "bar", role: "img", "aria-label": c.weight + "% to the canary" });
      bar.style.backgroundSize = c.weight + "% 100%";
      weight.appendChild(bar);
      weight.appendChild(document.createTextNode(c.weight + "%"));
      row.appendChild(weight);
      row.appendChild(el("td", { class: "checks" }, c.failedChecks + " / " + c.threshold));
      const last = el("td", { class: "last-event" }, (c.lastEventType === "Warning" ? "⚠ " : "") + (c.lastEvent || ""));
      row.appendChild(last);
      row.addEventListener("click", () => select(key));
      body.appendChild(row);
    }
  }

  // ---- detail ----
  const SHAPES = {
    "weight": "circle", "iteration": "circle", "check-failed": "cross", "gate": "diamond",
    "hook-passed": "ring", "hook-failed": "triangle", "promoted": "star", "failed": "down", "rolling-back": "down",
    "start": "square", "restart": "square", "promoting": "square", "routing": "square"
  };
  const LEGEND = [["circle", "weight step (checks passed)"], ["cross", "failed check"], ["diamond", "gate waiting"],
    ["ring", "hook passed"], ["triangle", "hook failed"], ["square", "start / promotion step"], ["star", "promoted"],
    ["down", "rolled back"]];

  function marker(shape, x, y, cls, title) {
    const g = svg("g", { class: "point " + cls, "data-shape": shape });
    const r = 5;
    switch (shape) {
      case "cross":
        g.appendChild(svg("path", { d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}` }));
        break;
      case "diamond":
        g.appendChild(svg("path", { d: `M${x},${y - r - 1}L${x + r + 1},${y}L${x},${y + r + 1}L${x - r - 1},${y}Z` }));
        break;
      case "triangle":
        g.appendChild(svg("path", { d: `M${x},${y - r - 1}L${x + r + 1},${y + r}L${x - r - 1},${y + r}Z` }));
        break;
      case "down":
        g.appendChild(svg("path", { d: `M${x},${y + r + 1}L${x + r + 1},${y - r}L${x - r - 1},${y - r}Z` }));
        break;
      case "square":
        g.appendChild(svg("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r }));
        break;
      case "star": {
        let d = "";
        for (let i = 0; i < 10; i++) {
          const radius = i % 2 ? r * 0.5 : r * 1.5;
          const angle = Math.PI / 5 * i - Math.PI / 2;
          d += (i ? "L" : "M") + (x + radius * Math.cos(angle)).toFixed(1) + "," + (y + radius * Math.sin(angle)).toFixed(1);
        }
        g.appendChild(svg("path", { d: d + "Z" }));
        break;
      }
      case "ring":
        g.appendChild(svg("circle", { cx: x, cy: y, r: r }));
        break;
      default:
        g.appendChild(svg("circle", { cx: x, cy: y, r: r - 1 }));
    }
    g.appendChild(svg("title", {}, title));
    return g;
  }

  function legend(entries) {
    const box = el("div", { class: "legend" });
    for (const [shape, text] of entries) {
      const item = el("span");
      const icon = svg("svg", { width: 16, height: 14, viewBox: "0 0 16 14", "aria-hidden": "true", style: "display:inline;vertical-align:middle" });
      icon.appendChild(marker(shape, 8, 7, "k-legend", text));
      item.appendChild(icon);
      item.appendChild(document.createTextNode(" " + text));
      box.appendChild(item);
    }
    return box;
  }

  const W = 760, H = 200, L = 48, R = 16, T = 14, B = 30;
  function xAt(i, n) { return L + (n <= 1 ? 0 : i * (W - L - R) / (n - 1)); }

  function weightChart(release, detail) {
    const steps = release.steps;
    const n = Math.max(steps.length, 2);
    const yAt = (w) => T + (100 - w) * (H - T - B) / 100;
    const chart = svg("svg", { class: "weight-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "Canary traffic weight per step: " + steps.filter((s) => s.kind === "weight").map((s) => s.weight + "%").join(", ") });
    for (const w of [0, 25, 50, 75, 100]) {
      chart.appendChild(svg("line", { class: "grid", x1: L, x2: W - R, y1: yAt(w), y2: yAt(w) }));
      chart.appendChild(svg("text", { class: "label", x: L - 6, y: yAt(w) + 4, "text-anchor": "end" }, w + "%"));
    }
    chart.appendChild(svg("line", { class: "max-line", x1: L, x2: W - R, y1: yAt(detail.maxWeight), y2: yAt(detail.maxWeight) }));
    chart.appendChild(svg("text", { class: "label", x: W - R, y: yAt(detail.maxWeight) - 4, "text-anchor": "end" }, "max weight " + detail.maxWeight + "%"));
    let d = "";
    let previous = 0;
    steps.forEach((s, i) => {
      const x = xAt(i, n);
      d += (i ? `L${x},${yAt(previous)}L` : "M") + `${x},${yAt(s.weight)}`;
      previous = s.weight;
    });
    if (d) chart.appendChild(svg("path", { class: "weight-line", d: d }));
    steps.forEach((s, i) => {
      const shape = SHAPES[s.kind] || "square";
      const x = xAt(i, n);
      const y = yAt(s.weight);
      chart.appendChild(marker(shape, x, y, "k-" + s.kind, (s.time || "") + " " + s.message + (s.count > 1 ? " (×" + s.count + ")" : "")));
      const anchor = x > W - R - 90 ? "end" : x < L + 60 ? "start" : "middle";
      if (s.kind === "check-failed") {
        const reading = s.readings.find((r) => !r.passed);
        const text = reading ? fmt(reading.value, reading.unit) + " " + (reading.comparison || "") + " " + fmt(reading.threshold, reading.unit) : "failed";
        // Alternate above and further above, so neighbouring labels do not overlap.
        chart.appendChild(svg("text", { class: "label bad", x: x, y: y - 9 - (i % 2) * 12, "text-anchor": anchor }, "✕ " + text));
      }
      if (s.kind === "gate") chart.appendChild(svg("text", { class: "label", x: x, y: y + 20, "text-anchor": anchor }, "◇ waiting: " + (s.hook || "")));
    });
    chart.appendChild(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
    chart.appendChild(svg("text", { class: "label", x: (W + L) / 2, y: H - 6, "text-anchor": "middle" }, "step (one per event, in order)"));
    return chart;
  }

  function fmt(value, unit) {
    if (value === null || value === undefined) return "?";
    const rounded = Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2).replace(/\.?0+$/, "");
    return rounded + (unit || "");
  }

  function metricChart(release, check) {
    const steps = release.steps;
    const n = Math.max(steps.length, 2);
    const values = [];
    steps.forEach((s, i) => s.readings.filter((r) => r.metric === check.name).forEach((r) => values.push([i, r])));
    const limits = [check.min, check.max].filter((v) => v !== null && v !== undefined);
    const all = values.map(([, r]) => r.value).concat(limits);
    let lo = Math.min(...all), hi = Math.max(...all);
    if (!all.length) { lo = 0; hi = 1; }
    const pad = Math.max((hi - lo) * 0.15, Math.abs(hi) * 0.02, 0.5);
    lo = Math.max(check.unit === "%" || check.unit === "ms" ? 0 : -Infinity, lo - pad);
    hi = check.unit === "%" ? Math.min(100, hi + pad) : hi + pad;
    const h = 130;
    const yAt = (v) => T + (hi - v) * (h - T - B) / (hi - lo || 1);
    const chart = svg("svg", { class: "metric-chart", "data-metric": check.name, viewBox: `0 0 ${W} ${h}`, role: "img",
      "aria-label": check.name + ": " + values.map(([, r]) => fmt(r.value, r.unit) + (r.passed ? " passed" : " failed")).join(", ") });
    for (const v of [lo, (lo + hi) / 2, hi]) {
      chart.appendChild(svg("line", { class: "grid", x1: L, x2: W - R, y1: yAt(v), y2: yAt(v) }));
      chart.appendChild(svg("text", { class: "label", x: L - 6, y: yAt(v) + 4, "text-anchor": "end" }, fmt(v, check.unit)));
    }
    for (const [limit, word] of [[check.min, "min"], [check.max, "max"]]) {
      if (limit === null || limit === undefined) continue;
      chart.appendChild(svg("line", { class: "threshold", x1: L, x2: W - R, y1: yAt(limit), y2: yAt(limit) }));
      chart.appendChild(svg("text", { class: "label", x: W - R, y: yAt(limit) - 4, "text-anchor": "end" }, "threshold " + word + " " + fmt(limit, check.unit)));
    }
    for (const [i, r] of values) {
      const x = xAt(i, n), y = yAt(r.value);
      chart.appendChild(marker(r.passed ? "circle" : "cross", x, y, r.passed ? "passed" : "k-check-failed",
        check.name + " " + fmt(r.value, r.unit) + (r.passed ? " passed" : " failed")));
      if (!r.passed) chart.appendChild(svg("text", { class: "label bad", x: x + 8, y: y + 4 }, fmt(r.value, r.unit)));
    }
    chart.appendChild(svg("line", { class: "axis", x1: L, x2: W - R, y1: h - B, y2: h - B }));
    return chart;
  }

  const OUTCOME = { "in-progress": "in progress", "promoted": "promoted", "rolled-back": "rolled back",
    "promotion-failed": "promotion failed", "superseded": "superseded by a newer revision", "unknown": "outcome not recorded" };

  function renderDetail(detail) {
    state.detail = detail;
    const section = $("detail");
    if (!detail || detail.missing) {
      section.hidden = !state.selected;
      $("detail-title").textContent = state.selected || "";
      $("detail-summary").textContent = detail && detail.missing ? detail.missing : "";
      $("releases").replaceChildren();
      return;
    }
    section.hidden = false;
    const s = detail.summary;
    $("detail-title").textContent = s.namespace + "/" + s.name;
    const summary = $("detail-summary");
    summary.replaceChildren();
    summary.appendChild(el("span", { class: "phase", "data-phase": s.phase, id: "detail-phase" }, s.phase));
    summary.appendChild(document.createTextNode(" · weight " + s.weight + "% · failed checks " + s.failedChecks + "/" + s.threshold +
      (detail.interval ? " · interval " + detail.interval : "") + (s.message ? " · " + s.message : "")));
    if (detail.pendingAction) summary.appendChild(el("strong", { id: "pending-action" }, " · requested: " + detail.pendingAction + " (the worker acts at its next tick)"));
    const box = $("releases");
    box.replaceChildren();
    if (!detail.releases.length) box.appendChild(el("p", { class: "note" }, "No release in the cluster's events yet (Events expire after an hour)."));
    const releases = detail.releases.slice().reverse();
    releases.forEach((release, index) => {
      const part = el("article", { class: "release", "data-outcome": release.outcome });
      const title = (index === 0 ? (release.outcome === "in-progress" ? "Current release" : "Latest release") : "Earlier release");
      part.appendChild(el("h3", { class: "outcome-" + release.outcome }, title + " — " + (OUTCOME[release.outcome] || release.outcome) +
        (release.reason ? ": " + release.reason : "") + " · peak weight " + release.peakWeight + "% · failed checks " + release.failedChecks));
      part.appendChild(weightChart(release, detail));
      part.appendChild(legend(LEGEND));
      for (const check of detail.checks) {
        part.appendChild(el("h3", {}, "Check " + check.name + (check.min !== null && check.min !== undefined ? " ≥ " + fmt(check.min, check.unit) : "") +
          (check.max !== null && check.max !== undefined ? " ≤ " + fmt(check.max, check.unit) : "") + " (" + check.interval + ")"));
        part.appendChild(metricChart(release, check));
      }
      if (detail.hooks.length) part.appendChild(el("p", { class: "note" }, "Hooks and gates: " + detail.hooks.join(", ")));
      part.appendChild(el("p", { class: "note" }, "Measured values: " + detail.measurements));
      const list = el("ol", { class: "steps" });
      for (const step of release.steps) {
        list.appendChild(el("li", { class: step.type === "Warning" ? "warning" : "" },
          (step.time ? step.time.replace("T", " ").replace("Z", "") + " · " : "") + step.weight + "% · " + step.message + (step.count > 1 ? " (×" + step.count + ")" : "")));
      }
      part.appendChild(list);
      box.appendChild(part);
    });
  }

  // ---- live updates ----
  function connect() {
    if (state.source) state.source.close();
    const url = "/api/stream" + (state.selected ? "?canary=" + encodeURIComponent(state.selected) : "");
    const source = new EventSource(url);
    state.source = source;
    const status = $("connection");
    source.addEventListener("open", () => { status.dataset.state = "live"; status.textContent = "live"; });
    source.addEventListener("error", () => { status.dataset.state = "lost"; status.textContent = "reconnecting…"; });
    source.addEventListener("canaries", (e) => renderList(JSON.parse(e.data)));
    source.addEventListener("detail", (e) => renderDetail(JSON.parse(e.data)));
  }

  function select(key) {
    state.selected = key;
    history.replaceState(null, "", "#" + encodeURIComponent(key));
    for (const row of $("canaries").tBodies[0].rows) row.setAttribute("aria-selected", String(row.dataset.canary === key));
    $("action-result").hidden = true;
    connect();
  }

  async function act(action) {
    if (!state.selected) return;
    const [namespace, name] = state.selected.split("/");
    const result = $("action-result");
    const buttons = document.querySelectorAll(".actions button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch("/api/canaries/" + encodeURIComponent(namespace) + "/" + encodeURIComponent(name) + "/" + action,
        { method: "POST", headers: { "X-Fledge-Dashboard": "1" } });
      const answer = await response.json().catch(() => ({ message: "HTTP " + response.status }));
      result.className = "action-result" + (response.ok ? "" : " refused");
      result.dataset.status = String(response.status);
      result.dataset.kind = answer.kind || (response.ok ? "ok" : "error");
      result.textContent = answer.message;
    } catch (error) {
      result.className = "action-result refused";
      result.dataset.kind = "unreachable";
      result.textContent = "The dashboard did not answer: " + error;
    } finally {
      result.hidden = false;
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  document.querySelectorAll(".actions button").forEach((b) => b.addEventListener("click", () => act(b.dataset.action)));
  if (location.hash.length > 1) state.selected = decodeURIComponent(location.hash.slice(1));
  connect();
})();
