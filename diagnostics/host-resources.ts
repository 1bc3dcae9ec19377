// RunPod's fitness checks, done the same way: available memory (MemAvailable, or a tighter
// cgroup limit in a container) and free space on the filesystem that holds the model cache.
import { readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { freemem } from "node:os";
import { dirname } from "node:path";

export interface MemoryInfo {
  availableBytes: number;
  /** Where the figure came from. */
  source: "MemAvailable" | "cgroup" | "freemem";
}

function readNumber(path: string): number | null {
  try {
    const text = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : null; // cgroup v2 writes "max" for no limit
  } catch {
    return null;
  }
}

export function availableMemory(procRoot = "/proc", cgroupRoot = "/sys/fs/cgroup"): MemoryInfo {
  let info: MemoryInfo = { availableBytes: freemem(), source: "freemem" };
  try {
    const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(readFileSync(`${procRoot}/meminfo`, "utf8"));
    if (m) info = { availableBytes: Number(m[1]) * 1024, source: "MemAvailable" };
  } catch {
    // not Linux: os.freemem() it is
  }
  const limit = readNumber(`${cgroupRoot}/memory.max`);
  const used = readNumber(`${cgroupRoot}/memory.current`);
  if (limit !== null && used !== null && limit - used < info.availableBytes) info = { availableBytes: Math.max(0, limit - used), source: "cgroup" };
  return info;
}

export interface DiskInfo {
  /** The existing folder measured (the cache folder, or its nearest existing parent). */
  path: string;
  freeBytes: number;
  totalBytes: number;
}

export async function diskSpace(folder: string): Promise<DiskInfo> {
  let path = folder;
  for (;;) {
    try {
      const s = await statfs(path);
      return { path, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch (err) {
      const parent = dirname(path);
      if (parent === path) throw err;
      path = parent;
    }
  }
}
