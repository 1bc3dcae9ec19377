import { WorkerError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { deliverResult, postChunk, postProgress, type Poster } from "./deliver.ts";
import { errorBody, streamedBody, successBody, type ErrorContext, type JobDoneBody } from "./result.ts";
import { JobStopped, type JobRunner, type RunnerContext, type RunpodJob } from "./runner.ts";
import type { RejectedJob } from "./take.ts";

/** Largest stream chunk the platform accepts. */
export const MAX_STREAM_CHUNK_BYTES = 1024 * 1024;

export type RunpodJobOutcome = "completed" | "failed" | "stopped" | "spooled" | "undeliverable";

export interface JobIo extends Poster {
  log: Logger;
  errorContext: ErrorContext;
  refreshWorker: boolean;
  /** Why this host is broken (the result then carries stopPod), or null. */
  hostBroken: () => string | null;
  /** Told when a result asks for a fresh worker because the host is broken. */
  onRefresh: (reason: string) => void;
}

/** Progress updates: at most one post in flight; while it runs, newer updates replace older ones. */
class LatestWins {
  #pending: { value: unknown } | null = null;
  #running: Promise<void> | null = null;
  constructor(private readonly send: (value: unknown) => Promise<void>) {}

  push(value: unknown): void {
    this.#pending = { value };
    this.#running ??= this.#pump();
  }

  async #pump(): Promise<void> {
    while (this.#pending) {
      const { value } = this.#pending;
      this.#pending = null;
      await this.send(value).catch(() => undefined);
    }
    this.#running = null;
  }

  /** Drops what is queued and waits for the post in flight, so no progress lands after the result. */
  async close(): Promise<void> {
    this.#pending = null;
    await this.#running;
  }
}

/**
 * Runs one job through the runner and answers the platform: the result (or the SDK-format error)
 * after every progress and stream post has settled. A job stopped by the platform gets no
 * answer. `stopping` (shutdown) is only passed on: the job still runs to its end and posts.
 */
export async function executeJob(job: RunpodJob, runner: JobRunner, controller: AbortController, stopping: AbortSignal, io: JobIo): Promise<RunpodJobOutcome> {
  const log = io.log.child({ jobId: job.id });
  let closed = false;
  let streaming = false;
  let warnedNoStream = false;
  const aggregate: unknown[] = [];
  let chunks: Promise<void> = Promise.resolve();
  const progress = new LatestWins((update) => postProgress(io, job.id, update, log));
  const live = () => !closed && !controller.signal.aborted;
  const sendChunk = (chunk: unknown) => {
    aggregate.push(chunk);
    const url = io.urls.stream(job.id);
    if (!url) {
      if (!warnedNoStream) log.warn("RUNPOD_WEBHOOK_POST_STREAM is not set: stream chunks are only in the final output");
      warnedNoStream = true;
      return;
    }
    const size = Buffer.byteLength(JSON.stringify({ output: chunk }) ?? "");
    if (size > MAX_STREAM_CHUNK_BYTES) {
      log.warn({ size }, "stream chunk over the platform's 1 MB limit: not streamed (the final output still has it)");
      return;
    }
    chunks = chunks.then(() => postChunk(io, url, job.id, chunk, log));
  };

  const ctx: RunnerContext = {
    signal: controller.signal,
    stopping,
    log,
    progress: (update) => {
      if (live()) progress.push(update);
    },
    stream: (chunk) => {
      if (!live()) return;
      streaming = true;
      sendChunk(chunk);
    },
    streaming: () => {
      streaming = true;
    },
  };

  const started = Date.now();
  log.info("job started");
  let body: JobDoneBody;
  let failure: unknown = null;
  try {
    body = successBody(await runner.run(job, ctx), io.refreshWorker);
  } catch (err) {
    failure = err ?? new Error("job failed without an error value");
    body = {};
  }
  closed = true;
  await progress.close();
  const stopped = controller.signal.aborted && controller.signal.reason instanceof JobStopped;
  // The full result is the stream's last chunk, so stream readers get it too.
  if (streaming && !stopped && failure === null && body.error === undefined && "output" in body) sendChunk(body.output);
  await chunks;

  if (stopped) {
    log.info({ ms: Date.now() - started }, "job stopped by the platform: no result posted");
    return "stopped";
  }
  if (failure !== null) {
    body = errorBody(failure, io.errorContext, io.refreshWorker);
    log.warn({ err: failure, ms: Date.now() - started }, "job failed");
  } else {
    log.info({ ms: Date.now() - started, streamed: streaming ? aggregate.length : undefined }, "job done");
  }
  const broken = io.hostBroken();
  if (broken !== null) body.stopPod = true;
  if (streaming) body = streamedBody(aggregate, body);
  if (broken !== null) io.onRefresh(broken);
  const delivery = await deliverResult(io, job.id, body, streaming, log);
  if (delivery === "spooled") return "spooled";
  if (delivery === "lost") return "undeliverable";
  return failure !== null || body.error !== undefined ? "failed" : "completed";
}

/** A malformed job that has an id is answered with an SDK-format error, so its client is not left waiting. */
export async function answerRejected(rejected: RejectedJob & { id: string }, io: JobIo): Promise<void> {
  const err = new WorkerError("invalid_job", `the platform sent a malformed job: ${rejected.reason}`, { retryable: false });
  await deliverResult(io, rejected.id, errorBody(err, io.errorContext), false, io.log.child({ jobId: rejected.id }));
}
