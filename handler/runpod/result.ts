import { WorkerError, toErrorInfo } from "../errors.ts";
import { scrubMessage } from "../log/scrub.ts";

/**
 * The runpod-python version whose protocol this worker speaks; sent as `runpod_version` on the
 * heartbeat and in error reports (the platform keys features such as job-stop on it).
 */
export const RUNPOD_PROTOCOL_VERSION = "1.12.0";

/** A job-done body: `output`, or `error` (a string in the SDK's format), and `stopPod` for refresh_worker. */
export interface JobDoneBody {
  output?: unknown;
  error?: unknown;
  stopPod?: true;
}

export interface ErrorContext {
  hostname: string;
  workerId: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * A handler's return value as the SDK's `run_job` turns it into a job-done body: from a plain
 * object, `error` moves to the top level (the job then fails with it) and `refresh_worker: true`
 * becomes `stopPod`; an empty object leaves no `output`.
 */
export function successBody(output: unknown, refreshWorker = false): JobDoneBody {
  const body: JobDoneBody = {};
  if (isPlainObject(output)) {
    const { error, refresh_worker: refresh, ...rest } = output;
    if (Object.keys(rest).length > 0) body.output = rest;
    if (error !== undefined && error !== null && error !== "" && error !== false) body.error = error;
    if (refresh === true) body.stopPod = true;
  } else {
    body.output = output === undefined ? null : output;
  }
  if (refreshWorker) body.stopPod = true;
  return body;
}

/**
 * The job-done body of a streamed job. runpod-python 1.12 (rp_job.py, handle_job) posts a
 * generator handler's end with `isStream=true` and `{"output": [...]}`: the outputs of every
 * chunk when the handler sets `return_aggregate_stream`, else an empty list; an error replaces
 * the list. This worker always aggregates and streams its full result as the last chunk, so
 * `/status` and `/runsync` still hand the whole result over (as the list's last element).
 */
export function streamedBody(chunks: readonly unknown[], final: JobDoneBody): JobDoneBody {
  const body: JobDoneBody = final.error !== undefined ? { error: final.error } : { output: [...chunks] };
  if (final.stopPod) body.stopPod = true;
  return body;
}

/**
 * A thrown error as the SDK reports it: `error` is the JSON text of {error_type, error_message,
 * error_traceback, hostname, worker_id, runpod_version}. Our stable WorkerError code is the
 * `error_type` (the SDK puts the Python class there), and `retryable` is added alongside.
 * A WorkerError with `details.refresh_worker === true` also asks for a fresh worker.
 */
export function errorBody(err: unknown, ctx: ErrorContext, refreshWorker = false): JobDoneBody {
  const info = toErrorInfo(err);
  const stack = err instanceof Error && err.stack ? scrubMessage(err.stack, 4000) : "";
  const report = {
    error_type: info.code,
    error_message: info.message,
    error_traceback: stack,
    hostname: ctx.hostname,
    worker_id: ctx.workerId,
    runpod_version: RUNPOD_PROTOCOL_VERSION,
    retryable: info.retryable,
  };
  const body: JobDoneBody = { error: JSON.stringify(report) };
  if (refreshWorker || (err instanceof WorkerError && err.details?.refresh_worker === true)) body.stopPod = true;
  return body;
}

/** The error report inside a body built by `errorBody`, or null for any other error value. */
export function parseErrorReport(error: unknown): Record<string, unknown> | null {
  if (typeof error !== "string") return null;
  try {
    const parsed: unknown = JSON.parse(error);
    return isPlainObject(parsed) && typeof parsed.error_type === "string" ? parsed : null;
  } catch {
    return null;
  }
}
