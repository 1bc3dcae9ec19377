// DEVICE=auto|cuda|cpu -> the device, compute type and thread count the sidecar starts with.
import { availableParallelism } from "node:os";
import { WorkerError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { PreflightReport } from "./preflight.ts";
import type { Verdict } from "./verdict.ts";

export type DeviceSetting = "auto" | "cuda" | "cpu";

export interface DeviceDecision {
  device: "cuda" | "cpu";
  compute_type: string;
  /** Explicit: faster-whisper's 0 means min(4, cores), not "all cores". */
  cpu_threads: number;
  /** Why CUDA is not used although DEVICE=auto asked for it to be tried; null otherwise. */
  fallback_reason: string | null;
  /** The preflight's verdict; null with DEVICE=cpu (no preflight). */
  verdict: Verdict | null;
}

export interface DevicePolicyInput {
  device: DeviceSetting;
  /** CPU_THREADS; 0: every core this process may use. */
  cpuThreads: number;
  /** Runs (or reads the cached) preflight; not called with DEVICE=cpu. */
  preflight: () => Promise<PreflightReport>;
  cores?: number;
  log?: Logger;
}

export const CPU_COMPUTE_TYPE = "int8";

export function cpuThreadCount(setting: number, cores = availableParallelism()): number {
  return setting > 0 ? setting : Math.max(1, cores);
}

export async function decideDevice(input: DevicePolicyInput): Promise<DeviceDecision> {
  const threads = cpuThreadCount(input.cpuThreads, input.cores);
  const onCpu = (fallback_reason: string | null, v: Verdict | null): DeviceDecision => ({
    device: "cpu",
    compute_type: CPU_COMPUTE_TYPE,
    cpu_threads: threads,
    fallback_reason,
    verdict: v,
  });

  if (input.device === "cpu") {
    input.log?.info({ device: "cpu", compute_type: CPU_COMPUTE_TYPE, cpu_threads: threads }, "DEVICE=cpu: CUDA preflight skipped");
    return onCpu(null, null);
  }

  const report = await input.preflight();
  const v = report.verdict;
  if (v.ok) {
    const decision: DeviceDecision = { device: "cuda", compute_type: v.computeType ?? "float16", cpu_threads: threads, fallback_reason: null, verdict: v };
    input.log?.info({ device: "cuda", compute_type: decision.compute_type, cached: report.cached, probe_ms: report.ms }, v.message);
    return decision;
  }
  if (input.device === "cuda") {
    throw new WorkerError("cuda_unusable", `DEVICE=cuda but CUDA is unusable (${v.code}): ${v.message} Fix: ${v.fix ?? "see npm run preflight"}`, {
      retryable: false,
      details: { verdict: v },
    });
  }
  const reason = `${v.code}: ${v.message}`;
  input.log?.warn(
    { device: "cpu", compute_type: CPU_COMPUTE_TYPE, cpu_threads: threads, verdict: v.code, fix: v.fix },
    `CUDA unusable, running on the CPU: ${v.message}`,
  );
  return onCpu(reason, v);
}
