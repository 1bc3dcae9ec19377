import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log/logger.ts";
import { ShutdownAbort, WorkerError, toErrorInfo, type ErrorInfo } from "../errors.ts";
export { ShutdownAbort } from "../errors.ts";
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

export type QueueJob = ClaimedJob & { payload: QueuedJob };

/**
 * A job in two steps: `prepare` (I/O: download, decode) and `execute` (the engine). While one
 * job executes, the consumer claims and prepares the next, so the engine never waits for I/O.
 * A plain function is a handler with nothing to prepare.
 */
export type JobHandler =
  | ((job: QueueJob, ctx: JobContext) => Promise<unknown>)
  | { prepare(job: QueueJob, ctx: JobContext): Promise<unknown>; execute(job: QueueJob, prepared: unknown, ctx: JobContext): Promise<unknown> };

export interface ConsumerOptions {
  idleMinMs: number;
  idleMaxMs: number;
  /** How often a running job's lease is extended (default: a third of the lease). */
  extendEveryMs?: number;
  log: Logger;
}

/**
 * What became of one claimed job. `handed_back`: given back to the queue to be redone, without
 * counting the attempt (shutdown, or a drain that stopped); `abandoned`: the lease was lost or the
 * outcome could not be written, so the lease decides (the job is re-delivered).
 */
export type QueueJobOutcome = "done" | "retrying" | "dead" | "failed" | "handed_back" | "abandoned";

interface InFlight {
  job: QueueJob;
  log: Logger;
  controller: AbortController;
  ctx: JobContext;
  lost: boolean;
  timer: NodeJS.Timeout;
  /** Settles when `prepare` has (the moment to prefetch the next job). */
  prepared: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
}

type Claimed = { inflight: InFlight } | { outcome: QueueJobOutcome; id: string } | { empty: true; nextDueAt?: number };

/**
 * Polls the queue (there are no blocking commands over REST), runs jobs through the handler
 * with a one-job prefetch, keeps leases alive and records outcomes. `run` never throws: an
 * unreachable Upstash is logged and retried with backoff.
 */
export class QueueConsumer {
  readonly #idle: IdleBackoff;
  readonly #inflight = new Set<InFlight>();
  readonly #prepare: (job: QueueJob, ctx: JobContext) => Promise<unknown>;
  readonly #execute: (job: QueueJob, prepared: unknown, ctx: JobContext) => Promise<unknown>;

  constructor(
    private readonly queue: VoiceQueue,
    private readonly registry: WorkerRegistry,
    handler: JobHandler,
    private readonly opts: ConsumerOptions,
  ) {
    this.#idle = new IdleBackoff(opts.idleMinMs, opts.idleMaxMs);
    if (typeof handler === "function") {
      this.#prepare = async () => undefined;
      this.#execute = (job, _p, ctx) => handler(job, ctx);
    } else {
      this.#prepare = (job, ctx) => handler.prepare(job, ctx);
      this.#execute = (job, p, ctx) => handler.execute(job, p, ctx);
    }
  }

  /**
   * Runs until `stop` is aborted, or, with `limits`, until the queue is empty or a limit is hit
   * (the RunPod drain job). The job in hand is finished; a prefetched one is handed back.
   */
  async run(stop: AbortSignal, limits?: { maxJobs?: number; untilEmpty?: boolean; deadline?: number }): Promise<Record<QueueJobOutcome, number>> {
    const counts: Record<QueueJobOutcome, number> = { done: 0, retrying: 0, dead: 0, failed: 0, handed_back: 0, abandoned: 0 };
    let handled = 0;
    const more = () =>
      !stop.aborted && (limits?.maxJobs === undefined || handled < limits.maxJobs) && (limits?.deadline === undefined || Date.now() < limits.deadline);
    let next: Claimed | null = null;
    while (next !== null || more()) {
      let claimed: Claimed;
      try {
        claimed = next ?? (await this.#claim());
      } catch (err) {
        this.opts.log.warn({ err }, "queue unavailable; backing off");
        await sleep(this.#idle.next(), undefined, { signal: stop }).catch(() => undefined);
        continue;
      }
      next = null;
      if ("empty" in claimed) {
        if (limits?.untilEmpty) break;
        const waitMs = this.#idle.next(claimed.nextDueAt === undefined ? undefined : claimed.nextDueAt - Date.now());
        await sleep(waitMs, undefined, { signal: stop }).catch(() => undefined);
        continue;
      }
      this.#idle.reset();
      handled++;
      if ("outcome" in claimed) {
        counts[claimed.outcome]++;
        continue;
      }
      const current = claimed.inflight;
      const finished = this.#finish(current);
      await current.prepared;
      if (more()) next = await this.#claim().catch(() => null); // prefetch while the engine works
      const outcome = await finished;
      counts[outcome]++;
      // Stopping, or a drain's limit reached: the prefetched job goes back without counting.
      if (!more() && next && "inflight" in next) {
        counts[await this.#handBack(next.inflight)]++;
        next = null;
      }
    }
    return counts;
  }

  /** Hands running jobs back (graceful shutdown past its grace period). */
  abortCurrent(): void {
    for (const f of this.#inflight) f.controller.abort(new ShutdownAbort());
  }

  /** Claims and processes one job, without prefetch. `outcome: null` when nothing was ready. */
  async processNext(): Promise<{ outcome: QueueJobOutcome | null; id?: string; nextDueAt?: number }> {
    const claimed = await this.#claim();
    if ("empty" in claimed) return { outcome: null, nextDueAt: claimed.nextDueAt };
    if ("outcome" in claimed) return claimed;
    return { outcome: await this.#finish(claimed.inflight), id: claimed.inflight.job.id };
  }

  async #claim(): Promise<Claimed> {
    const claimed = await this.queue.claim(this.registry.record.id, { workerRecord: this.registry.piggyback(), workerTtlMs: this.registry.ttlMs });
    if (!claimed.job) return { empty: true, nextDueAt: claimed.nextDueAt };
    const raw = claimed.job;
    const log = this.opts.log.child({ jobId: raw.id, attempt: raw.attempt });
    const parsed = parsePayload(raw.rawPayload);
    if ("error" in parsed) {
      log.warn({ code: parsed.error.code }, "invalid job payload: dead letter");
      return { outcome: await this.#fail(raw, parsed.error, log), id: raw.id };
    }
    const job: QueueJob = { ...raw, payload: parsed.payload };
    const controller = new AbortController();
    let progress = { stage: "claimed", progress: 0 };
    const ctx: JobContext = { signal: controller.signal, report: (stage, p) => (progress = { stage, progress: p }), log };
    const inflight: InFlight = {
      job,
      log,
      controller,
      ctx,
      lost: false,
      timer: undefined as unknown as NodeJS.Timeout,
      prepared: Promise.resolve({ ok: true, value: undefined }),
    };
    inflight.timer = setInterval(
      () => {
        const record = this.registry.piggyback();
        this.queue
          .extendLease(job, progress, record ? { id: this.registry.record.id, record, ttlMs: this.registry.ttlMs } : undefined)
          .then((r) => {
            if (!r.ok && !inflight.lost) {
              inflight.lost = true;
              log.warn("lease lost (expired and re-delivered): abandoning the job");
              controller.abort(new WorkerError("lease_lost", "the job's lease was lost", { retryable: true }));
            }
          })
          .catch((err: unknown) => log.warn({ err }, "lease extension failed; will retry"));
      },
      this.opts.extendEveryMs ?? Math.floor(this.queue.policy.leaseMs / 3),
    );
    inflight.prepared = this.#prepare(job, ctx).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.#inflight.add(inflight);
    return { inflight };
  }

  async #finish(f: InFlight): Promise<QueueJobOutcome> {
    const { job, log, controller } = f;
    let result: unknown;
    try {
      const prepared = await f.prepared;
      if (!prepared.ok) throw prepared.error;
      this.registry.jobStarted(job.id); // now the engine works on it (a prefetched job only waited)
      result = await this.#execute(job, prepared.value, f.ctx);
    } catch (err) {
      this.#stop(f);
      if (f.lost) return "abandoned";
      if (controller.signal.reason instanceof ShutdownAbort) return this.#handBack(f);
      log.warn({ err }, "job attempt failed");
      return await this.#fail(job, toErrorInfo(err), log);
    }
    this.#stop(f);
    if (f.lost) return "abandoned";
    try {
      const reply = await this.#persist("complete", () => this.queue.complete(job, result), log);
      if (!reply.ok) {
        log.warn({ state: reply.state }, "result refused: the lease was lost before completion");
        return "abandoned";
      }
    } catch (err) {
      // The result is computed but cannot be stored: not a failed attempt. The lease expires
      // and the job is re-delivered (at-least-once).
      log.error({ err }, "could not store the result (queue unreachable): the job will be re-delivered");
      return "abandoned";
    }
    this.registry.jobFinished(true);
    return "done";
  }

  async #handBack(f: InFlight): Promise<QueueJobOutcome> {
    this.#stop(f);
    f.controller.abort(new ShutdownAbort());
    this.registry.record.current_job = null;
    try {
      await this.#persist("hand back", () => this.queue.handBack(f.job), f.log);
    } catch (err) {
      f.log.error({ err }, "could not hand the job back (queue unreachable): its lease will expire and it will be re-delivered");
      return "abandoned";
    }
    f.log.info("job handed back on shutdown");
    return "handed_back";
  }

  #stop(f: InFlight): void {
    clearInterval(f.timer);
    this.#inflight.delete(f);
  }

  /** Never throws: an outcome that cannot be written is left to the lease (the job is re-delivered). */
  async #fail(job: ClaimedJob, info: ErrorInfo, log: Logger): Promise<QueueJobOutcome> {
    this.registry.jobFinished(false);
    try {
      const reply = await this.#persist("fail", () => this.queue.fail(job, info), log);
      return reply.ok ? reply.outcome : "abandoned";
    } catch (err) {
      log.error({ err, code: info.code }, "could not record the failed attempt (queue unreachable): its lease will expire and it will be re-delivered");
      return "abandoned";
    }
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
