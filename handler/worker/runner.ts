// The pipeline as a RunPod job runner (RunPod mode and the local --test_input / --serve-api modes).
import type { JobRunner } from "../runpod/runner.ts";
import type { Runtime } from "./runtime.ts";
import { WorkerError } from "../errors.ts";
import { parseJobInput, type JobInput } from "../pipeline/input.ts";
import { prepareVoiceMessage, transcribeAndAnalyze, type JobOutput, type PipelineDeps } from "../pipeline/pipeline.ts";

export interface RunnerHooks {
  /**
   * Drains the Upstash queue (input `queue: {drain: true, ...}`); absent when no queue is
   * configured. `signal` (job-stop) hands the queue job in hand back; `stopping` (shutdown)
   * only stops claiming more.
   */
  drain?: (limits: NonNullable<JobInput["queue"]>, signal: AbortSignal, stopping: AbortSignal) => Promise<unknown>;
  /** Also stores the output under a Redis job id (input `job_id`), for clients that read the queue's store. */
  storeResult?: (jobId: string, output: JobOutput) => Promise<void>;
}

/**
 * Why this host's GPU stack broke at run time, or null: the engine started on CUDA (the preflight
 * proved it) and has since moved to CPU after a CUDA failure mid-job. A fresh worker may land
 * on a sound host; this one would run every further job on CPU.
 */
export function brokenGpu(runtime: Pick<Runtime, "decision" | "engine">): () => string | null {
  return () => {
    const info = runtime.engine.info;
    if (runtime.decision.device !== "cuda" || info.device !== "cpu") return null;
    return `CUDA failed at run time; jobs now run on CPU: ${info.fallback_reason ?? "unknown reason"}`;
  };
}

export function pipelineRunner(deps: PipelineDeps, hooks: RunnerHooks = {}): JobRunner {
  return {
    async run(job, ctx) {
      const input = parseJobInput(job.input, "runpod");
      if (input.queue) {
        if (!hooks.drain) {
          throw new WorkerError("queue_not_configured", "a drain job needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN on the worker", {
            retryable: false,
          });
        }
        return hooks.drain(input.queue, ctx.signal, ctx.stopping);
      }
      if (input.stream) ctx.streaming();
      const stage = {
        signal: ctx.signal,
        log: ctx.log,
        onProgress: (s: string, p: number) => ctx.progress({ stage: s, progress: Math.round(p * 1000) / 1000 }),
      };
      const prepared = await prepareVoiceMessage(input, null, deps, stage);
      const output = await transcribeAndAnalyze(job.id, input, prepared, deps, {
        ...stage,
        ...(input.stream ? { onSegment: (segment) => ctx.stream({ segment }) } : {}),
      });
      if (input.job_id && hooks.storeResult) {
        await hooks.storeResult(input.job_id, output).catch((err: unknown) => ctx.log.warn({ err }, "could not store the result under job_id"));
      }
      return output;
    },
  };
}
