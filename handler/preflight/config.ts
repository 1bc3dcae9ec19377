// The preflight's options from the loaded config: one place the worker, the CLI and diagnose share.
import { REPO_ROOT, resolveSidecarPython } from "../asr/python.ts";
import type { PreflightOptions } from "./preflight.ts";

export interface PreflightConfig {
  PROBE_TIMEOUT_MS: number;
  PROBE_SMOKE_TIMEOUT_MS: number;
  CUDA_COMPUTE_TYPE: string;
  PROBE_MODEL?: string;
  PROBE_CACHE_DIR?: string;
  NVIDIA_SMI_BIN: string;
}

export { REPO_ROOT } from "../asr/python.ts";

/** PreflightOptions from the loaded settings: the one place the worker, the CLI and diagnose agree on. */
export function preflightOptionsFromConfig(
  c: PreflightConfig & { WHISPER_MODEL: string; MODEL_DIR?: string; SIDECAR_PYTHON?: string; MODEL_DOWNLOAD?: string },
  env: Record<string, string | undefined>,
  extra: Partial<PreflightOptions> = {},
): PreflightOptions {
  return {
    python: resolveSidecarPython(c.SIDECAR_PYTHON, REPO_ROOT),
    env,
    model: c.PROBE_MODEL ?? c.WHISPER_MODEL,
    computeType: c.CUDA_COMPUTE_TYPE,
    ...(c.MODEL_DIR ? { modelDir: c.MODEL_DIR } : {}),
    localFilesOnly: c.MODEL_DOWNLOAD === "never",
    nvidiaSmiBin: c.NVIDIA_SMI_BIN,
    timeoutMs: c.PROBE_TIMEOUT_MS,
    smokeTimeoutMs: c.PROBE_SMOKE_TIMEOUT_MS,
    ...(c.PROBE_CACHE_DIR ? { cacheDir: c.PROBE_CACHE_DIR } : {}),
    ...extra,
  };
}
