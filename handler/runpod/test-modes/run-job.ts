import { hostname } from "node:os";
import type { Logger } from "../../log/logger.ts";
import { errorBody, streamedBody, successBody } from "../result.ts";
import type { JobRunner, RunpodJob } from "../runner.ts";

/** What a test-mode run reports, in the shape of RunPod's `/runsync` (and the SDK's test API). */
export interface TestModeJobResult {
  id: string;
  status: "COMPLETED" | "FAILED" | "CANCELLED";
  output?: unknown;
  error?: unknown;
}

export interface TestModeJobHooks {
  log: Logger;
  signal?: AbortSignal;
  onStream?: (chunk: unknown) => void;
  onProgress?: (update: unknown) => void;
}

/**
 * Runs one job as the platform would, turning its return value or error into the same body the
 * worker posts. A streaming job ends as on the platform: its full result is the last chunk and
 * its output the list of every chunk (as the SDK's test API aggregates a generator's output).
 */
export async function runTestModeJob(runner: JobRunner, job: RunpodJob, hooks: TestModeJobHooks): Promise<TestModeJobResult> {
  const log = hooks.log.child({ jobId: job.id });
  const signal = hooks.signal ?? new AbortController().signal;
  let streaming = false;
  const chunks: unknown[] = [];
  const emit = (chunk: unknown) => {
    chunks.push(chunk);
    hooks.onStream?.(chunk);
  };
  try {
    const output = await runner.run(job, {
      signal,
      stopping: signal,
      log,
      progress: (u) => {
        log.debug({ progress: u }, "progress");
        hooks.onProgress?.(u);
      },
      stream: (chunk) => {
        streaming = true;
        emit(chunk);
      },
      streaming: () => {
        streaming = true;
      },
    });
    let body = successBody(output);
    if (streaming) {
      if (body.error === undefined && "output" in body) emit(body.output);
      body = streamedBody(chunks, body);
    }
    if (body.error !== undefined) return { id: job.id, status: "FAILED", error: body.error, ...("output" in body ? { output: body.output } : {}) };
    return { id: job.id, status: "COMPLETED", output: "output" in body ? body.output : null };
  } catch (err) {
    if (signal.aborted) return { id: job.id, status: "CANCELLED" };
    log.warn({ err }, "test-mode job failed");
    return { id: job.id, status: "FAILED", error: errorBody(err, { hostname: hostname(), workerId: "test-mode" }).error };
  }
}
