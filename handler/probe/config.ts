// Kept apart from settings.ts: config/schema.ts imports that file, and this one imports
// config/load.ts, which imports schema.ts (a cycle would leave probeSettings undefined).
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { fieldMeta } from "../config/fields.ts";
import { ConfigError } from "../config/load.ts";
import { resolveSidecarPython } from "./library-path.ts";
import type { ProbeOptions } from "./probe.ts";
import { probeSettings } from "./settings.ts";

export interface ProbeConfig {
  PROBE_TIMEOUT_MS: number;
  PROBE_SMOKE_TIMEOUT_MS: number;
  CUDA_COMPUTE_TYPE: string;
  PROBE_MODEL?: string;
  PROBE_CACHE_DIR?: string;
  NVIDIA_SMI_BIN: string;
}

/**
 * The probe's settings alone, for entry points that run before (or without) the whole config.
 * Throws the same ConfigError as loadConfig, listing every bad variable.
 */
export function loadProbeConfig(env: Record<string, string | undefined>): ProbeConfig {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(probeSettings)) input[name] = env[name];
  const parsed = z.object(probeSettings).safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? "(config)");
      return { variable, problem: issue.message, example: fieldMeta(probeSettings[variable as keyof typeof probeSettings])?.example };
    }),
  );
}

/** The repository root (sidecar/.venv lives under it). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** ProbeOptions from the loaded settings: the one place the worker, the CLI and diagnose agree on. */
export function probeOptionsFromConfig(
  c: ProbeConfig & { WHISPER_MODEL: string; MODEL_DIR?: string; SIDECAR_PYTHON?: string; MODEL_DOWNLOAD?: string },
  env: Record<string, string | undefined>,
  extra: Partial<ProbeOptions> = {},
): ProbeOptions {
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
