// Done and failed jobs per minute over the last hour: stacked SVG bars, built node by node.
import { h, svg } from "./dom.js";

const W = 1100,
  H = 200,
  LEFT = 34,
  BOTTOM = 20,
  TOP = 8;

export function minuteChart(series) {
  if (!series) return h("p", { class: "muted" }, "no data");
  const n = series.done.length;
  const totals = series.done.map((d, i) => d + (series.failed[i] ?? 0));
  const max = Math.max(1, ...totals);
  const top = niceMax(max);
  const plotH = H - BOTTOM - TOP;
  const bw = (W - LEFT) / n;
  const y = (v) => TOP + plotH - (v / top) * plotH;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "done and failed jobs per minute, last hour" });
  for (const v of [0, top / 2, top]) {
    root.append(svg("line", { class: "gridline", x1: LEFT, x2: W, y1: y(v), y2: y(v) }));
    root.append(svg("text", { class: "axis", x: LEFT - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)));
  }
  series.done.forEach((done, i) => {
    const failed = series.failed[i] ?? 0;
    const x = LEFT + i * bw + 1;
    const at = new Date(series.first_minute + i * series.step_ms);
    const g = svg("g", {}, svg("title", {}, `${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ${done} done, ${failed} failed`));
    if (done) g.append(svg("rect", { class: "done", x, width: bw - 2, y: y(done), height: y(0) - y(done) }));
    if (failed) g.append(svg("rect", { class: "failed", x, width: bw - 2, y: y(done + failed), height: y(done) - y(done + failed) }));
    // An invisible full-height target, so the tooltip shows for empty minutes too.
    g.append(svg("rect", { x, width: bw - 2, y: TOP, height: plotH, "fill-opacity": 0 }));
    root.append(g);
  });
  for (const [i, label] of [
    [0, "−60 min"],
    [30, "−30 min"],
    [n - 1, "now"],
  ]) {
    root.append(svg("text", { class: "axis", x: LEFT + i * bw + bw / 2, y: H - 4, "text-anchor": i === 0 ? "start" : i === n - 1 ? "end" : "middle" }, label));
  }
  const sum = (a) => a.reduce((s, v) => s + v, 0);
  return h(
    "div",
    { class: "chart" },
    h(
      "div",
      { class: "legend" },
      h("span", {}, h("span", { class: "sw done" }), `done (${sum(series.done)} in the hour)`),
      h("span", {}, h("span", { class: "sw failed" }), `failed into the dead letter (${sum(series.failed)}, still there)`),
    ),
    root,
  );
}

function niceMax(v) {
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]) if (v <= step * 2) return step * 2;
  return Math.ceil(v / 10000) * 10000;
}
