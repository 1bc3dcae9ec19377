import type { JobHandler } from "../queue/consumer.ts";
import { parseJobInput, type JobInput } from "../pipeline/input.ts";
import { prepareVoiceMessage, transcribeAndAnalyze, type PipelineDeps, type PreparedVoiceMessage } from "../pipeline/pipeline.ts";

interface Prepared {
  input: JobInput;
  message: PreparedVoiceMessage;
}

/** Queue jobs through the pipeline: audio is prepared ahead (prefetch), the engine executes. */
export function pipelineJobHandler(deps: PipelineDeps): JobHandler {
  return {
    async prepare(job, ctx) {
      const input = parseJobInput(job.payload.input, "queue");
      const stored = job.audioBase64 === null ? null : Buffer.from(job.audioBase64, "base64");
      const message = await prepareVoiceMessage(input, stored, deps, { signal: ctx.signal, log: ctx.log, onProgress: (s, p) => ctx.report(s, p) });
      return { input, message } satisfies Prepared;
    },
    async execute(job, prepared, ctx) {
      const p = prepared as Prepared;
      return transcribeAndAnalyze(job.id, p.input, p.message, deps, { signal: ctx.signal, log: ctx.log, onProgress: (s, pr) => ctx.report(s, pr) });
    },
  };
}
