// The dashboard page: a hash router over five views, and short polling with a visible
// "updated N s ago". Polling stops while the tab is hidden (no Upstash commands for a tab
// nobody looks at) and resumes at once when it is shown again.
import { get, ApiError } from "./api.js";
import { h } from "./dom.js";
import { overviewView } from "./views/overview.js";
import { jobsView } from "./views/jobs.js";
import { jobView } from "./views/job.js";
import { deadView } from "./views/dead.js";
import { pushView } from "./views/push.js";

const VIEWS = { overview: overviewView, jobs: jobsView, job: jobView, dead: deadView, push: pushView };

const ctx = {
  session: null,
  lastOk: 0,
  lastTry: 0,
  inFlight: false,
  error: null,
  view: null,
  notify,
  refreshNow,
  go: (hash) => (location.hash = hash),
  confirm: confirmDialog,
  /** What the last refresh of the current view cost in Upstash commands. */
  lastCommands: null,
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const name = parts[0] === "job" ? "job" : VIEWS[parts[0]] ? parts[0] : "overview";
  return { name, id: parts[1], params: new URLSearchParams(query) };
}

function route() {
  const { name, id, params } = parseHash();
  ctx.view?.destroy?.();
  const view = VIEWS[name](ctx, { id, params });
  ctx.view = view;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("current", a.dataset.view === (name === "job" ? "jobs" : name));
  document.getElementById("view").replaceChildren(view.root);
  ctx.lastOk = 0;
  ctx.error = null;
  if (!view.refresh) document.getElementById("updated").textContent = "";
  void refreshNow();
}

async function refreshNow() {
  if (!ctx.view?.refresh || ctx.inFlight) return;
  ctx.inFlight = true;
  ctx.lastTry = Date.now();
  const view = ctx.view;
  try {
    const commands = await view.refresh();
    if (view !== ctx.view) return;
    ctx.lastCommands = commands ?? null;
    ctx.lastOk = Date.now();
    ctx.error = null;
  } catch (err) {
    ctx.error = err instanceof ApiError && err.status === 401 ? "sign in to see this dashboard" : err.message;
    if (err instanceof ApiError && err.status === 401 && ctx.session?.reads_need_token) location.href = "/login";
  } finally {
    ctx.inFlight = false;
    tick();
  }
}

function intervalMs() {
  return ctx.view?.intervalMs?.() ?? ctx.session.refresh_s * 1000;
}

function tick() {
  const el = document.getElementById("updated");
  if (document.hidden || !ctx.view?.refresh) return;
  if (ctx.error) {
    el.textContent = `update failed: ${ctx.error}${ctx.lastOk ? ` (data from ${Math.round((Date.now() - ctx.lastOk) / 1000)} s ago)` : ""}`;
    el.className = "stale-data";
  } else if (ctx.lastOk) {
    el.textContent = `updated ${Math.round((Date.now() - ctx.lastOk) / 1000)} s ago · every ${Math.round(intervalMs() / 1000)} s`;
    el.className = "muted";
  }
  if (Date.now() - ctx.lastTry >= intervalMs()) void refreshNow();
}

let noticeTimer;
function notify(text, bad = false) {
  const n = document.getElementById("notice");
  n.textContent = text;
  n.className = bad ? "bad" : "";
  n.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (n.hidden = true), bad ? 15_000 : 6000);
}

function confirmDialog(title, body, okLabel = "Confirm", destructive = true) {
  const dlg = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = body;
  const ok = document.getElementById("confirm-ok");
  ok.textContent = okLabel;
  ok.className = destructive ? "danger" : "primary";
  dlg.returnValue = "";
  dlg.showModal();
  return new Promise((resolve) => dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true }));
}

function renderSession() {
  const s = ctx.session;
  document.getElementById("queue-name").textContent = `${s.queue.where} · prefix ${s.queue.prefix}`;
  const el = document.getElementById("session");
  if (s.actions === "disabled")
    el.replaceChildren(h("span", { class: "muted", title: "set DASHBOARD_TOKEN where the dashboard runs" }, "read-only (no DASHBOARD_TOKEN)"));
  else if (s.signed_in) el.replaceChildren(h("form", { method: "post", action: "/logout" }, h("button", { class: "link", id: "sign-out" }, "Sign out")));
  else el.replaceChildren(h("a", { href: "/login", id: "sign-in-link" }, "Sign in to act"));
}

async function boot() {
  try {
    ctx.session = (await get("/api/session")).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) location.href = "/login";
    document.getElementById("updated").textContent = `cannot reach the dashboard API: ${err.message}`;
    return;
  }
  renderSession();
  window.addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && Date.now() - ctx.lastTry >= intervalMs()) void refreshNow();
  });
  setInterval(tick, 1000);
  route();
}

void boot();
