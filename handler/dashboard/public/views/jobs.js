// Jobs by state, filtered by priority, error code and a search in ids and workers. The filters
// live in the address (#/jobs?state=...), so a filtered list can be bookmarked or shared.
import { get } from "../api.js";
import { age, badge, h, jobHref, progressBar } from "../dom.js";

const STATES = [
  ["queued", "queued"],
  ["active", "active"],
  ["retrying", "retrying"],
  ["done", "done (last hour)"],
  ["failed", "failed"],
  ["dead", "dead"],
  ["dead_letter", "dead letter (both)"],
];

export function jobsView(ctx, { params }) {
  const state = params.get("state") || "active";
  const filters = { priority: params.get("priority") ?? "", code: params.get("code") ?? "", q: params.get("q") ?? "" };
  const link = (over) => {
    const q = new URLSearchParams(Object.entries({ state, ...filters, ...over }).filter(([, v]) => v));
    return `#/jobs?${q}`;
  };
  const form = h(
    "form",
    { class: "filters", id: "job-filters" },
    h(
      "label",
      {},
      "priority",
      h(
        "select",
        { name: "priority" },
        ["", "high", "normal", "low"].map((p) => h("option", { value: p, selected: p === filters.priority }, p || "any")),
      ),
    ),
    h("label", {}, "error code", h("input", { name: "code", value: filters.code, placeholder: "e.g. download_failed", size: 18 })),
    h("label", {}, "id or worker contains", h("input", { name: "q", value: filters.q, size: 22 })),
    h("button", { type: "submit" }, "Filter"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    ctx.go(link({ priority: f.get("priority"), code: f.get("code").trim(), q: f.get("q").trim() }));
  });
  const body = h("div", {}, h("p", { class: "muted" }, "loading…"));
  const root = h(
    "section",
    { id: "jobs" },
    h("h2", {}, "Jobs"),
    h(
      "nav",
      { class: "states" },
      STATES.map(([s, label]) => h("a", { href: link({ state: s }), class: s === state ? "current" : null }, label)),
    ),
    form,
    body,
  );
  let limit = 50;
  const view = {
    root,
    async refresh() {
      const q = new URLSearchParams({ state, limit: String(limit) });
      for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
      const { data, commands } = await get(`/api/jobs?${q}`);
      body.replaceChildren(
        ...render(data, state, () => {
          limit = Math.min(limit + 50, 200);
          void ctx.refreshNow();
        }),
      );
      return commands;
    },
  };
  return view;
}

export function jobsTable(rows, extra) {
  return h(
    "table",
    { class: "jobs" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["job", "state", "priority", "attempts", "stage", "worker", "age", "last error", extra ? "" : null]
          .filter((t) => t !== null)
          .map((t) => h("th", {}, t)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          { dataset: { job: r.id } },
          h("td", {}, h("a", { href: jobHref(r.id), class: "mono" }, r.id)),
          h("td", {}, badge(r.state)),
          h("td", {}, r.priority),
          h("td", { class: "num" }, r.attempts),
          h("td", {}, r.stage ?? "", r.state === "active" ? [" ", progressBar(r.progress)] : null),
          h("td", { class: "mono" }, r.worker ?? ""),
          h("td", {}, age(Date.now() - r.created_at)),
          h(
            "td",
            {},
            r.last_error
              ? h("span", { title: r.last_error.message }, h("span", { class: "mono" }, r.last_error.code), r.last_error.retryable ? " (retryable)" : "")
              : "",
          ),
          extra ? h("td", {}, extra(r)) : null,
        ),
      ),
    ),
  );
}

function render(d, state, more) {
  if (d.rows.length === 0)
    return [h("p", { class: "muted" }, `No ${state.replace("_", " ")} jobs match${d.scanned < d.total ? ` among the first ${d.scanned}` : ""}.`)];
  return [
    jobsTable(d.rows),
    h(
      "p",
      { class: "muted" },
      `${d.rows.length} shown; ${d.total} in this state's set${state === "done" ? " (the queue indexes the last hour of completions)" : ""}.`,
      d.next_offset < d.total && d.rows.length < 200 ? [" ", h("button", { type: "button", onclick: more }, "Show more")] : null,
    ),
  ];
}
