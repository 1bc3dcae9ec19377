import { randomUUID } from "node:crypto";

export type DevJobStatus = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "CANCELLED" | "TIMED_OUT";
const TERMINAL: ReadonlySet<DevJobStatus> = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]);
export const isTerminal = (s: DevJobStatus) => TERMINAL.has(s);

export interface DevJob {
  id: string;
  input: unknown;
  /** Extra keys the platform sends with the job (webhook, policy...). */
  extra: Record<string, unknown>;
  status: DevJobStatus;
  createdAt: number;
  startedAt?: number;
  completedAt?: number;
  workerId?: string;
  output?: unknown;
  error?: unknown;
  /** Latest IN_PROGRESS update. */
  progress?: unknown;
  stopPod?: boolean;
  /** Stream chunks, in arrival order; `streamRead` of them were already returned by /stream. */
  stream: unknown[];
  streamRead: number;
  /** Final job-done bodies accepted (a result delivered twice shows up here as 2). */
  deliveries: number;
  /** Times the job was re-queued after its worker was lost. */
  retries: number;
}

export interface DevWorker {
  id: string;
  pings: Array<{ at: number; jobIds: string[]; version: string | null }>;
  lastSeen: number;
  held: Set<string>;
  /** Jobs the client cancelled while this worker held them: sent on its next job-stop poll. */
  stops: Set<string>;
}

/** The dev server's memory: jobs, the queue, the workers, and wake-ups for the long polls. */
export class DevStore {
  /** `now`: the clock of the records (job times, pings, last seen); long-poll waits use real time. */
  constructor(readonly now: () => number = Date.now) {}

  readonly jobs = new Map<string, DevJob>();
  readonly queue: string[] = [];
  readonly workers = new Map<string, DevWorker>();
  #waiters = new Set<() => void>();

  /** Wakes every long poll (job-take, job-stop, runsync, status-sync, stream) to re-check its condition. */
  changed(): void {
    const w = [...this.#waiters];
    this.#waiters.clear();
    for (const fn of w) fn();
  }

  /** Waits until `ready()` or `ms` pass or `gone()` (the client hung up); returns `ready()`. */
  async waitFor(ready: () => boolean, ms: number, gone: () => boolean = () => false): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!ready() && !gone()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 250));
        this.#waiters.add(done);
      });
    }
    return ready();
  }

  add(input: unknown, extra: Record<string, unknown> = {}, id = `${randomUUID()}-u1`): DevJob {
    const job: DevJob = { id, input, extra, status: "IN_QUEUE", createdAt: this.now(), stream: [], streamRead: 0, deliveries: 0, retries: 0 };
    this.jobs.set(id, job);
    this.queue.push(id);
    this.changed();
    return job;
  }

  /** A job handed straight to a worker, bypassing the queue (the malformed-job fault uses it). */
  assign(workerId: string, input: unknown, id: string): DevJob {
    const now = this.now();
    const job: DevJob = {
      id,
      input,
      extra: {},
      status: "IN_PROGRESS",
      createdAt: now,
      startedAt: now,
      workerId,
      stream: [],
      streamRead: 0,
      deliveries: 0,
      retries: 0,
    };
    this.jobs.set(id, job);
    this.worker(workerId).held.add(id);
    return job;
  }

  worker(id: string): DevWorker {
    let w = this.workers.get(id);
    if (!w) {
      w = { id, pings: [], lastSeen: this.now(), held: new Set(), stops: new Set() };
      this.workers.set(id, w);
    }
    w.lastSeen = this.now();
    return w;
  }

  /** Hands up to `n` queued jobs to `workerId`. */
  take(workerId: string, n: number): DevJob[] {
    const w = this.worker(workerId);
    const out: DevJob[] = [];
    while (out.length < n && this.queue.length > 0) {
      const job = this.jobs.get(this.queue.shift() as string);
      if (!job || job.status !== "IN_QUEUE") continue;
      job.status = "IN_PROGRESS";
      job.startedAt = this.now();
      job.workerId = workerId;
      w.held.add(job.id);
      out.push(job);
    }
    return out;
  }

  finish(job: DevJob, status: DevJobStatus): void {
    job.status = status;
    job.completedAt = this.now();
    if (job.workerId) this.workers.get(job.workerId)?.held.delete(job.id);
    this.changed();
  }

  cancel(job: DevJob): void {
    if (isTerminal(job.status)) return;
    if (job.status === "IN_QUEUE") {
      const at = this.queue.indexOf(job.id);
      if (at >= 0) this.queue.splice(at, 1);
    } else if (job.workerId) {
      this.workers.get(job.workerId)?.stops.add(job.id);
    }
    this.finish(job, "CANCELLED");
  }

  /** What the platform does when a worker disappears: its unfinished jobs go back to the queue. */
  requeueJobsOf(workerId: string): string[] {
    const w = this.workers.get(workerId);
    if (!w) return [];
    const ids: string[] = [];
    for (const id of w.held) {
      const job = this.jobs.get(id);
      if (!job || job.status !== "IN_PROGRESS") continue;
      Object.assign(job, { status: "IN_QUEUE", startedAt: undefined, workerId: undefined, progress: undefined });
      job.retries++;
      this.queue.unshift(id);
      ids.push(id);
    }
    w.held.clear();
    this.changed();
    return ids;
  }

  purge(): number {
    let removed = 0;
    for (const id of this.queue.splice(0)) {
      const job = this.jobs.get(id);
      if (job?.status === "IN_QUEUE") {
        this.jobs.delete(id);
        removed++;
      }
    }
    this.changed();
    return removed;
  }

  /** A job as `/status` shows it, with the SDK's `delayTime`/`executionTime` in milliseconds. */
  view(job: DevJob): Record<string, unknown> {
    const v: Record<string, unknown> = { id: job.id, status: job.status };
    if (job.startedAt !== undefined) v.delayTime = job.startedAt - job.createdAt;
    if (job.startedAt !== undefined && job.completedAt !== undefined) v.executionTime = job.completedAt - job.startedAt;
    if (job.workerId) v.workerId = job.workerId;
    if (job.status === "IN_PROGRESS" && job.progress !== undefined) v.output = job.progress;
    if (job.output !== undefined && isTerminal(job.status)) v.output = job.output;
    if (job.error !== undefined) v.error = job.error;
    if (job.retries > 0) v.retries = job.retries;
    return v;
  }
}
