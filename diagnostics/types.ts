// What diagnose reports: eight steps in a fixed order, each pass | warn | fail with one line of
// detail and, when not pass, the exact fix (a command or the setting to change).

export type StepStatus = "pass" | "warn" | "fail";

export const STEPS = [
  { id: "gpu", name: "GPU & CUDA" },
  { id: "cuda-libraries", name: "CUDA core libraries" },
  { id: "cudnn", name: "cuDNN" },
  { id: "ffmpeg", name: "FFmpeg" },
  { id: "python", name: "Python environment" },
  { id: "python-packages", name: "Python packages" },
  { id: "model", name: "Whisper model files" },
  { id: "services", name: "Services" },
] as const;

export type StepId = (typeof STEPS)[number]["id"];

/** What a step's check returns; `fix` is required unless it passed. */
export type Check = { status: "pass"; detail: string; fix?: null } | { status: "warn" | "fail"; detail: string; fix: string };

export interface StepResult {
  id: StepId;
  name: string;
  status: StepStatus;
  detail: string;
  fix: string | null;
  ms: number;
}

export interface DiagnoseReport {
  /** No step failed (warnings allowed). */
  ok: boolean;
  steps: StepResult[];
}

export interface DiagnoseFlags {
  /** No usable GPU is a failure, not a warning (also implied by DEVICE=cuda). */
  requireGpu: boolean;
  /** No network: skip the Upstash round trip and the Gemini call (container health checks). */
  quick: boolean;
  /** Add the preflight's CUDA smoke transcription (tier 2) to step 1. */
  deep: boolean;
}

const RANK: Record<StepStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** The worse of two statuses. */
export function worst(a: StepStatus, b: StepStatus): StepStatus {
  return RANK[b] > RANK[a] ? b : a;
}

export const pass = (detail: string): Check => ({ status: "pass", detail, fix: null });
export const warn = (detail: string, fix: string): Check => ({ status: "warn", detail, fix });
export const fail = (detail: string, fix: string): Check => ({ status: "fail", detail, fix });

/** Several findings folded into one step: the worst status, details joined, the fixes of the worst findings. */
export function combine(parts: Check[]): Check {
  const status = parts.reduce<StepStatus>((s, p) => worst(s, p.status), "pass");
  const detail = parts.map((p) => p.detail).join("; ");
  if (status === "pass") return pass(detail);
  const fixes = [...new Set(parts.filter((p) => p.status === status && p.fix).map((p) => p.fix as string))];
  return { status, detail, fix: fixes.join("; ") };
}
