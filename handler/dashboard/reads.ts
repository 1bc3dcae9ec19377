// What each page shows, from the queue's own records: nothing here writes to Redis. Each read
// is a fixed, small number of commands (README: Dashboard), whatever the queue holds.
import type { QueueAdmin, QueueStats } from "../queue/admin.ts";
import type { JobStatus } from "../queue/job.ts";
import type { DeadGroup, HeldJob, JobFilter, MinuteSeries, QueueViews, WorkerEntry } from "../queue/views.ts";
import { forBrowser, parseForBrowser, safeText } from "./redact.ts";

export interface ReadDeps {
  admin: QueueAdmin;
  views: QueueViews;
  /** The workers' registry interval (WORKER_HEARTBEAT_MS): a record older than 2 of them is stale. */
  heartbeatMs: number;
  now: () => number;
}

export type WorkerHealth = "live" | "stale" | "gone";

export interface WorkerRow {
  id: string;
  health: WorkerHealth;
  heartbeat_age_ms: number;
  host?: string;
  mode?: string;
  device?: string;
  compute_type?: string;
  fallback_reason?: string | null;
  gpu?: unknown;
  /** The jobs it holds under lease now, oldest claim first. */
  jobs: HeldJob[];
  jobs_done?: number;
  jobs_failed?: number;
  started_at?: number;
  version?: string;
}

export interface Overview {
  stats: QueueStats;
  series: MinuteSeries | null;
  workers: WorkerRow[];
  /** Registry members not shown: gone for more than an hour. */
  workers_hidden: number;
  dead_letter: { total: number; scanned: number; groups: DeadGroup[] };
}

const GONE_SHOWN_MS = 3600_000;

export function workerRows(entries: WorkerEntry[], now: number, heartbeatMs: number): { rows: WorkerRow[]; hidden: number } {
  const rows: WorkerRow[] = [];
  let hidden = 0;
  for (const e of entries) {
    const r = e.record;
    const age = now - (r?.updated_at ?? e.seen_at);
    if (!r) {
      if (age > GONE_SHOWN_MS) hidden++;
      else rows.push({ id: e.id, health: "gone", heartbeat_age_ms: age, jobs: forBrowser(e.jobs) as HeldJob[] });
      continue;
    }
    rows.push(
      forBrowser({
        id: e.id,
        health: age > 2 * heartbeatMs ? "stale" : "live",
        heartbeat_age_ms: age,
        host: r.host,
        mode: r.mode,
        device: r.device,
        compute_type: r.compute_type,
        fallback_reason: r.fallback_reason ?? null,
        gpu: r.gpu ?? null,
        jobs: e.jobs,
        jobs_done: r.jobs_done,
        jobs_failed: r.jobs_failed,
        started_at: r.started_at,
        version: r.version,
      }) as WorkerRow,
    );
  }
  // Live first, then stale, then gone; the loudest problems (CPU fallback) first inside each.
  const rank: Record<WorkerHealth, number> = { live: 0, stale: 1, gone: 2 };
  rows.sort((a, b) => rank[a.health] - rank[b.health] || Number(Boolean(b.fallback_reason)) - Number(Boolean(a.fallback_reason)) || a.id.localeCompare(b.id));
  return { rows, hidden };
}

const safeGroups = (groups: DeadGroup[]) => groups.map((g) => ({ ...g, code: safeText(g.code), message: safeText(g.message), newest_id: g.newest_id }));

/** Counts (stats.lua, exactly `queue stats`), the minute series, workers and dead-letter groups: 2 commands. */
export async function readOverview(d: ReadDeps): Promise<Overview> {
  const [stats, view] = await Promise.all([d.admin.stats(), d.views.overview()]);
  const { rows, hidden } = workerRows(view.workers ?? [], d.now(), d.heartbeatMs);
  const dead = view.dead_letter ?? { total: 0, scanned: 0, groups: [] };
  return { stats, series: view.series ?? null, workers: rows, workers_hidden: hidden, dead_letter: { ...dead, groups: safeGroups(dead.groups) } };
}

export async function readWorkers(d: ReadDeps): Promise<{ workers: WorkerRow[]; workers_hidden: number }> {
  const view = await d.views.overview(["workers"]);
  const { rows, hidden } = workerRows(view.workers ?? [], d.now(), d.heartbeatMs);
  return { workers: rows, workers_hidden: hidden };
}

export async function readDeadLetter(d: ReadDeps): Promise<Overview["dead_letter"]> {
  const view = await d.views.overview(["dead"]);
  const dead = view.dead_letter ?? { total: 0, scanned: 0, groups: [] };
  return { ...dead, groups: safeGroups(dead.groups) };
}

export async function readJobs(d: ReadDeps, filter: JobFilter) {
  const page = await d.views.jobs(filter);
  return { ...page, rows: page.rows.map((r) => forBrowser(r) as JobStatus) };
}

export interface HistoryEntry {
  at: number;
  event: string;
  detail: string;
}

/**
 * The queue keeps no event log per job, only the latest of each timestamp: this is what they
 * tell, in order. Earlier attempts leave only the attempt count and the last error.
 */
export function historyOf(s: JobStatus): HistoryEntry[] {
  const out: HistoryEntry[] = [{ at: s.created_at, event: "queued", detail: `enqueued with priority ${s.priority}` }];
  if (s.claimed_at !== undefined)
    out.push({ at: s.claimed_at, event: "claimed", detail: `attempt ${s.attempts}${s.worker ? ` by ${s.worker}` : ""} (the latest claim)` });
  if (s.state === "retrying" && s.not_before !== undefined)
    out.push({ at: s.not_before, event: "retry due", detail: `after ${s.last_error?.code ?? "a retryable error"}` });
  if (s.finished_at !== undefined && (s.state === "done" || s.state === "failed" || s.state === "dead")) {
    const why =
      s.state === "done"
        ? "completed"
        : s.state === "failed"
          ? `failed for good: ${s.last_error?.code ?? "?"}`
          : `out of attempts: ${s.last_error?.code ?? "?"}`;
    out.push({ at: s.finished_at, event: s.state, detail: why });
  }
  if (s.stage === "requeued") out.push({ at: s.updated_at, event: "requeued", detail: "retried from the dead letter by an operator (attempts reset)" });
  else if (!out.some((e) => e.at === s.updated_at))
    out.push({ at: s.updated_at, event: "last change", detail: `state ${s.state}${s.stage ? `, stage ${s.stage}` : ""}` });
  return out.sort((a, b) => a.at - b.at);
}

/** The job page: status, derived history, queue timings, payload, result, stored audio: 1 command. */
export async function readJob(d: ReadDeps, id: string) {
  const v = await d.views.job(id);
  if (!v.status && v.result === null) return null;
  const s = v.status;
  return {
    id,
    status: s ? (forBrowser(s) as JobStatus) : null,
    history: s ? forBrowser(historyOf(s)) : [],
    queue_timings: s
      ? {
          waited_ms: s.claimed_at !== undefined ? s.claimed_at - s.created_at : null,
          ran_ms: s.claimed_at !== undefined && s.finished_at !== undefined ? s.finished_at - s.claimed_at : null,
          total_ms: s.finished_at !== undefined ? s.finished_at - s.created_at : null,
        }
      : null,
    payload: parseForBrowser(v.payload),
    result: parseForBrowser(v.result),
    audio: { stored: v.audio.stored, bytes: Math.floor((v.audio.base64_chars * 3) / 4), expires_in_ms: v.audio.ttl_ms > 0 ? v.audio.ttl_ms : null },
  };
}
