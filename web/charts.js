// Small hand-written SVG line charts for the operator pages (no library, works offline).
// lineChart(container, series, options): series = [{ cls: "c1", points: [[unixMs, value|null], ...] }];
// options = { format: (v) => text, target: number (dashed line), min: number (default 0) }.
// Null values break the line. To add a chart kind, add a function beside lineChart and export it below.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";

  function node(name, attrs, text) {
    const n = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toTimeString().slice(0, 5);
  }

  function lineChart(container, series, options) {
    const opts = Object.assign({ format: String, min: 0 }, options || {});
    const W = Math.max(container.clientWidth, 300), H = Math.max(container.clientHeight, 120);
    const pad = { l: 54, r: 12, t: 8, b: 20 };
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
    const all = series.flatMap((s) => s.points).filter((p) => p[1] !== null && Number.isFinite(p[1]));
    const times = series.flatMap((s) => s.points.map((p) => p[0]));
    if (all.length === 0 || times.length === 0) {
      svg.append(node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty-note" }, "no data yet"));
      container.replaceChildren(svg);
      return;
    }
    let t0 = Math.min(...times), t1 = Math.max(...times);
    if (t1 - t0 < 60000) t0 = t1 - 60000;
    let lo = Math.min(opts.min, ...all.map((p) => p[1]));
    let hi = Math.max(...all.map((p) => p[1]), opts.target !== undefined ? opts.target * 1.1 : -Infinity);
    if (hi <= lo) hi = lo + 1;
    const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
    const y = (v) => H - pad.b - ((v - lo) / (hi - lo)) * (H - pad.t - pad.b);
    for (let i = 0; i <= 3; ++i) {
      const v = lo + ((hi - lo) * i) / 3;
      svg.append(node("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "grid" }));
      svg.append(node("text", { x: pad.l - 6, y: y(v) + 3, "text-anchor": "end", class: "axis" }, opts.format(v)));
    }
    svg.append(node("text", { x: pad.l, y: H - 4, class: "axis" }, clock(t0)));
    svg.append(node("text", { x: W - pad.r, y: H - 4, "text-anchor": "end", class: "axis" }, clock(t1)));
    if (opts.target !== undefined)
      svg.append(node("line", { x1: pad.l, x2: W - pad.r, y1: y(opts.target), y2: y(opts.target), class: "target" }));
    for (const s of series) {
      let run = [];
      const flush = () => {
        if (run.length === 1) svg.append(node("circle", { cx: run[0][0], cy: run[0][1], r: 2, class: s.cls, fill: "none", "stroke-width": 4 }));
        if (run.length > 1) svg.append(node("polyline", { points: run.map((p) => p.join(",")).join(" "), class: "line " + s.cls }));
        run = [];
      };
      for (const [t, v] of s.points) {
        if (v === null || !Number.isFinite(v)) flush();
        else run.push([x(t).toFixed(1), y(v).toFixed(1)]);
      }
      flush();
    }
    container.replaceChildren(svg);
  }

  window.SaCharts = { lineChart };
})();
