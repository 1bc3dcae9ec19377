// Runs the eight steps at once (they only read the host) and reports them in order. Every step
// has a deadline; a step that throws or overruns becomes a fail with its message, never a crash.
import { scrubMessage } from "../handler/log/scrub.ts";
import { HostFacts, type DiagnoseInput } from "./facts.ts";
import { cudaLibrariesStep, cudnnStep } from "./steps/cuda-libraries.ts";
import { ffmpegStep } from "./steps/ffmpeg.ts";
import { gpuStep } from "./steps/gpu.ts";
import { modelStep } from "./steps/model.ts";
import { packagesStep, pythonStep } from "./steps/python.ts";
import { servicesStep } from "./steps/services.ts";
import { STEPS, type Check, type DiagnoseReport, type StepId, type StepResult } from "./types.ts";

const CHECKS: Record<StepId, (f: HostFacts) => Promise<Check>> = {
  gpu: gpuStep,
  "cuda-libraries": cudaLibrariesStep,
  cudnn: cudnnStep,
  ffmpeg: ffmpegStep,
  python: pythonStep,
  "python-packages": packagesStep,
  model: modelStep,
  services: servicesStep,
};

/** Time a step may take past the checks' own deadline to report what they said. */
const REPORT_GRACE_MS = 500;

export interface RunOptions {
  /** Only these steps (tests); the others are not run and not reported. */
  only?: StepId[];
  /** Called with each result in step order, as soon as it and every step before it are done. */
  onStep?: (result: StepResult) => void;
}

export async function runDiagnose(input: DiagnoseInput, opts: RunOptions = {}): Promise<DiagnoseReport> {
  const limitMs = input.config.DIAGNOSE_TIMEOUT_MS;
  const facts = new HostFacts(input, Date.now() + limitMs);
  // --deep adds the preflight's own children (its limits: PROBE_TIMEOUT_MS, PROBE_SMOKE_TIMEOUT_MS,
  // one retry with another compute type) to step 1.
  const deepMs = input.flags.deep ? 3 * input.config.PROBE_TIMEOUT_MS + 2 * input.config.PROBE_SMOKE_TIMEOUT_MS : 0;
  const steps = STEPS.filter((s) => !opts.only || opts.only.includes(s.id));
  const running = steps.map((s) => runStep(s.id, s.name, () => CHECKS[s.id](facts), limitMs + REPORT_GRACE_MS + (s.id === "gpu" ? deepMs : 0)));
  const results: StepResult[] = [];
  for (const r of running) {
    const result = await r;
    results.push(result);
    opts.onStep?.(result);
  }
  return { ok: results.every((r) => r.status !== "fail"), steps: results };
}

export async function runStep(id: StepId, name: string, check: () => Promise<Check>, limitMs: number): Promise<StepResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<Check>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: "fail",
          detail: `the check did not finish within ${limitMs} ms`,
          fix: "Raise DIAGNOSE_TIMEOUT_MS, or look for a hung process (nvidia-smi, python)",
        }),
      limitMs,
    );
  });
  let c: Check;
  try {
    c = await Promise.race([check(), overrun]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    c = { status: "fail", detail: `the check itself failed: ${message}`, fix: "Report this as a bug in diagnose, with the message" };
  } finally {
    clearTimeout(timer);
  }
  return {
    id,
    name,
    status: c.status,
    detail: scrubMessage(c.detail),
    fix: c.status === "pass" ? null : scrubMessage(c.fix),
    ms: Date.now() - started,
  };
}
