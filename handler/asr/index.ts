// Entry point of the speech-to-text stage for the rest of the worker.
import { availableParallelism } from "node:os";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { SidecarSpeechEngine } from "./engine.ts";
import { parseModelList } from "./models.ts";
import { resolveSidecarPython, SIDECAR_SCRIPT } from "./python.ts";
import type { Device } from "./types.ts";

export { SidecarSpeechEngine } from "./engine.ts";
export { ModelPolicy, parseModelList, STANDARD_MODELS } from "./models.ts";
export { parseTranscribeOptions, TranscribeOptions, type TranscribeOptionsInput } from "./options.ts";
export type { Device, EngineInfo, Segment, SpeechEngine, Transcript, TranscriptCompute, TranscribeRequest, Word } from "./types.ts";

/** What the device decision (the CUDA preflight) settled on. */
export interface DeviceChoice {
  device: Device;
  computeType: string;
  fallbackReason: string | null;
}

/**
 * The engine for a loaded config. `env` is added to the sidecar's environment: the preflight's
 * LD_LIBRARY_PATH (glibc reads it only at process start), or PYTHONPATH in tests.
 */
export function createSpeechEngine(
  config: Config,
  choice: DeviceChoice,
  opts: { logger: Logger; env?: Record<string, string>; onCudaFailure?: (reason: string) => void },
): SidecarSpeechEngine {
  return new SidecarSpeechEngine({
    python: resolveSidecarPython(config.SIDECAR_PYTHON),
    script: SIDECAR_SCRIPT,
    // With downloads forbidden, huggingface_hub must not even try the network.
    env: { ...(config.MODEL_DOWNLOAD === "never" ? { HF_HUB_OFFLINE: "1" } : {}), ...opts.env },
    device: choice.device,
    computeType: choice.computeType,
    cpuThreads: config.CPU_THREADS || availableParallelism(),
    cpuComputeType: "int8",
    fallbackReason: choice.fallbackReason,
    defaultModel: config.WHISPER_MODEL,
    allowedModels: parseModelList(config.ALLOWED_MODELS),
    modelDir: config.MODEL_DIR,
    maxCachedModels: config.MAX_CACHED_MODELS,
    modelIdleUnloadMs: config.MODEL_IDLE_UNLOAD_MS,
    allowDownload: config.MODEL_DOWNLOAD === "allow",
    timeouts: {
      startMs: config.SIDECAR_START_TIMEOUT_MS,
      loadMs: config.MODEL_LOAD_TIMEOUT_MS,
      baseMs: config.TRANSCRIBE_TIMEOUT_BASE_MS,
      cancelGraceMs: config.CANCEL_GRACE_MS,
    },
    cost: {
      windowMs: { cpu: config.TRANSCRIBE_WINDOW_MS_CPU, cuda: config.TRANSCRIBE_WINDOW_MS_CUDA },
      fallbackBudget: config.TRANSCRIBE_FALLBACK_BUDGET,
    },
    logger: opts.logger,
    onCudaFailure: opts.onCudaFailure,
  });
}
