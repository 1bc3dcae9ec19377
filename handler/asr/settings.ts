import { int, num, oneOf, optionalStr, str } from "../config/fields.ts";

/** The speech-to-text engine (faster-whisper sidecar) and its device policy. */
export const asrSettings = {
  DEVICE: oneOf(["auto", "cuda", "cpu"] as const, {
    default: "auto",
    doc: "auto: check CUDA with the preflight, use float16 on GPU if it works, else CPU int8. cuda: fail start-up if CUDA is unusable. cpu: skip the preflight.",
    example: "cpu",
  }),
  WHISPER_MODEL: str({
    default: "turbo",
    doc: "Default model: a faster-whisper name (tiny ... large-v3, distil-large-v3, turbo) or a local directory.",
    example: "large-v3",
  }),
  ALLOWED_MODELS: optionalStr({
    doc: "Models a job may ask for with `model` (comma-separated faster-whisper names, Hugging Face repo ids or local directories; exact match). Unset: faster-whisper 1.2.1's standard names. WHISPER_MODEL is always allowed; any other model is invalid_input.",
    example: "turbo,large-v3",
  }),
  MODEL_DIR: optionalStr({ doc: "Model download cache; models found here load offline.", example: "/models" }),
  SIDECAR_PYTHON: optionalStr({ doc: "Python interpreter of the sidecar; default sidecar/.venv/bin/python, then python3.", example: "/opt/venv/bin/python" }),
  MAX_CACHED_MODELS: int({ default: 1, min: 1, max: 8, doc: "Models kept loaded at once (LRU).", example: "2" }),
  MODEL_IDLE_UNLOAD_MS: int({ default: 900000, min: 0, doc: "Unload a model unused this long (0: never).", example: "600000" }),
  CPU_THREADS: int({ default: 0, min: 0, doc: "CPU threads for CPU inference (0: all cores).", example: "4" }),
  MODEL_DOWNLOAD: oneOf(["allow", "never"] as const, {
    default: "allow",
    doc: "allow: download a model name missing from MODEL_DIR (a Hub outage is a retryable model_unavailable). never: offline only (a missing model fails with model_not_found).",
    example: "never",
  }),
  SIDECAR_START_TIMEOUT_MS: int({ default: 60000, min: 1000, doc: "Time for the sidecar to start and import faster-whisper (its hello).", example: "30000" }),
  MODEL_LOAD_TIMEOUT_MS: int({ default: 600000, min: 1000, doc: "Time to load (and, if allowed, download) a model.", example: "300000" }),
  TRANSCRIBE_WINDOW_MS_CPU: int({
    default: 3000,
    min: 1,
    doc: "Engine time of one beam-5 decode of a 30 s window on CPU, until the worker has measured its own (faster-whisper 1.2.1, tiny, int8, 2 threads: 2.9 s). The compute budget and time limits of a job follow from it.",
    example: "20000",
  }),
  TRANSCRIBE_WINDOW_MS_CUDA: int({
    default: 2500,
    min: 1,
    doc: "The same on the GPU, until measured (published: large-v2 float16, beam 5, ~2.4 s per window).",
    example: "800",
  }),
  TRANSCRIBE_FALLBACK_BUDGET: num({
    default: 3,
    min: 1,
    max: 20,
    doc: "A job's engine time may reach this many times its estimated cost without temperature fallback (at least 2 s); then the fallback stops, the best result so far is kept and the result says compute.fallback_capped.",
    example: "2",
  }),
  TRANSCRIBE_TIMEOUT_BASE_MS: int({
    default: 60000,
    min: 1000,
    doc: "Fixed part of a transcription's time limits: the engine is never cut short (compute.truncated) before this much time, and killed (retryable transcribe_timeout) only past the cost model's limit plus this.",
    example: "30000",
  }),
  CANCEL_GRACE_MS: int({
    default: 5000,
    min: 100,
    doc: "After a cancel, time the sidecar gets to stop (after its current decode) before it is killed and restarted with the model reloaded.",
    example: "2000",
  }),
};
