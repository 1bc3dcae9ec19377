import { readFileSync } from "node:fs";
import type { Redis } from "@upstash/redis";
import { WorkerError } from "../errors.ts";
import { STATUS_FIELDS, toStatus } from "./admin.ts";
import { setOfState } from "./keys.ts";
import { queueUnavailable } from "./redis.ts";
import { JOB_STATES, PRIORITIES, type JobState, type JobStatus, type Priority } from "./job.ts";
import type { VoiceQueue } from "./queue.ts";
import type { WorkerRecord } from "./registry.ts";

const READ_ONLY = ["view-overview", "view-jobs", "view-job"] as const;
type ViewName = (typeof READ_ONLY)[number];
const source = (name: string) => readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), "utf8");
const SOURCES = Object.fromEntries([...READ_ONLY, "purge-dead-ids"].map((n) => [n, source(n)])) as Record<ViewName | "purge-dead-ids", string>;

export interface MinuteSeries {
  /** Epoch ms of the first one-minute bucket; the last bucket is the current minute. */
  first_minute: number;
  step_ms: number;
  done: number[];
  /** Jobs that entered the dead letter (failed for good, or out of attempts) and are still there. */
  failed: number[];
}

/** A job a worker holds under lease, as its job record has it now. */
export interface HeldJob {
  id: string;
  stage?: string;
  progress?: number;
  claimed_at?: number;
  attempts?: number;
}

export interface WorkerEntry {
  id: string;
  /** Last time the worker wrote its record (registry score). */
  seen_at: number;
  /** null: the record expired (the worker stopped heartbeating); the id is still listed. */
  record: WorkerRecord | null;
  /** The jobs it holds under lease (with the prefetch, the next one may already be claimed). */
  jobs: HeldJob[];
}

export interface DeadGroup {
  code: string;
  count: number;
  dead: number;
  failed: number;
  newest_at: number;
  oldest_at: number;
  message: string;
  retryable: boolean;
  newest_id: string;
}

export interface OverviewView {
  series?: MinuteSeries;
  workers?: WorkerEntry[];
  workers_total?: number;
  dead_letter?: { total: number; scanned: number; groups: DeadGroup[] };
}

/** A job list's state: one of the job states, or the whole dead letter (dead and failed). */
export type ListState = JobState | "dead_letter";
export const LIST_STATES: readonly ListState[] = [...JOB_STATES, "dead_letter"];

export interface JobFilter {
  state: ListState;
  priority?: Priority;
  code?: string;
  /** Substring of the job id or worker id (case-insensitive). */
  text?: string;
  offset?: number;
  limit?: number;
}

export interface JobPage {
  rows: JobStatus[];
  /** Members of the state's set (all states sharing it, before filters). */
  total: number;
  scanned: number;
  next_offset: number;
}

export interface JobView {
  status: JobStatus | null;
  /** The payload as stored (JSON text), or null. */
  payload: string | null;
  /** The result as stored (JSON text), or null. */
  result: string | null;
  audio: { stored: boolean; base64_chars: number; ttl_ms: number };
}

/** Scan windows: each view costs one command, and its Redis-side work stays bounded too. */
export const VIEW_LIMITS = { deadScan: 1000, workersMax: 200, jobsScan: 500, jobsLimit: 200 } as const;

/** HMGET's missing fields come back from Lua as false: drop them. */
const withoutFalse = (o: object): HeldJob => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== false && v !== null)) as unknown as HeldJob;
const noFalse = (v: unknown) => (v === false ? null : v);
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []); // cjson writes an empty list as {}

/**
 * Read-only views of the queue for the dashboard: each is one Lua script run with EVALSHA_RO
 * (one billed command, and Redis itself refuses a write from it), bounded in the work it does.
 */
export class QueueViews {
  readonly #p: string;
  readonly #scripts: Record<ViewName, ReturnType<typeof createReadOnly>>;
  readonly #purge: ReturnType<Redis["createScript"]>;

  constructor(
    queue: VoiceQueue,
    private readonly now: () => number = Date.now,
  ) {
    this.#p = queue.prefix;
    this.#scripts = Object.fromEntries(READ_ONLY.map((n) => [n, createReadOnly(queue.redis, SOURCES[n])])) as Record<
      ViewName,
      ReturnType<typeof createReadOnly>
    >;
    this.#purge = queue.redis.createScript(SOURCES["purge-dead-ids"]);
  }

  async overview(parts: Array<"series" | "workers" | "dead"> = ["series", "workers", "dead"]): Promise<OverviewView> {
    const raw = await this.#json<Record<string, unknown>>("view-overview", [
      this.#p,
      this.now(),
      parts.join(","),
      VIEW_LIMITS.deadScan,
      VIEW_LIMITS.workersMax,
    ]);
    const out: OverviewView = {};
    if (raw.series) out.series = raw.series as MinuteSeries;
    if (raw.workers !== undefined) {
      out.workers = list<Record<string, unknown>>(raw.workers).map((w) => ({
        id: String(w.id),
        seen_at: Number(w.seen_at),
        record: typeof w.record === "string" ? parseRecord(w.record) : null,
        jobs: list<Record<string, unknown>>(w.jobs)
          .map(withoutFalse)
          .sort((a, b) => (a.claimed_at ?? 0) - (b.claimed_at ?? 0)),
      }));
      out.workers_total = Number(raw.workers_total ?? 0);
    }
    if (raw.dead_letter) {
      const d = raw.dead_letter as { total: number; scanned: number; groups: unknown };
      out.dead_letter = { total: d.total, scanned: d.scanned, groups: list<DeadGroup>(d.groups) };
    }
    return out;
  }

  async jobs(filter: JobFilter): Promise<JobPage> {
    if (!LIST_STATES.includes(filter.state)) throw new WorkerError("invalid_usage", `state must be one of ${LIST_STATES.join(", ")}`, { retryable: false });
    if (filter.priority !== undefined && !PRIORITIES.includes(filter.priority))
      throw new WorkerError("invalid_usage", `priority must be one of ${PRIORITIES.join(", ")}`, { retryable: false });
    const set = filter.state === "dead_letter" ? "dead" : setOfState[filter.state];
    const state = filter.state === "dead_letter" ? "" : filter.state;
    const order = set === "dead" || set === "done" ? "desc" : "asc"; // newest failures and completions first; the rest in the order they are due
    const limit = Math.min(Math.max(1, filter.limit ?? 50), VIEW_LIMITS.jobsLimit);
    const raw = await this.#json<{ total: number; scanned: number; next_offset: number; rows: unknown }>("view-jobs", [
      this.#p,
      set,
      order,
      Math.max(0, filter.offset ?? 0),
      VIEW_LIMITS.jobsScan,
      limit,
      state,
      filter.priority ?? "",
      filter.code ?? "",
      (filter.text ?? "").toLowerCase(),
      ...STATUS_FIELDS,
    ]);
    const rows = list<unknown[]>(raw.rows)
      .map((r) => toStatus(r.map(noFalse) as Array<string | null>))
      .filter((r): r is JobStatus => r !== null);
    return { rows, total: raw.total, scanned: raw.scanned, next_offset: raw.next_offset };
  }

  async job(id: string): Promise<JobView> {
    const raw = await this.#json<{
      fields: unknown[];
      payload: unknown;
      result: unknown;
      audio_stored: boolean;
      audio_b64_chars: number;
      audio_ttl_ms: number;
    }>("view-job", [this.#p, id, "job", ...STATUS_FIELDS]);
    return {
      status: toStatus(list<unknown>(raw.fields).map(noFalse) as Array<string | null>),
      payload: typeof raw.payload === "string" ? raw.payload : null,
      result: typeof raw.result === "string" ? raw.result : null,
      audio: { stored: raw.audio_stored && raw.audio_b64_chars > 0, base64_chars: raw.audio_b64_chars, ttl_ms: raw.audio_ttl_ms },
    };
  }

  /** The job's stored audio bytes (pushed with it), or null once they are gone. */
  async audio(id: string): Promise<Buffer | null> {
    const raw = await this.#json<{ audio: unknown }>("view-job", [this.#p, id, "audio"]);
    return typeof raw.audio === "string" && raw.audio.length > 0 ? Buffer.from(raw.audio, "base64") : null;
  }

  /** Ids in the dead letter with this error code (all of them, paging through; at most `max`). */
  async deadIds(code: string, max = 10_000): Promise<{ ids: string[]; complete: boolean }> {
    const ids: string[] = [];
    let offset = 0;
    for (;;) {
      const page = await this.jobs({ state: "dead_letter", code, offset, limit: VIEW_LIMITS.jobsLimit });
      ids.push(...page.rows.map((r) => r.id));
      if (ids.length >= max) return { ids: ids.slice(0, max), complete: false };
      if (page.next_offset >= page.total || page.scanned === 0) return { ids, complete: true };
      offset = page.next_offset;
    }
  }

  /** Deletes these jobs if they are (still) in the dead letter; returns how many went. */
  async purgeDead(ids: string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += 200) {
      const batch = ids.slice(i, i + 200);
      try {
        n += Number(await this.#purge.exec([], [this.#p, ...batch]));
      } catch (err) {
        throw queueUnavailable(err, "purge");
      }
    }
    return n;
  }

  async #json<T>(name: ViewName, argv: Array<string | number>): Promise<T> {
    let raw: unknown;
    try {
      raw = await this.#scripts[name].exec([], argv.map(String));
    } catch (err) {
      throw queueUnavailable(err, name);
    }
    return JSON.parse(String(raw)) as T;
  }
}

function createReadOnly(redis: Redis, src: string) {
  return redis.createScript<unknown, true>(src, { readonly: true });
}

function parseRecord(text: string): WorkerRecord | null {
  try {
    return JSON.parse(text) as WorkerRecord;
  } catch {
    return null;
  }
}
