import { scrubMessage } from "./log/scrub.ts";

/**
 * The one error type that crosses stage boundaries. `code` is stable (clients and the queue's
 * dead-letter logic switch on it); `message` is for humans and already scrubbed of secrets.
 * `retryable` tells the queue whether another attempt can succeed.
 */
export class WorkerError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, opts: { retryable: boolean; cause?: unknown; details?: Record<string, unknown> }) {
    super(scrubMessage(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "WorkerError";
    this.code = code;
    this.retryable = opts.retryable;
    if (opts.details) this.details = opts.details;
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export interface ErrorInfo {
  code: string;
  message: string;
  retryable: boolean;
}

/** Any thrown value as the `{code, message, retryable}` the queue and results store. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof WorkerError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  // Unknown failures are retried: a bug or a transient fault must not dead-letter user data at once.
  return { code: "internal_error", message: scrubMessage(message), retryable: true };
}

/**
 * The abort reason given to running jobs when the worker stops past its grace period: the job
 * is handed back (queue: outcome `handed_back`, the attempt not counted; RunPod: no result posted).
 */
export class ShutdownAbort extends Error {
  constructor() {
    super("worker is shutting down");
    this.name = "ShutdownAbort";
  }
}
