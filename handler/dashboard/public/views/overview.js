// Overview: counts per state, the last hour per minute, the workers (CPU fallback loud, stale
// ones greyed), the dead letter's biggest groups, and what this page costs in Upstash commands.
import { get } from "../api.js";
import { age, badge, h, jobHref, num, progressBar } from "../dom.js";
import { minuteChart } from "../chart.js";

export function overviewView(ctx) {
  const root = h("section", { id: "overview" }, h("p", { class: "muted" }, "loading…"));
  return {
    root,
    async refresh() {
      const { data, commands } = await get("/api/overview");
      root.replaceChildren(...render(data, commands, ctx));
      return commands;
    },
  };
}

function tile(label, value, opts = {}) {
  const cls = ["tile", opts.kind, value === 0 ? "zero" : null].filter(Boolean).join(" ");
  return h(
    "div",
    { class: cls, dataset: { metric: opts.metric ?? label } },
    h("div", { class: "label" }, label),
    h("div", { class: "n" }, typeof value === "number" ? num(value) : value),
    opts.sub ? h("div", { class: "sub" }, opts.sub) : null,
  );
}

function render(d, commands, ctx) {
  const s = d.stats;
  const onCpu = d.workers.filter((w) => w.health !== "gone" && w.fallback_reason);
  const out = [];
  if (onCpu.length) {
    out.push(
      h(
        "div",
        { class: "alert", id: "fallback-alert" },
        h("strong", {}, `⚠ ${onCpu.length} worker${onCpu.length > 1 ? "s" : ""} on CPU fallback`),
        " — CUDA is unusable there, so jobs run on the CPU at a fraction of the speed while the GPU is paid for.",
        onCpu.map((w) => h("div", { class: "mono" }, `${w.id}: ${w.fallback_reason}`)),
      ),
    );
  }
  out.push(
    h(
      "div",
      { class: "tiles" },
      tile("queued", s.queued, { kind: s.queued > 0 && s.oldest_waiting_ms > 60_000 ? "warn" : null }),
      tile("oldest waiting", s.oldest_waiting_ms === null ? "—" : age(s.oldest_waiting_ms), {
        metric: "oldest_waiting",
        kind: s.oldest_waiting_ms > 60_000 ? "warn" : null,
      }),
      tile("active", s.active),
      tile("retrying", s.retrying, { kind: s.retrying ? "warn" : null }),
      tile("dead letter", s.dead + s.failed, {
        metric: "dead_letter",
        kind: s.dead + s.failed ? "bad" : null,
        sub: `${num(s.failed)} failed for good · ${num(s.dead)} out of attempts`,
      }),
      tile("done, 5 min", s.done_last_5m, { metric: "done_last_5m" }),
      tile("done, 1 hour", s.done_last_60m, { metric: "done_last_60m" }),
      tile("done, total", s.done_total, { metric: "done_total" }),
    ),
  );
  out.push(h("section", { class: "card" }, h("h3", {}, "Last hour, per minute"), minuteChart(d.series)));
  out.push(workersCard(d, ctx));
  out.push(deadCard(d.dead_letter));
  const perHour = Math.round((3600 / ctx.session.refresh_s) * commands);
  out.push(
    h(
      "p",
      { class: "muted", id: "cost" },
      `This page costs ${commands} Upstash commands per refresh; every ${ctx.session.refresh_s} s while the tab is visible that is about ${num(perHour)} an hour (none while it is hidden). `,
      `This dashboard has sent ${num(d.commands_total)} since it started.`,
    ),
  );
  return out;
}

function workersCard(d, ctx) {
  const live = d.workers.filter((w) => w.health === "live").length;
  const rows = d.workers.flatMap((w) => {
    const tr = h(
      "tr",
      { class: w.health, dataset: { worker: w.id } },
      h("td", {}, h("strong", {}, w.id), h("div", { class: "muted" }, [w.host, w.mode, w.version && `v${w.version}`].filter(Boolean).join(" · "))),
      h("td", {}, w.device ? `${w.device} ${w.compute_type}` : "—", w.fallback_reason ? [" ", badge("CPU FALLBACK", "fallback")] : null),
      h("td", {}, gpuCell(w.gpu)),
      h("td", {}, jobCell(w)),
      h("td", { class: "num" }, w.jobs_done === undefined ? "—" : `${num(w.jobs_done)} / ${num(w.jobs_failed)}`),
      h("td", {}, `${age(w.heartbeat_age_ms)} ago `, w.health !== "live" ? badge(w.health) : null),
    );
    if (!w.fallback_reason) return [tr];
    return [tr, h("tr", { class: "fallback" }, h("td", { colspan: 6 }, `⚠ fallback_reason: ${w.fallback_reason}`))];
  });
  return h(
    "section",
    { class: "card", id: "workers" },
    h("h3", {}, `Workers: ${live} live`, d.workers.length > live ? ` · ${d.workers.length - live} stale or gone (greyed)` : ""),
    d.workers.length === 0
      ? h("p", { class: "muted" }, "No worker has registered with this queue (start one with npm start).")
      : h(
          "table",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["worker", "device", "GPU", "current job", "done / failed", "heartbeat"].map((t, i) => h("th", { class: i === 4 ? "num" : null }, t)),
            ),
          ),
          h("tbody", {}, rows),
        ),
    d.workers_hidden ? h("p", { class: "muted" }, `${d.workers_hidden} more gone for over an hour (pruned by npm run queue -- workers).`) : null,
    h("p", { class: "muted" }, `Stale: no heartbeat for 2 intervals (${Math.round((2 * ctx.session.heartbeat_ms) / 1000)} s); gone: its record expired.`),
  );
}

function gpuCell(g) {
  if (!g) return "—";
  const gib = (mb) => (mb / 1024).toFixed(1);
  return [h("div", {}, g.name), h("div", { class: "muted" }, `${gib(g.memory_used_mb)} / ${gib(g.memory_total_mb)} GiB · ${g.utilization_pct} % busy`)];
}

function jobCell(w) {
  if (!w.jobs.length) return h("span", { class: "muted" }, w.health === "gone" ? "—" : "idle");
  // With the one-job prefetch a worker may hold the next job too (claimed, being downloaded).
  return w.jobs.map((j) =>
    h("div", { class: "held-job" }, h("a", { href: jobHref(j.id), class: "mono" }, j.id), " ", j.stage ?? "?", " ", progressBar(j.progress ?? 0)),
  );
}

function deadCard(dl) {
  return h(
    "section",
    { class: "card", id: "dead-summary" },
    h("h3", {}, "Dead letter ", h("a", { href: "#/dead" }, `(${num(dl.total)} jobs: open)`)),
    dl.groups.length === 0
      ? h("p", { class: "muted" }, "Empty.")
      : h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, "error code"), h("th", { class: "num" }, "jobs"), h("th", {}, "newest"), h("th", {}, "message"))),
          h(
            "tbody",
            {},
            dl.groups
              .slice(0, 5)
              .map((g) =>
                h(
                  "tr",
                  {},
                  h("td", {}, h("a", { href: `#/dead?code=${encodeURIComponent(g.code)}`, class: "mono" }, g.code)),
                  h("td", { class: "num" }, num(g.count)),
                  h("td", {}, `${age(Date.now() - g.newest_at)} ago`),
                  h("td", {}, g.message),
                ),
              ),
          ),
        ),
  );
}
