// Operations dashboard: polls GET /api/dashboard (the gateway's snapshot ring plus the figures read at the
// request, actors/gateway/dashboard.hpp) and renders the service-level table (since start and over the
// recent window), cost per conversation by component, the quality monitor's scores and four charts. When the
// node's metrics need a bearer token (gateway.metrics_token_env) the page asks for it and keeps it in
// sessionStorage; 404 means metrics are off. To add a chart: a card in dashboard.html and a lineChart call
// in render().
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "support-agent.metrics-token";
  const POLL_MS = 5000;
  let timer = null;

  const fmt = {
    s: (v) => (v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(2)} s`),
    ratio: (v) => `${(v * 100).toFixed(1)}%`,
    score: (v) => v.toFixed(2),
    usd: (v) => (v === 0 ? "$0" : v < 0.01 ? `$${v.toFixed(5)}` : `$${v.toFixed(3)}`),
  };
  const count = (v) => Number(v).toLocaleString("en-US");

  function setStatus(kind, text) {
    $("status").className = "status status-" + kind;
    $("status").textContent = text;
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function renderTable(rows, now) {
    const body = $("slo").querySelector("tbody");
    body.replaceChildren(...rows.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.key;
      const actual = cell(r.actual === null ? "n/a" : fmt[r.unit](r.actual), "actual");
      actual.dataset.value = r.actual === null ? "" : String(r.actual);
      if (r.key === "csat") {
        actual.dataset.count = String(now.csat_count);
        actual.append(Object.assign(document.createElement("span"), {
          className: "note", textContent: `${count(now.csat_count)} rating${now.csat_count === 1 ? "" : "s"}` }));
      }
      if (r.key === "cost_per_conversation")
        actual.append(Object.assign(document.createElement("span"), {
          className: "note", textContent: `${fmt.usd(now.cost_usd)} over ${count(now.conversations)} closed` }));
      if (r.note) actual.append(Object.assign(document.createElement("span"), { className: "note", textContent: r.note }));
      const recent = cell(r.recent === null || r.recent === undefined ? "n/a" : fmt[r.unit](r.recent), "recent");
      recent.dataset.value = r.recent === null || r.recent === undefined ? "" : String(r.recent);
      const status = document.createElement("td");
      const label = { met: "met", missed: "missed", no_data: "no data" }[r.status] || r.status;
      status.append(Object.assign(document.createElement("span"), { className: "pill " + r.status, textContent: label }));
      tr.append(cell(r.metric), cell(r.target_text), actual, recent, status);
      return tr;
    }));
  }

  function renderCounts(d) {
    const now = d.now;
    $("count-turns").textContent = count(now.turns);
    $("count-escalations").textContent = count(now.escalations);
    $("count-conversations").textContent = `${count(now.conversations)} (${count(now.resolved_by_bot)} by the bot)`;
    $("count-csat").textContent = now.csat_count ? `${count(now.csat_count)} · avg ${fmt.score(now.csat_avg)}` : "0";
    $("count-cost").textContent = fmt.usd(now.cost_usd);
    $("count-sessions").textContent = count(now.active_sessions);
    for (const [id, v] of [["count-turns", now.turns], ["count-escalations", now.escalations], ["count-csat", now.csat_count]])
      $(id).dataset.value = String(v);
    const reasons = Object.entries(d.escalations_by_reason).sort((a, b) => b[1] - a[1]);
    $("reasons").replaceChildren(...(reasons.length ? reasons.map(([reason, n]) => {
      const li = document.createElement("li");
      li.append(Object.assign(document.createElement("span"), { textContent: reason.replace(/_/g, " ") }),
                Object.assign(document.createElement("span"), { className: "n", textContent: count(n) }));
      return li;
    }) : [Object.assign(document.createElement("li"), { className: "hint", textContent: "none yet" })]));
  }

  // Rows of a small table, or one hint row when there are none.
  function fillRows(tableId, rows, hint) {
    const body = $(tableId).querySelector("tbody");
    if (!rows.length) {
      const td = cell(hint, "hint");
      td.colSpan = 4;
      const tr = document.createElement("tr");
      tr.append(td);
      body.replaceChildren(tr);
      return;
    }
    body.replaceChildren(...rows);
  }

  function renderCost(d) {
    const rows = Object.entries(d.cost_by_component).map(([component, c]) => {
      const tr = document.createElement("tr");
      tr.dataset.component = component;
      const perConv = cell(c.usd_per_conversation === null ? "n/a" : fmt.usd(c.usd_per_conversation), "usd-per-conversation");
      perConv.dataset.value = c.usd_per_conversation === null ? "" : String(c.usd_per_conversation);
      const tokens = cell(c.tokens_per_conversation === null ? "n/a" : Math.round(c.tokens_per_conversation).toLocaleString("en-US"),
                          "tokens-per-conversation");
      tokens.dataset.value = c.tokens_per_conversation === null ? "" : String(c.tokens_per_conversation);
      const total = cell(fmt.usd(c.usd), "usd");
      total.dataset.value = String(c.usd);
      tr.append(cell(component.replace(/_/g, " ")), tokens, perConv, total);
      return tr;
    });
    fillRows("cost-components", rows, "no LLM use yet");
  }

  function renderQuality(d) {
    const samples = {};
    for (const s of d.quality.samples) samples[s.judge] = (samples[s.judge] || 0) + s.count;
    const rows = d.quality.scores.map((q) => {
      const tr = document.createElement("tr");
      tr.dataset.judge = q.judge;
      tr.dataset.dimension = q.dimension;
      const mean = cell(q.mean === null ? "n/a" : q.mean.toFixed(2), "mean");
      mean.dataset.value = q.mean === null ? "" : String(q.mean);
      mean.dataset.count = String(q.count);
      const by = q.local ? "local groundedness check (no judge model)" : `judge: ${q.judge}`;
      tr.append(cell(by, q.local ? "local" : "judge"), cell(q.dimension.replace(/_/g, " ")), mean,
                cell(count(samples[q.judge] || q.count)));
      return tr;
    });
    fillRows("quality", rows, "no sample scored yet");
  }

  function renderCharts(d) {
    const points = d.history.concat([d.now]);
    const series = (key, cls, pick) => ({ cls, points: points.map((p) => [p.t, pick ? pick(p) : p[key]]) });
    const windowed = (key) => (p) => (p.window ? p.window[key] : null);
    const t = Object.fromEntries(d.table.map((r) => [r.key, r.target]));
    const { lineChart } = window.SaCharts;
    lineChart($("chart-latency"), [series("", "c1", windowed("ttft_p95_s")), series("", "c2", windowed("turn_p95_s"))],
              { format: fmt.s, target: t.ttft_p95 });
    lineChart($("chart-escalation"), [series("escalation_rate", "c3")], { format: fmt.ratio, target: t.escalation_rate });
    lineChart($("chart-resolution"), [series("resolution_rate", "c4")], { format: fmt.ratio, target: t.resolution_rate });
    lineChart($("chart-cost"), [series("cost_per_conversation_usd", "c5")],
              { format: fmt.usd, target: t.cost_per_conversation });
  }

  function render(d) {
    renderTable(d.table, d.now);
    $("recent-head").textContent = `Last ${Math.round(d.recent_window_s / 60)} min`;
    renderCounts(d);
    renderCost(d);
    renderQuality(d);
    renderCharts(d);
    $("updated").textContent = new Date(d.now.t).toLocaleTimeString();
    const span = d.history.length ? (d.now.t - d.history[0].t) / 60000 : 0;
    $("span").textContent = `${d.history.length} snapshots · ${span.toFixed(0)} min (every ${d.interval_s} s)`;
    document.body.dataset.loaded = "true";
  }

  async function poll() {
    clearTimeout(timer);
    const token = sessionStorage.getItem(TOKEN_KEY);
    try {
      const res = await fetch("/api/dashboard", { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store" });
      if (res.status === 401) {
        $("token-panel").classList.remove("hidden");
        $("token-hint").textContent = token ? "That token was refused; paste the current one."
                                            : "This node's metrics need a bearer token (gateway.metrics_token_env).";
        setStatus("err", "Token needed");
        return;  // no polling until a token is given
      }
      if (res.status === 404) {
        $("metrics-off").hidden = false;
        setStatus("off", "Metrics off");
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      $("token-panel").classList.toggle("hidden", !token);
      render(await res.json());
      setStatus("on", "Live");
    } catch (e) {
      setStatus("err", "Unreachable");
    }
    timer = setTimeout(poll, POLL_MS);
  }

  $("token-save").addEventListener("click", () => {
    const v = $("token").value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    else sessionStorage.removeItem(TOKEN_KEY);
    poll();
  });
  window.addEventListener("resize", () => poll());
  poll();
})();
