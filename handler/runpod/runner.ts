import type { Logger } from "../log/logger.ts";

/** What a running job can use: its cancellation signal, progress and stream channels, its logger. */
export interface RunnerContext {
  /** Aborted by a job-stop (reason: JobStopped): stop now, no result is posted. */
  signal: AbortSignal;
  /**
   * Aborted when the worker shuts down: finish this job (its result is still posted) but start
   * nothing new in it (a drain job claims no further queue jobs).
   */
  stopping: AbortSignal;
  /** Latest progress; posted as `IN_PROGRESS` (at most one post in flight, the latest wins). */
  progress(update: unknown): void;
  /**
   * One stream chunk; posted in order to the job-stream URL. A job that streams ends the SDK's
   * streaming way: its full result is streamed as the last chunk, and the job-done post
   * (`isStream=true`) carries the list of every chunk, as runpod-python does for a generator
   * handler with `return_aggregate_stream`.
   */
  stream(chunk: unknown): void;
  /** Declares the job a streaming one (its input asked for it), so it ends that way even if no chunk comes. */
  streaming(): void;
  log: Logger;
}

export interface RunpodJob {
  id: string;
  input: unknown;
}

/**
 * The pipeline, seen from the RunPod loop and the test modes (--test_input, --serve-api). `run` validates the input itself
 * and throws a WorkerError (stable `code`, `message`, `retryable`) on failure; heavy work must
 * run in child processes so the heartbeat timer is never starved.
 */
export interface JobRunner {
  run(job: RunpodJob, ctx: RunnerContext): Promise<unknown>;
}

/** Abort reason of a job the platform asked to stop (job-stop / cancel): no result is posted. */
export class JobStopped extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} was stopped by the platform`);
    this.name = "JobStopped";
  }
}
