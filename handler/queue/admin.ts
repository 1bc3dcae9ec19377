import type { Redis } from "@upstash/redis";
import { WorkerError } from "../errors.ts";
import { setOfState } from "./keys.ts";
import { queueUnavailable } from "./redis.ts";
import { QueueScripts } from "./scripts.ts";
import { PRIORITY_BAND, type JobState, type JobStatus } from "./job.ts";
import type { VoiceQueue } from "./queue.ts";

export interface QueueStats {
  queued: number;
  active: number;
  retrying: number;
  dead: number;
  failed: number;
  done_last_5m: number;
  done_last_60m: number;
  done_total: number;
  oldest_waiting_ms: number | null;
}

const NUMERIC = new Set(["attempts", "created_at", "updated_at", "claimed_at", "finished_at", "not_before", "lease_until", "progress"]);
/** The job record fields an operator sees (never the payload, lease token or audio key). */
export const STATUS_FIELDS = [
  "id",
  "state",
  "priority",
  "attempts",
  "created_at",
  "updated_at",
  "claimed_at",
  "finished_at",
  "not_before",
  "lease_until",
  "worker",
  "stage",
  "progress",
  "last_error",
] as const;

export function toStatus(values: Array<string | null>): JobStatus | null {
  if (!values[0]) return null;
  const out: Record<string, unknown> = {};
  STATUS_FIELDS.forEach((f, i) => {
    const v = values[i];
    if (v === null || v === undefined || v === "") return;
    if (NUMERIC.has(f)) out[f] = Number(v);
    else if (f === "last_error") out[f] = safeJson(v);
    else out[f] = v;
  });
  return out as unknown as JobStatus;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Operator views and actions (the queue CLI). Reads may take several commands; they are rare. */
export class QueueAdmin {
  readonly #scripts: QueueScripts;
  readonly #redis: Redis;
  readonly #p: string;

  constructor(
    private readonly queue: VoiceQueue,
    private readonly now: () => number = Date.now,
  ) {
    this.#redis = queue.redis;
    this.#p = queue.prefix;
    this.#scripts = new QueueScripts(queue.redis);
  }

  async stats(): Promise<QueueStats> {
    const now = this.now();
    const s = await this.#scripts.json<Omit<QueueStats, "oldest_waiting_ms"> & { oldest_queued_at?: number | false }>("stats", [this.#p, now, PRIORITY_BAND]);
    const { oldest_queued_at, ...counts } = s;
    return { ...counts, oldest_waiting_ms: typeof oldest_queued_at === "number" ? now - oldest_queued_at : null };
  }

  async status(id: string): Promise<JobStatus | null> {
    // With automatic deserialization off (see redis.ts) HMGET comes back as the raw array.
    const values = (await this.#call("status", () => this.#redis.hmget(`${this.#p}job:${id}`, ...STATUS_FIELDS))) as unknown;
    return Array.isArray(values) ? toStatus(values as Array<string | null>) : null;
  }

  async result(id: string): Promise<unknown> {
    const raw = await this.#call("result", () => this.#redis.get<string>(`${this.#p}result:${id}`));
    return raw === null ? null : safeJson(raw);
  }

  async list(state?: JobState, limit = 50): Promise<JobStatus[]> {
    const sets = state ? [setOfState[state]] : (["leases", "ready", "delayed", "dead", "done"] as const);
    const ids: string[] = [];
    for (const set of new Set(sets)) {
      ids.push(...(await this.#call("list", () => this.#redis.zrange<string[]>(`${this.#p}${set}`, 0, limit - 1))));
    }
    const rows = await Promise.all(ids.slice(0, limit).map((id) => this.status(id)));
    return rows.filter((r): r is JobStatus => r !== null && (!state || r.state === state));
  }

  async deadLetter(limit = 100): Promise<JobStatus[]> {
    const ids = await this.#call("errors", () => this.#redis.zrange<string[]>(`${this.#p}dead`, 0, limit - 1, { rev: true }));
    const rows = await Promise.all(ids.map((id) => this.status(id)));
    return rows.filter((r): r is JobStatus => r !== null);
  }

  async retry(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.#scripts.raw("retry", [this.#p, this.now(), ...ids]));
  }

  async retryAllDead(): Promise<number> {
    let moved = 0;
    for (;;) {
      const ids = await this.#call("retry", () => this.#redis.zrange<string[]>(`${this.#p}dead`, 0, 199));
      if (ids.length === 0) return moved;
      const n = await this.retry(ids);
      moved += n;
      if (n === 0) return moved;
    }
  }

  /** Deletes jobs (records, results, stored audio) in the given states, or all of them. */
  async purge(state?: JobState): Promise<number> {
    const sets = state ? [setOfState[state]] : ["ready", "delayed", "leases", "dead", "done"];
    if (state === "dead" || state === "failed") {
      throw new WorkerError("invalid_usage", "purge dead and failed together with --state dead-letter, or purge everything", { retryable: false });
    }
    let total = 0;
    for (const set of new Set(sets)) {
      for (;;) {
        const n = Number(await this.#scripts.raw("purge", [this.#p, set, 200]));
        total += n;
        if (n === 0) break;
      }
    }
    return total;
  }

  async purgeDeadLetter(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = Number(await this.#scripts.raw("purge", [this.#p, "dead", 200]));
      total += n;
      if (n === 0) return total;
    }
  }

  async #call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw queueUnavailable(err, op);
    }
  }
}
