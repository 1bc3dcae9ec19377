// What the figures were measured on: printed with every benchmark and chaos run.
import { cpus, totalmem, loadavg, platform, release } from "node:os";
import { execa } from "execa";

export interface MachineInfo {
  cpu_model: string;
  cores: number;
  memory_gib: number;
  load_avg_1m: number;
  os: string;
  node: string;
  ffmpeg: string;
  python: string;
  redis_server: string;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await execa(cmd, args, { reject: false, timeout: 10_000, stdin: "ignore", all: true });
    return (r.all ?? "").split("\n")[0]?.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const c = cpus();
  const [ffmpeg, python, redis] = await Promise.all([
    firstLine("ffmpeg", ["-version"]),
    firstLine("python3", ["--version"]),
    firstLine("redis-server", ["--version"]),
  ]);
  return {
    cpu_model: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    load_avg_1m: Math.round(loadavg()[0]! * 100) / 100,
    os: `${platform()} ${release()}`,
    node: process.version,
    ffmpeg: ffmpeg.replace(/^ffmpeg version (\S+).*/, "$1"),
    python: python.replace(/^Python /, ""),
    redis_server: redis.replace(/^Redis server v=(\S+).*/, "$1"),
  };
}
