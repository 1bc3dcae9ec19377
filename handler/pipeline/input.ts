// The job input: worker-faster_whisper's schema (same keys, so its users' requests work
// unchanged) plus `llm` options, `job_id` (links a RunPod job to the Redis job store),
// `stream` (segments as they are produced) and `queue` (a RunPod job that drains the queue).
import { z } from "zod";
import { TranscribeOptions, unknownKeys } from "../asr/options.ts";
import { analysisOptionsSchema } from "../analysis/index.ts";
import { WorkerError } from "../errors.ts";

export const drainSchema = z.strictObject({
  drain: z.literal(true),
  max_jobs: z.number().int().min(1).max(100_000).optional(),
  max_seconds: z.number().int().min(1).max(86_400).optional(),
});

export const jobInputSchema = TranscribeOptions.extend({
  audio: z.string().min(1).optional(),
  audio_base64: z.string().optional(),
  /** Bytes stored by `npm run queue -- push <file>`: queued jobs only. */
  audio_key: z.string().min(1).optional(),
  llm: analysisOptionsSchema.optional(),
  job_id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1-128 letters, digits, '.', '_', ':' or '-'")
    .optional(),
  stream: z.boolean().default(false),
  queue: drainSchema.optional(),
});

export type JobInput = z.output<typeof jobInputSchema>;

/**
 * The sidecar refuses a request header over 1 MiB by exiting, which would turn one oversized
 * `initial_prompt`, `hotwords` or `suppress_tokens` into a crash retried as a transient fault.
 * Whisper only uses the last ~220 tokens of a prompt anyway.
 */
export const MAX_TRANSCRIBE_OPTIONS_BYTES = 256 * 1024;
const TRANSCRIBE_KEYS = Object.keys(TranscribeOptions.shape) as Array<keyof JobInput>;

/**
 * Validates a job input; every problem (unknown keys listed by name) becomes one permanent
 * `invalid_input` error. `origin` says where audio may come from.
 */
export function parseJobInput(raw: unknown, origin: "queue" | "runpod"): JobInput {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new WorkerError("invalid_input", "the job input must be a JSON object", { retryable: false });
  }
  const parsed = jobInputSchema.safeParse(raw);
  if (!parsed.success) {
    const unknown = unknownKeys(parsed.error);
    const problems = parsed.error.issues.filter((i) => i.code !== "unrecognized_keys").map((i) => `${i.path.join(".") || "(input)"}: ${i.message}`);
    const parts = [...(unknown.length ? [`unknown key(s): ${unknown.join(", ")}`] : []), ...problems];
    throw new WorkerError("invalid_input", `invalid job input: ${parts.join("; ")}`, { retryable: false, details: { unknown_keys: unknown } });
  }
  const input = parsed.data;
  const options = Object.fromEntries(TRANSCRIBE_KEYS.map((k) => [k, input[k]]));
  const optionBytes = Buffer.byteLength(JSON.stringify(options));
  if (optionBytes > MAX_TRANSCRIBE_OPTIONS_BYTES) {
    throw new WorkerError(
      "invalid_input",
      `the transcription options take ${optionBytes} bytes; at most ${MAX_TRANSCRIBE_OPTIONS_BYTES} are accepted (shorten initial_prompt, hotwords or suppress_tokens)`,
      {
        retryable: false,
      },
    );
  }
  const sources = [input.audio, input.audio_base64, input.audio_key].filter((v) => v !== undefined).length;
  if (input.queue) {
    if (origin !== "runpod") throw new WorkerError("invalid_input", "a queued job cannot drain the queue", { retryable: false });
    if (sources > 0) throw new WorkerError("invalid_input", "a drain job carries no audio", { retryable: false });
    return input;
  }
  if (sources !== 1) {
    throw new WorkerError("invalid_input", "the input needs exactly one of audio (URL) or audio_base64", { retryable: false });
  }
  if (input.audio_key !== undefined && origin !== "queue") {
    throw new WorkerError("invalid_input", "audio_key refers to bytes stored with a queued job; send audio or audio_base64", { retryable: false });
  }
  return input;
}
