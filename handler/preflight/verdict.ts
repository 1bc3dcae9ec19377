// The preflight's answer: one stable code, a sentence for humans, and the exact fix.
import type { CudaRequirements } from "./requirements.ts";

export const VERDICT_CODES = [
  "ok",
  "no_gpu",
  "driver_too_old",
  "cublas_missing",
  "cudnn_missing",
  "cuda_abort",
  "compute_type_unsupported",
  "empty_output",
  "timeout",
  "ctranslate2_missing",
  "model_missing",
  "smoke_failed",
] as const;
export type VerdictCode = (typeof VERDICT_CODES)[number];

/** Where the preflight stopped: tier 0 (nvidia-smi, ctranslate2), tier 1 (libraries), tier 2 (smoke). */
export type PreflightStage = "nvidia-smi" | "ctranslate2" | "libraries" | "smoke";

export interface Verdict {
  code: VerdictCode;
  ok: boolean;
  stage: PreflightStage;
  message: string;
  /** A command to run or a setting to change; null only for ok. */
  fix: string | null;
  /** For ok: the CUDA compute type the smoke transcription succeeded with. */
  computeType: string | null;
  /** For cudnn_missing / cublas_missing: the first soname that failed to load. */
  soname?: string;
  /** For cudnn_missing: the cuDNN major the installed ctranslate2 needs. */
  cudnnMajor?: number;
}

type Extra = Partial<Pick<Verdict, "soname" | "cudnnMajor" | "computeType">>;

export function verdict(code: VerdictCode, stage: PreflightStage, message: string, fix: string | null, extra: Extra = {}): Verdict {
  return { code, ok: code === "ok", stage, message, fix, computeType: extra.computeType ?? null, ...omitUndefined(extra) };
}

function omitUndefined(extra: Extra): Extra {
  const out: Extra = {};
  if (extra.soname !== undefined) out.soname = extra.soname;
  if (extra.cudnnMajor !== undefined) out.cudnnMajor = extra.cudnnMajor;
  return out;
}

/** `<python> -m pip install ...` with each spec quoted as a shell user would type it. */
export function pipInstall(python: string, specs: string[]): string {
  return `${python} -m pip install ${specs.map((s) => (/[<>=*]/.test(s) ? `'${s}'` : s)).join(" ")}`;
}

export const CPU_FALLBACK_HINT = "or set DEVICE=cpu to run on the CPU (int8)";

/** The fix for a driver below the wheel's floor: a newer driver, or a ctranslate2 that fits the old one. */
export function driverFix(req: CudaRequirements, driver: string, python: string): string {
  const upgrade = `upgrade the NVIDIA driver to >= ${req.minDriver} (${req.minDriverWhy}; this host has ${driver})`;
  if (req.range === ">=4.6.3" && Number.parseInt(driver, 10) >= 525) {
    return `${upgrade}, or use a ctranslate2 built for older drivers (it then needs cuDNN 9): ${pipInstall(python, ["ctranslate2>=4.5,<4.6.3", "nvidia-cublas-cu12", "nvidia-cudnn-cu12==9.*"])}`;
  }
  return `${upgrade}, ${CPU_FALLBACK_HINT}`;
}

/** The fix for a missing cuDNN: install the pip cuDNN of that major, or move to a ctranslate2 without cuDNN. */
export function cudnnFix(req: CudaRequirements, driver: string | null, python: string): string {
  const install = pipInstall(python, [req.cudnn?.pipPackage ?? "nvidia-cudnn-cu12==9.*"]);
  const noCudnn = driver !== null && Number.parseInt(driver, 10) >= 570 && req.range !== "3.x";
  return noCudnn ? `${install} (or, as this driver is >= 570: ${pipInstall(python, ["ctranslate2>=4.6.3,<5"])}, which needs no cuDNN)` : install;
}
