import { int, oneOf, optionalStr, str } from "../config/fields.ts";

/** The CUDA preflight (run at start with DEVICE=auto|cuda, and by `npm run preflight`). The
 * variables keep their PROBE_ names so that existing deployments' settings still work. */
export const preflightSettings = {
  PROBE_TIMEOUT_MS: int({
    default: 20000,
    min: 100,
    doc: "Limit of each quick preflight step (nvidia-smi, importing ctranslate2, loading the CUDA libraries) before SIGKILL.",
    example: "30000",
  }),
  PROBE_SMOKE_TIMEOUT_MS: int({
    default: 300000,
    min: 1000,
    doc: "Limit of the CUDA smoke transcription (model load, download included, plus a 3 s clip) before SIGKILL.",
    example: "600000",
  }),
  CUDA_COMPUTE_TYPE: oneOf(["auto", "float16", "int8_float16", "bfloat16", "int8_bfloat16", "int8_float32", "int8", "float32"] as const, {
    default: "auto",
    doc: "Compute type on CUDA. auto: the best the GPU supports (float16 on most), then int8_float32 if the GPU refuses it.",
    example: "int8_float16",
  }),
  PROBE_MODEL: optionalStr({
    doc: "Model the smoke transcription loads; default WHISPER_MODEL (the one the worker will use).",
    example: "tiny",
  }),
  PROBE_CACHE_DIR: optionalStr({
    doc: "Where the preflight verdict is cached; default $XDG_CACHE_HOME/voice-worker (~/.cache/voice-worker).",
    example: "/var/cache/voice-worker",
  }),
  NVIDIA_SMI_BIN: str({ default: "nvidia-smi", doc: "nvidia-smi executable (found on PATH by default).", example: "/usr/bin/nvidia-smi" }),
};
