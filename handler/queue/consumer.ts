import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log/logger.ts";
import { WorkerError, toErrorInfo, type ErrorInfo } from "../errors.ts";
import { IdleBackoff } from "./backoff.ts";
import { queuedJobSchema, type ClaimedJob, type QueuedJob } from "./job.ts";
import type { VoiceQueue } from "./queue.ts";
import type { WorkerRegistry } from "./registry.ts";

export interface JobContext {
  /** Aborted when the lease is lost or the worker shuts down: stop and throw. */
  signal: AbortSignal;
  /** Records stage and progress; sent with the next lease extension. */
  report(stage: string, progress: number): void;
  log: Logger;
}

export type JobHandler = (job: ClaimedJob & { payload: QueuedJob }, ctx: JobContext) => Promise<unknown>;

export interface ConsumerOptions {
  idleMinMs: number;
  idleMaxMs: number;
  /** How often a running job's lease is extended (default: a third of the lease). */
  extendEveryMs?: number;
  log: Logger;
}

export type JobOutcome = "done" | "retrying" | "dead" | "failed" | "released" | "abandoned";

/** Thrown into the handler's signal when the worker is stopping: the job is handed back. */
export class ShutdownAbort extends Error {
  constructor() {
    super("worker is shutting down");
    this.name = "ShutdownAbort";
  }
}

/**
 * Polls the queue (no blocking commands exist over REST), runs one job at a time through
 * the handler, keeps its lease alive, and records the outcome. Never throws out of `run`:
 * an unreachable Upstash is logged and retried with backoff.
 */
export class QueueConsumer {
  readonly #idle: IdleBackoff;
  #current: AbortController | null = null;

  constructor(
    private readonly queue: VoiceQueue,
    private readonly registry: WorkerRegistry,
    private readonly handler: JobHandler,
    private readonly opts: ConsumerOptions,
  ) {
    this.#idle = new IdleBackoff(opts.idleMinMs, opts.idleMaxMs);
  }

  /** Runs until `stop` is aborted; the job in hand is finished (or handed back by abortCurrent). */
  async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      let waitMs: number;
      try {
        const r = await this.processNext();
        if (r.outcome !== null) {
          this.#idle.reset();
          continue;
        }
        waitMs = this.#idle.next(r.nextDueAt === undefined ? undefined : r.nextDueAt - Date.now());
      } catch (err) {
        this.opts.log.warn({ err }, "queue unavailable; backing off");
        waitMs = this.#idle.next();
      }
      await sleep(waitMs, undefined, { signal: stop }).catch(() => undefined);
    }
  }

  /** Hands the running job back (graceful shutdown past its grace period). */
  abortCurrent(): void {
    this.#current?.abort(new ShutdownAbort());
  }

  /** Claims and processes one job. `outcome: null` when the queue had nothing ready. */
  async processNext(): Promise<{ outcome: JobOutcome | null; id?: string; nextDueAt?: number }> {
    const claimed = await this.queue.claim(this.registry.record.id, { workerRecord: this.registry.piggyback(), workerTtlMs: this.registry.ttlMs });
    if (!claimed.job) return { outcome: null, nextDueAt: claimed.nextDueAt };
    const job = claimed.job;
    const log = this.opts.log.child({ jobId: job.id, attempt: job.attempt });
    this.registry.jobStarted(job.id);

    const parsed = parsePayload(job.rawPayload);
    if ("error" in parsed) {
      log.warn({ code: parsed.error.code }, "invalid job payload: dead letter");
      return { outcome: await this.#fail(job, parsed.error, log), id: job.id };
    }

    const controller = new AbortController();
    this.#current = controller;
    let progress = { stage: "claimed", progress: 0 };
    let lost = false;
    const extendEvery = this.opts.extendEveryMs ?? Math.floor(this.queue.policy.leaseMs / 3);
    const timer = setInterval(() => {
      const record = this.registry.piggyback();
      this.queue
        .extendLease(job, progress, record ? { id: this.registry.record.id, record, ttlMs: this.registry.ttlMs } : undefined)
        .then((r) => {
          if (!r.ok && !lost) {
            lost = true;
            log.warn("lease lost (expired and re-delivered): abandoning the job");
            controller.abort(new WorkerError("lease_lost", "the job's lease was lost", { retryable: true }));
          }
        })
        .catch((err: unknown) => log.warn({ err }, "lease extension failed; will retry"));
    }, extendEvery);

    try {
      const result = await this.handler(
        { ...job, payload: parsed.payload },
        { signal: controller.signal, report: (stage, p) => (progress = { stage, progress: p }), log },
      );
      if (lost) return { outcome: "abandoned", id: job.id };
      const reply = await this.#persist("complete", () => this.queue.complete(job, result), log);
      if (!reply.ok) {
        log.warn({ state: reply.state }, "result refused: the lease was lost before completion");
        return { outcome: "abandoned", id: job.id };
      }
      this.registry.jobFinished(true);
      return { outcome: "done", id: job.id };
    } catch (err) {
      if (lost) return { outcome: "abandoned", id: job.id };
      if (controller.signal.reason instanceof ShutdownAbort) {
        await this.#persist("release", () => this.queue.release(job), log);
        log.info("job handed back on shutdown");
        return { outcome: "released", id: job.id };
      }
      const info = toErrorInfo(err);
      log.warn({ err }, "job attempt failed");
      return { outcome: await this.#fail(job, info, log), id: job.id };
    } finally {
      clearInterval(timer);
      this.#current = null;
    }
  }

  async #fail(job: ClaimedJob, info: ErrorInfo, log: Logger): Promise<JobOutcome> {
    const reply = await this.#persist("fail", () => this.queue.fail(job, info), log);
    this.registry.jobFinished(false);
    return reply.ok ? reply.outcome : "abandoned";
  }

  /**
   * Outcome writes are retried while the lease lasts: if Upstash stays unreachable the lease
   * expires and another worker re-runs the job (at-least-once), so nothing is lost.
   */
  async #persist<T>(op: string, fn: () => Promise<T>, log: Logger): Promise<T> {
    const deadline = Date.now() + this.queue.policy.leaseMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() + 1000 > deadline) throw err;
        log.warn({ err, attempt }, `${op} failed; retrying`);
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }
}

function parsePayload(raw: string): { payload: QueuedJob } | { error: ErrorInfo } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { error: { code: "invalid_job", message: "the queued payload is not valid JSON", retryable: false } };
  }
  const r = queuedJobSchema.safeParse(json);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join(".") || "(payload)"}: ${i.message}`).join("; ");
    return { error: { code: "invalid_job", message: `the queued payload fails the job schema: ${detail}`, retryable: false } };
  }
  return { payload: r.data };
}
