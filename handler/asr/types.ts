// What the speech-to-text stage hands to the rest of the worker.
import type { TranscribeOptions, TranscribeOptionsInput } from "./options.ts";

export type Device = "cuda" | "cpu";

export interface Word {
  start: number;
  end: number;
  word: string;
  probability: number;
}

/** faster-whisper's Segment, field for field. */
export interface Segment {
  id: number;
  seek: number;
  start: number;
  end: number;
  text: string;
  tokens: number[];
  temperature: number | null;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
  words: Word[] | null;
}

export interface Transcript {
  segments: Segment[];
  plain_text: string;
  formatted_text: string;
  srt: string;
  vtt: string;
  /** The rendering asked for by `transcription` (worker-faster_whisper's output key). */
  transcription: string;
  detected_language: string;
  language_probability: number;
  duration: number;
  duration_after_vad: number;
  /** The rendering asked for by `translation`, when `translate` was set. */
  translation: string | null;
  translation_segments: Segment[] | null;
  word_timestamps: Word[] | null;
  model: string;
  device: Device;
  compute_type: string;
  /** Why this ran on CPU although CUDA was wanted; null when nothing fell back. */
  fallback_reason: string | null;
  batched: boolean;
  audio_s: number;
  model_cached: boolean;
  /** Token ids the loaded model accepts in suppress_tokens: 0 .. vocabulary_size - 1 (and -1). */
  vocabulary_size: number;
  timing_ms: { load: number; transcribe: number; translate: number };
  compute: TranscriptCompute;
  /** 2 when the job was retried once on CPU after CUDA failed mid-job. */
  attempts: number;
}

/** What the job's compute budget did (handler/asr/cost.ts). */
export interface TranscriptCompute {
  /** Engine time of the transcription (and translation) passes. */
  engine_ms: number;
  windows: number;
  decodes: number;
  /** The temperature fallback was stopped when the budget ran out; the best result so far was kept. */
  fallback_capped: boolean;
  /** The deadline passed: the transcript covers the audio up to transcribed_s only. */
  truncated: boolean;
  transcribed_s: number;
  budget_ms: number;
  deadline_ms: number;
  limit_ms: number;
}

export interface EngineInfo {
  device: Device;
  compute_type: string;
  cpu_threads: number;
  fallback_reason: string | null;
  protocol: number | null;
  python: string | null;
  faster_whisper: string | null;
  ctranslate2: string | null;
  /** True when the sidecar loaded the faster-whisper TEST DOUBLE (tests only). */
  test_double: boolean;
  pid: number | null;
}

export interface TranscribeRequest {
  requestId: string;
  /** 16 kHz mono float32 little-endian samples. */
  pcm: Buffer;
  durationS: number;
  options: TranscribeOptionsInput;
  signal?: AbortSignal;
  onProgress?: (doneS: number, totalS: number) => void;
  onSegment?: (segment: Segment) => void;
}

export interface SpeechEngine {
  /** Spawns the sidecar and waits for its hello. */
  start(): Promise<EngineInfo>;
  /** Checks a job's options (and its model against ALLOWED_MODELS) before any work: invalid_input. */
  validate(options: TranscribeOptionsInput): TranscribeOptions & { model: string };
  transcribe(req: TranscribeRequest): Promise<Transcript>;
  stop(): Promise<void>;
  readonly info: EngineInfo;
}
