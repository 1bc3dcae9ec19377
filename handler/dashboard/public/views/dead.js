// The dead letter grouped by error code: retry one, retry every job of a code, purge a code or
// everything, each after a confirmation. #/dead?code=X lists that group's jobs.
import { get, post } from "../api.js";
import { age, h, num } from "../dom.js";
import { jobsTable } from "./jobs.js";

/** Confirm, POST the action, say what happened (or why the server refused), refresh. */
export async function act(ctx, action, selection, title, detail) {
  const verb = action === "retry" ? "Retry" : "Purge";
  if (!(await ctx.confirm(title, detail, verb, action === "purge"))) return;
  try {
    const { data } = await post(`/api/${action}`, selection);
    const n = action === "retry" ? data.requeued : data.deleted;
    ctx.notify(
      `${action === "retry" ? "Requeued" : "Deleted"} ${n} job${n === 1 ? "" : "s"}${data.complete ? "" : " (the first 10,000: run it again for the rest)"}.`,
    );
  } catch (err) {
    ctx.notify(`Refused (${err.status ?? "error"} ${err.code ?? ""}): ${err.message}`, true);
  }
  await ctx.refreshNow();
}

export function deadView(ctx, { params }) {
  const code = params.get("code");
  const body = h("div", {}, h("p", { class: "muted" }, "loading…"));
  const root = h("section", { id: "dead" }, body);
  return {
    root,
    async refresh() {
      const groups = await get("/api/dead-letter");
      let commands = groups.commands;
      let jobs = null;
      if (code) {
        const r = await get(`/api/jobs?${new URLSearchParams({ state: "dead_letter", code, limit: "200" })}`);
        jobs = r.data;
        commands += r.commands;
      }
      body.replaceChildren(...render(groups.data, code, jobs, ctx));
      return commands;
    },
  };
}

function render(dl, code, jobs, ctx) {
  const out = [
    h(
      "div",
      { class: "actions" },
      h("h2", {}, `Dead letter: ${num(dl.total)} job${dl.total === 1 ? "" : "s"}`),
      dl.total
        ? h(
            "button",
            {
              type: "button",
              id: "retry-all",
              onclick: () =>
                act(
                  ctx,
                  "retry",
                  { all: true },
                  `Retry all ${dl.total} dead-letter jobs?`,
                  "Every job in the dead letter goes back to the queue with a fresh attempt count.",
                ),
            },
            "Retry all",
          )
        : null,
      dl.total
        ? h(
            "button",
            {
              type: "button",
              class: "danger",
              id: "purge-all",
              onclick: () =>
                act(
                  ctx,
                  "purge",
                  { all: true },
                  `Delete all ${dl.total} dead-letter jobs for good?`,
                  "Their records, results and stored audio are deleted. This cannot be undone.",
                ),
            },
            "Purge all",
          )
        : null,
    ),
  ];
  if (dl.scanned < dl.total) out.push(h("p", { class: "muted" }, `Grouped over the newest ${num(dl.scanned)} of ${num(dl.total)}.`));
  if (dl.groups.length === 0) out.push(h("p", { class: "muted" }, "The dead letter is empty."));
  else {
    out.push(
      h(
        "table",
        { id: "dead-groups" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["error code", "jobs", "retryable", "newest", "message", ""].map((t, i) => h("th", { class: i === 1 ? "num" : null }, t)),
          ),
        ),
        h(
          "tbody",
          {},
          dl.groups.map((g) =>
            h(
              "tr",
              { dataset: { code: g.code }, class: g.code === code ? "current" : null },
              h("td", {}, h("a", { href: `#/dead?code=${encodeURIComponent(g.code)}`, class: "mono" }, g.code)),
              h("td", { class: "num" }, `${num(g.count)}`, h("div", { class: "muted" }, `${g.failed} failed · ${g.dead} dead`)),
              h("td", {}, g.retryable ? "yes" : "no"),
              h("td", {}, `${age(Date.now() - g.newest_at)} ago`),
              h("td", {}, g.message),
              h(
                "td",
                {},
                h(
                  "div",
                  { class: "actions" },
                  h(
                    "button",
                    {
                      type: "button",
                      class: "retry-code",
                      onclick: () =>
                        act(ctx, "retry", { code: g.code }, `Retry all ${g.count} ${g.code} jobs?`, "They go back to the queue with a fresh attempt count."),
                    },
                    `Retry ${g.count}`,
                  ),
                  h(
                    "button",
                    {
                      type: "button",
                      class: "danger purge-code",
                      onclick: () =>
                        act(
                          ctx,
                          "purge",
                          { code: g.code },
                          `Delete all ${g.count} ${g.code} jobs for good?`,
                          "Their records, results and stored audio are deleted. This cannot be undone.",
                        ),
                    },
                    `Purge ${g.count}`,
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
  if (code && jobs) {
    out.push(
      h(
        "section",
        { class: "card", id: "dead-jobs" },
        h("h3", {}, "Jobs with ", h("span", { class: "mono" }, code)),
        jobs.rows.length
          ? jobsTable(jobs.rows, (r) =>
              h(
                "button",
                {
                  type: "button",
                  class: "retry-one",
                  onclick: () => act(ctx, "retry", { id: r.id }, `Retry job ${r.id}?`, "It goes back to the queue with a fresh attempt count."),
                },
                "Retry",
              ),
            )
          : h("p", { class: "muted" }, "None left."),
      ),
    );
  }
  return out;
}
