// One voice message: audio (fetch, ffprobe, decode) -> transcribe -> analyze -> result.
// Split in two so the queue consumer can prepare the next job while the engine works.
import type { Logger } from "../log/logger.ts";
import { loadVoiceMessage, type AudioLimits, type AudioSource, type DecodedAudio } from "../audio/index.ts";
import { TranscribeOptions, type Segment, type SpeechEngine, type Transcript, type TranscriptCompute, type TranscribeOptionsInput } from "../asr/index.ts";
import type { AnalysisOutcome, TranscriptAnalyzer } from "../analysis/index.ts";
import { WorkerError } from "../errors.ts";
import type { JobInput } from "./input.ts";

export interface PipelineDeps {
  audioLimits: AudioLimits;
  engine: SpeechEngine;
  analyzer: TranscriptAnalyzer;
}

export type Stage = "audio" | "transcribe" | "analyze" | "done";

export interface StageContext {
  signal?: AbortSignal;
  log: Logger;
  /** Stage changes and overall progress 0..1 (audio 0-0.2, transcribe 0.2-0.9, analyze 0.9-1). */
  onProgress?(stage: Stage, progress: number): void;
  /** Each segment as the engine produces it (streaming outputs). */
  onSegment?: (segment: Segment) => void;
}

export interface PreparedVoiceMessage {
  audio: DecodedAudio;
  prepareMs: number;
}

export interface Timings {
  download_ms: number;
  decode_ms: number;
  transcribe_ms: number;
  analyze_ms: number;
  /** Time this job spent in the pipeline (a prefetched job's wait for the engine excluded). */
  total_ms: number;
}

/** worker-faster_whisper's output fields, plus analysis, timings and the device story. */
export type JobOutput = {
  segments: Segment[];
  detected_language: string;
  language_probability: number;
  transcription: string;
  translation: string | null;
  word_timestamps?: Transcript["word_timestamps"];
  device: string;
  compute_type: string;
  fallback_reason: string | null;
  model: string;
  audio_duration_s: number;
  /** The compute budget's story: fallback_capped / truncated (then the transcript ends at transcribed_s). */
  compute: Omit<TranscriptCompute, "windows" | "decodes" | "deadline_ms">;
  timings: Timings;
  /** The Gemini model that analysed the transcript; null when the analysis was skipped. */
  analysis_model: string | null;
} & AnalysisOutcome;

const TRANSCRIBE_KEYS = Object.keys(TranscribeOptions.shape) as Array<keyof TranscribeOptionsInput>;

function sourceOf(input: JobInput, storedAudio: Buffer | null): AudioSource {
  if (input.audio !== undefined) return { kind: "url", url: input.audio };
  if (input.audio_base64 !== undefined) return { kind: "base64", data: input.audio_base64 };
  if (input.audio_key !== undefined) {
    if (!storedAudio) {
      throw new WorkerError("audio_expired", "the audio stored with this job is gone (its TTL ran out); push it again", { retryable: false });
    }
    return { kind: "bytes", data: storedAudio };
  }
  throw new WorkerError("invalid_input", "the input has no audio", { retryable: false });
}

const ms = (t0: number) => Math.round(performance.now() - t0);

function transcribeOptionsOf(input: JobInput): TranscribeOptionsInput {
  const options: TranscribeOptionsInput = {};
  for (const k of TRANSCRIBE_KEYS) if (input[k] !== undefined) Object.assign(options, { [k]: input[k] });
  return options;
}

export async function prepareVoiceMessage(input: JobInput, storedAudio: Buffer | null, deps: PipelineDeps, ctx: StageContext): Promise<PreparedVoiceMessage> {
  const t0 = performance.now();
  // A job the engine will refuse (its model outside ALLOWED_MODELS, ...) costs no download.
  deps.engine.validate(transcribeOptionsOf(input));
  ctx.onProgress?.("audio", 0);
  const audio = await loadVoiceMessage(sourceOf(input, storedAudio), deps.audioLimits, { signal: ctx.signal, log: ctx.log.child({ stage: "audio" }) });
  ctx.onProgress?.("audio", 0.2);
  return { audio, prepareMs: ms(t0) };
}

export async function transcribeAndAnalyze(
  jobId: string,
  input: JobInput,
  prepared: PreparedVoiceMessage,
  deps: PipelineDeps,
  ctx: StageContext,
): Promise<JobOutput> {
  const t0 = performance.now();
  const { audio } = prepared;
  const options = transcribeOptionsOf(input);

  ctx.onProgress?.("transcribe", 0.2);
  let t = performance.now();
  const transcript = await deps.engine.transcribe({
    requestId: jobId,
    pcm: audio.pcm,
    durationS: audio.durationS,
    options,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.onProgress?.("transcribe", 0.2 + 0.7 * (total > 0 ? Math.min(1, done / total) : 0)),
    onSegment: (segment) => ctx.onSegment?.(segment),
  });
  const transcribeMs = ms(t);

  ctx.onProgress?.("analyze", 0.9);
  t = performance.now();
  const analysis = await deps.analyzer.analyze({
    transcript: transcript.plain_text,
    language: transcript.detected_language,
    signal: ctx.signal,
    log: ctx.log.child({ stage: "analyze" }),
    options: input.llm,
  });
  const analyzeMs = ms(t);
  // A stop or cancel during analysis must hand the job back, not store it without its analysis.
  ctx.signal?.throwIfAborted();
  ctx.onProgress?.("done", 1);

  return {
    segments: transcript.segments,
    detected_language: transcript.detected_language,
    language_probability: transcript.language_probability,
    transcription: transcript.transcription,
    translation: transcript.translation,
    ...(input.word_timestamps ? { word_timestamps: transcript.word_timestamps } : {}),
    device: transcript.device,
    compute_type: transcript.compute_type,
    fallback_reason: transcript.fallback_reason,
    model: transcript.model,
    audio_duration_s: Math.round(audio.durationS * 1000) / 1000,
    compute: computeStory(transcript.compute),
    analysis_model: null,
    ...analysis,
    timings: {
      download_ms: audio.downloadMs,
      decode_ms: audio.ffprobeMs + audio.decodeMs,
      transcribe_ms: transcribeMs,
      analyze_ms: analyzeMs,
      total_ms: prepared.prepareMs + ms(t0),
    },
  };
}

function computeStory(c: TranscriptCompute): JobOutput["compute"] {
  return {
    engine_ms: c.engine_ms,
    budget_ms: c.budget_ms,
    limit_ms: c.limit_ms,
    fallback_capped: c.fallback_capped,
    truncated: c.truncated,
    transcribed_s: c.transcribed_s,
  };
}
