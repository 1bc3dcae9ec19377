import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { VoiceQueue } from "./queue.ts";
import { queueUnavailable } from "./redis.ts";

export interface GpuStats {
  name: string;
  memory_used_mb: number;
  memory_total_mb: number;
  utilization_pct: number;
}

export interface WorkerRecord {
  id: string;
  host: string;
  mode: string;
  device: string;
  compute_type: string;
  fallback_reason: string | null;
  gpu: GpuStats | null;
  current_job: string | null;
  jobs_done: number;
  jobs_failed: number;
  started_at: number;
  updated_at: number;
  version: string;
}

export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/**
 * A live list of workers, as operators of GPU pools expect: each worker's record lives under
 * a key with a TTL of 3 heartbeat intervals. To keep an idle worker's Upstash bill low the
 * record rides along with calls the worker makes anyway (claim, lease extension); a timer
 * writes it on its own only when nothing else did.
 */
export class WorkerRegistry {
  readonly record: WorkerRecord;
  #lastWrite = 0;
  #gpuAt = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: VoiceQueue,
    init: Pick<WorkerRecord, "id" | "mode" | "version"> & Partial<WorkerRecord>,
    readonly intervalMs: number,
    private readonly gpuStats: () => Promise<GpuStats | null> = async () => null,
    private readonly now: () => number = Date.now,
    /** Live facts read at every write (the device can change: a CUDA failure falls back to CPU). */
    private readonly describe: () => Partial<WorkerRecord> = () => ({}),
  ) {
    this.record = {
      host: hostname(),
      device: "unknown",
      compute_type: "unknown",
      fallback_reason: null,
      gpu: null,
      current_job: null,
      jobs_done: 0,
      jobs_failed: 0,
      started_at: now(),
      updated_at: now(),
      ...init,
    };
  }

  get ttlMs(): number {
    return this.intervalMs * 3;
  }

  /** The record to send with the next claim/extension, or "" when it is not due yet. */
  piggyback(): string {
    if (this.now() - this.#lastWrite < this.intervalMs) return "";
    return this.#snapshot();
  }

  #snapshot(): string {
    this.#lastWrite = this.now();
    Object.assign(this.record, this.describe(), { updated_at: this.#lastWrite });
    return JSON.stringify(this.record);
  }

  jobStarted(id: string): void {
    this.record.current_job = id;
  }

  jobFinished(ok: boolean): void {
    this.record.current_job = null;
    if (ok) this.record.jobs_done++;
    else this.record.jobs_failed++;
  }

  /** Standalone write (2 commands), only if no claim or extension carried the record lately. */
  async heartbeat(force = false): Promise<void> {
    if (this.now() - this.#gpuAt >= this.intervalMs) {
      this.#gpuAt = this.now();
      this.record.gpu = await this.gpuStats().catch(() => null);
    }
    if (!force && this.now() - this.#lastWrite < this.intervalMs * 1.5) return;
    const record = this.#snapshot();
    const p = this.queue.prefix;
    try {
      const tx = this.queue.redis.multi();
      tx.set(`${p}worker:${this.record.id}`, record, { px: this.ttlMs });
      tx.zadd(`${p}workers`, { score: this.#lastWrite, member: this.record.id });
      await tx.exec();
    } catch (err) {
      throw queueUnavailable(err, "worker heartbeat");
    }
  }

  start(onError: (err: unknown) => void): void {
    this.#timer = setInterval(() => void this.heartbeat().catch(onError), Math.max(250, Math.floor(this.intervalMs / 2)));
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const p = this.queue.prefix;
    try {
      await this.queue.redis.del(`${p}worker:${this.record.id}`);
      await this.queue.redis.zrem(`${p}workers`, this.record.id);
    } catch {
      // The record expires on its own; shutdown must not hang on it.
    }
  }
}

/** Live workers (records whose TTL has not run out); forgotten ids are pruned. */
export async function listWorkers(queue: VoiceQueue): Promise<WorkerRecord[]> {
  const p = queue.prefix;
  try {
    const ids = await queue.redis.zrange<string[]>(`${p}workers`, 0, -1);
    if (ids.length === 0) return [];
    const raw = await queue.redis.mget<Array<string | null>>(...ids.map((id) => `${p}worker:${id}`));
    const gone = ids.filter((_, i) => raw[i] === null);
    if (gone.length) await queue.redis.zrem(`${p}workers`, ...gone);
    return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as WorkerRecord);
  } catch (err) {
    throw queueUnavailable(err, "list workers");
  }
}
