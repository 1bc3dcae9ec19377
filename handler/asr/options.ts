// The options of one transcription: worker-faster_whisper's input keys (same names, so its
// users' requests work unchanged) with faster-whisper's real defaults where that worker
// deviated (length_penalty 1, suppress_tokens honoured), plus hotwords, vad_parameters,
// multilingual and batch_size. The worker's job input extends this schema.
import { z } from "zod";
import { WorkerError } from "../errors.ts";

export const TEXT_FORMATS = ["plain_text", "formatted_text", "srt", "vtt"] as const;
const textFormat = z.enum(TEXT_FORMATS);

/**
 * faster_whisper.vad.VadOptions of 1.2.1, exactly its six fields (later releases added more; 1.2.1
 * raises TypeError on them): every field optional, unknown keys rejected.
 */
export const VadParameters = z.strictObject({
  threshold: z.number().min(0).max(1).optional(),
  neg_threshold: z.number().min(0).max(1).nullable().optional(),
  min_speech_duration_ms: z.number().int().min(0).optional(),
  max_speech_duration_s: z.number().positive().optional(),
  min_silence_duration_ms: z.number().int().min(0).optional(),
  speech_pad_ms: z.number().int().min(0).optional(),
});

// "-1" (the model's default non-speech set), "" (suppress nothing) or "50,51". Ids are checked
// against the loaded model's vocabulary in the sidecar (ctranslate2 does no bounds check).
const TOKEN_HINT = 'must be -1 or token ids >= 0, comma-separated, e.g. "-1" or "50,51"';
const tokenList = z.string().regex(/^\s*((-1|\d+)\s*(,\s*(-1|\d+)\s*)*)?$/, TOKEN_HINT);
const tokenIds = z.array(z.number().int().min(-1, TOKEN_HINT));

export const TranscribeOptions = z.strictObject({
  /** A faster-whisper model name or a local model directory; the engine's default when unset. */
  model: z.string().min(1).optional(),
  transcription: textFormat.default("plain_text"),
  translate: z.boolean().default(false),
  translation: textFormat.default("plain_text"),
  language: z
    .string()
    .regex(/^[a-z]{2,3}$/, 'must be a language code such as "en"')
    .nullable()
    .default(null),
  temperature: z.number().min(0).max(1).default(0),
  best_of: z.number().int().min(1).max(32).default(5),
  beam_size: z.number().int().min(1).max(32).default(5),
  patience: z.number().positive().default(1),
  length_penalty: z.number().default(1),
  suppress_tokens: z.union([tokenList, tokenIds]).default("-1"),
  initial_prompt: z.string().nullable().default(null),
  condition_on_previous_text: z.boolean().default(true),
  temperature_increment_on_fallback: z.number().min(0).max(1).nullable().default(0.2),
  compression_ratio_threshold: z.number().nullable().default(2.4),
  logprob_threshold: z.number().nullable().default(-1),
  no_speech_threshold: z.number().min(0).max(1).nullable().default(0.6),
  /** Unset: off, except with batch_size > 1 where the batched pipeline's default (on) applies. */
  enable_vad: z.boolean().optional(),
  word_timestamps: z.boolean().default(false),
  hotwords: z.string().nullable().default(null),
  vad_parameters: VadParameters.nullable().default(null),
  multilingual: z.boolean().default(false),
  /** > 1 uses faster-whisper's BatchedInferencePipeline (faster, more memory, first temperature only). */
  batch_size: z.number().int().min(1).max(64).default(1),
});

/** What callers send (every key optional). */
export type TranscribeOptionsInput = z.input<typeof TranscribeOptions>;
/** After parsing: defaults filled in. */
export type TranscribeOptions = z.output<typeof TranscribeOptions>;

/** Keys the schema does not know, at any depth ("vad_parameters.foo"). */
export function unknownKeys(error: z.ZodError): string[] {
  return error.issues.flatMap((i) => (i.code === "unrecognized_keys" ? i.keys.map((k) => [...i.path.map(String), k].join(".")) : []));
}

/** Parses caller input; bad input becomes a non-retryable WorkerError naming every problem. */
export function parseTranscribeOptions(input: unknown): TranscribeOptions {
  const parsed = TranscribeOptions.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const unknown = unknownKeys(parsed.error);
  const problems = parsed.error.issues.filter((i) => i.code !== "unrecognized_keys").map((i) => `${i.path.join(".") || "(options)"}: ${i.message}`);
  const parts = [...(unknown.length ? [`unknown option(s): ${unknown.join(", ")}`] : []), ...problems];
  throw new WorkerError("invalid_input", `Invalid transcription options: ${parts.join("; ")}`, {
    retryable: false,
    details: { unknownKeys: unknown, problems },
  });
}

/** Length of worker-faster_whisper's temperature schedule (temperature, +increment, ... <= 1). */
export function temperatureCount(temperature: number, increment: number | null): number {
  if (increment === null || increment <= 0 || temperature >= 1) return 1;
  return Math.floor((1 - temperature) / increment + 1e-6) + 1;
}
