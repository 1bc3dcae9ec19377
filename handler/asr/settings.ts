import { int, oneOf, optionalStr, str } from "../config/fields.ts";

/** The speech-to-text engine (faster-whisper sidecar) and its device policy. */
export const asrSettings = {
  DEVICE: oneOf(["auto", "cuda", "cpu"] as const, {
    default: "auto",
    doc: "auto: probe CUDA, use float16 on GPU if it works, else CPU int8. cuda: fail start-up if CUDA is unusable. cpu: skip the probe.",
    example: "cpu",
  }),
  WHISPER_MODEL: str({ default: "turbo", doc: "Default model: a faster-whisper name (tiny ... large-v3, distil-large-v3, turbo) or a local directory.", example: "large-v3" }),
  MODEL_DIR: optionalStr({ doc: "Model download cache; models found here load offline.", example: "/models" }),
  SIDECAR_PYTHON: optionalStr({ doc: "Python interpreter of the sidecar; default sidecar/.venv/bin/python, then python3.", example: "/opt/venv/bin/python" }),
  MAX_CACHED_MODELS: int({ default: 1, min: 1, max: 8, doc: "Models kept loaded at once (LRU).", example: "2" }),
  MODEL_IDLE_UNLOAD_MS: int({ default: 900000, min: 0, doc: "Unload a model unused this long (0: never).", example: "600000" }),
  CPU_THREADS: int({ default: 0, min: 0, doc: "CPU threads for CPU inference (0: all cores).", example: "4" }),
  MODEL_DOWNLOAD: oneOf(["allow", "never"] as const, {
    default: "allow",
    doc: "allow: download a model name missing from MODEL_DIR. never: offline only (a missing model fails with model_not_found).",
    example: "never",
  }),
  SIDECAR_START_TIMEOUT_MS: int({ default: 60000, min: 1000, doc: "Time for the sidecar to start and import faster-whisper (its hello).", example: "30000" }),
  MODEL_LOAD_TIMEOUT_MS: int({ default: 600000, min: 1000, doc: "Time to load (and, if allowed, download) a model.", example: "300000" }),
  TRANSCRIBE_TIMEOUT_BASE_MS: int({ default: 60000, min: 1000, doc: "Fixed part of a transcription's time limit; the sidecar is killed (retryable error) past the limit.", example: "30000" }),
  TRANSCRIBE_TIMEOUT_MS_PER_AUDIO_S: int({ default: 3000, min: 0, doc: "Time limit added per second of audio (doubled when a translation is asked).", example: "1500" }),
  CANCEL_GRACE_MS: int({ default: 5000, min: 100, doc: "After a cancel, time the sidecar gets to stop between segments before it is killed.", example: "2000" }),
};
