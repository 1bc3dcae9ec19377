// Tier 0, GPU side: what the NVIDIA driver reports, from `nvidia-smi --query-gpu` CSV.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { runChild, tail } from "./child.ts";

export const GPU_QUERY_FIELDS = ["driver_version", "name", "uuid", "memory.total", "memory.used", "utilization.gpu"] as const;

export interface GpuInfo {
  index: number;
  name: string;
  uuid: string;
  driverVersion: string;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  /** Percent; null where the driver does not report it (MIG slices: "[N/A]"). */
  utilizationPct: number | null;
}

export type NvidiaSmiResult =
  | { status: "ok"; bin: string; driverVersion: string; gpus: GpuInfo[]; ms: number }
  /** Not installed / not on PATH: no driver in this container or host. */
  | { status: "missing"; bin: string }
  /** Ran but failed ("couldn't communicate with the NVIDIA driver"), or printed no GPU. */
  | { status: "failed"; bin: string; exitCode: number | null; output: string }
  | { status: "timeout"; bin: string; timeoutMs: number };

/** PATH lookup in the given environment (not this process's), so tests and hosts can differ. */
export function findOnPath(name: string, env: Record<string, string | undefined>): string | null {
  if (name.includes("/")) return isExecutable(name) ? name : null;
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Parses `--format=csv,noheader,nounits` lines in GPU_QUERY_FIELDS order. */
export function parseGpuCsv(stdout: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    // Values are separated by ", "; GPU names contain spaces but never commas.
    const cells = line.split(",").map((c) => c.trim());
    if (cells.length < GPU_QUERY_FIELDS.length) continue;
    const [driverVersion, name, uuid, total, used, util] = cells as [string, string, string, string, string, string];
    if (!/^\d+(\.\d+)*$/.test(driverVersion)) continue;
    gpus.push({
      index: gpus.length,
      name,
      uuid,
      driverVersion,
      memoryTotalMiB: numberOrNull(total),
      memoryUsedMiB: numberOrNull(used),
      utilizationPct: numberOrNull(util),
    });
  }
  return gpus;
}

function numberOrNull(cell: string): number | null {
  // nvidia-smi prints "[N/A]" or "[Not Supported]" for fields a GPU (or MIG slice) lacks.
  const n = Number(cell);
  return cell !== "" && Number.isFinite(n) ? n : null;
}

export async function queryNvidiaSmi(opts: { bin: string; env: Record<string, string | undefined>; timeoutMs: number }): Promise<NvidiaSmiResult> {
  const bin = findOnPath(opts.bin, opts.env);
  if (!bin) return { status: "missing", bin: opts.bin };
  const r = await runChild(bin, [`--query-gpu=${GPU_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"], {
    env: opts.env,
    timeoutMs: opts.timeoutMs,
  });
  if (r.timedOut) return { status: "timeout", bin, timeoutMs: opts.timeoutMs };
  if (r.spawnError) return { status: "failed", bin, exitCode: null, output: r.spawnError };
  const gpus = r.exitCode === 0 ? parseGpuCsv(r.stdout) : [];
  const first = gpus[0];
  if (!first) return { status: "failed", bin, exitCode: r.exitCode, output: tail(`${r.stdout}\n${r.stderr}`, 400) };
  return { status: "ok", bin, driverVersion: first.driverVersion, gpus, ms: r.ms };
}

/**
 * The GPU CUDA will call device 0: the first of CUDA_VISIBLE_DEVICES when it names an index or
 * a UUID, else nvidia-smi's first row.
 */
export function visibleGpu(gpus: GpuInfo[], cudaVisibleDevices: string | undefined): GpuInfo | undefined {
  const first = cudaVisibleDevices?.split(",")[0]?.trim();
  if (first) {
    if (/^\d+$/.test(first)) return gpus.find((g) => g.index === Number(first));
    if (first.startsWith("GPU-")) return gpus.find((g) => g.uuid.startsWith(first));
  }
  return gpus[0];
}
