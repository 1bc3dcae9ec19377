import { describe, expect, it } from "vitest";
import { WorkerError } from "../../handler/errors.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { cpuThreadCount, decideDevice } from "../../handler/preflight/device-policy.ts";
import type { PreflightReport } from "../../handler/preflight/preflight.ts";
import { verdict, type Verdict } from "../../handler/preflight/verdict.ts";

function report(v: Verdict): PreflightReport {
  const facts = { python: "py", ldLibraryPath: "", libDirs: [], nvidiaSmi: null, gpu: null, ctranslate2: null, requirements: null, libraries: null, smoke: [] };
  return { verdict: v, cached: false, cacheKey: null, cachePath: null, facts, ms: 5 };
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: "info", destination: { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return { log, lines };
}

const ok = verdict("ok", "smoke", "CUDA works", null, { computeType: "int8_float16" });
const abort = verdict("cuda_abort", "smoke", "The smoke transcription aborted (SIGABRT).", "pip install x, or set DEVICE=cpu");

describe("decideDevice", () => {
  it("DEVICE=cpu never runs the preflight", async () => {
    let ran = false;
    const d = await decideDevice({
      device: "cpu",
      cpuThreads: 0,
      cores: 12,
      preflight: async () => {
        ran = true;
        return report(ok);
      },
    });
    expect(ran).toBe(false);
    expect(d).toEqual({ device: "cpu", compute_type: "int8", cpu_threads: 12, fallback_reason: null, verdict: null });
  });

  it("auto + ok: CUDA with the compute type the smoke test proved", async () => {
    expect(await decideDevice({ device: "auto", cpuThreads: 2, preflight: async () => report(ok) })).toMatchObject({
      device: "cuda",
      compute_type: "int8_float16",
      cpu_threads: 2,
      fallback_reason: null,
    });
  });

  it("auto + failure: CPU int8, the reason in the result and a warning with the fix in the log", async () => {
    const { log, lines } = capture();
    const d = await decideDevice({ device: "auto", cpuThreads: 0, cores: 4, preflight: async () => report(abort), log });
    expect(d).toEqual({
      device: "cpu",
      compute_type: "int8",
      cpu_threads: 4,
      fallback_reason: "cuda_abort: The smoke transcription aborted (SIGABRT).",
      verdict: abort,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, device: "cpu", verdict: "cuda_abort", fix: abort.fix });
  });

  it("cuda + failure: start-up fails with cuda_unusable carrying the verdict and the fix", async () => {
    const err = await decideDevice({ device: "cuda", cpuThreads: 0, preflight: async () => report(abort) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    const w = err as WorkerError;
    expect(w.code).toBe("cuda_unusable");
    expect(w.message).toBe(`DEVICE=cuda but CUDA is unusable (cuda_abort): ${abort.message} Fix: ${abort.fix}`);
    expect(w.details).toEqual({ verdict: abort });
  });

  it("explicit thread counts", () => {
    expect(cpuThreadCount(6, 2)).toBe(6);
    expect(cpuThreadCount(0, 16)).toBe(16);
    expect(cpuThreadCount(0, 0)).toBe(1);
  });
});
