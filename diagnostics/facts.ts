// What several steps need to know about the host, asked once (memoised) and within the run's
// deadline: the sidecar's interpreter and its packages, nvidia-smi, ctranslate2, the CUDA
// libraries it needs. The questions themselves are the CUDA preflight's (handler/preflight/).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WorkerError } from "../handler/errors.ts";
import { lastJson, runChild, tail, type ChildOutcome } from "../handler/preflight/child.ts";
import { REPO_ROOT } from "../handler/preflight/config.ts";
import { resolveSidecarPython, sidecarLibraryEnv } from "../handler/preflight/library-path.ts";
import { findOnPath, queryNvidiaSmi, visibleGpu, type GpuInfo, type NvidiaSmiResult } from "../handler/preflight/nvidia-smi.ts";
import { checkLibraries, ctranslate2Facts, type Ct2FactsResult, type LibraryResult } from "../handler/preflight/python-tiers.ts";
import { requiredSonames, requirementsFor, type CudaRequirements } from "../handler/preflight/requirements.ts";
import type { DiagnoseConfig } from "./config.ts";
import { locateModel, type ModelLocation } from "./model-files.ts";
import type { DiagnoseFlags } from "./types.ts";

const PY_DIR = fileURLToPath(new URL("./python/", import.meta.url));

/** The sidecar's packages: import name and the distribution names that provide it. */
export const PACKAGES = [
  { module: "faster_whisper", dists: ["faster-whisper"] },
  { module: "ctranslate2", dists: ["ctranslate2"] },
  { module: "numpy", dists: ["numpy"] },
  { module: "av", dists: ["av"] },
  { module: "onnxruntime", dists: ["onnxruntime", "onnxruntime-gpu"] },
  { module: "torch", dists: ["torch"] },
] as const;
export type PackageModule = (typeof PACKAGES)[number]["module"];

export interface PackageInfo {
  dist: string | null;
  version: string | null;
  importable: boolean;
  location: string | null;
}

export interface PythonEnv {
  executable: string;
  version: string;
  prefix: string;
  base_prefix: string;
  venv: boolean;
  system_site_packages: boolean | null;
  externally_managed: boolean;
}

export type PythonVersion = { status: "ok"; version: string; major: number; minor: number } | { status: "missing" } | { status: "failed"; message: string };

export interface GpuState {
  smi: NvidiaSmiResult;
  /** The GPU CUDA calls device 0 (nvidia-smi's view), when it answered. */
  gpu: GpuInfo | null;
  driver: string | null;
  /** ctranslate2.get_cuda_device_count(); null when ctranslate2 is not importable. */
  ct2Devices: number | null;
  /** A GPU the worker could use: nvidia-smi lists one, or ctranslate2 counts one. */
  present: boolean;
}

/** The ctranslate2 the CUDA requirements follow: the installed one, else the pin setup would install. */
export interface Ct2Target {
  version: string;
  source: "installed" | "pinned";
}

export interface DiagnoseInput {
  config: DiagnoseConfig;
  /** Environment of every child and of PATH look-ups (tests pass a simulated host's). */
  env: Record<string, string | undefined>;
  flags: DiagnoseFlags;
  /** Where sidecar/.venv and sidecar/requirements.txt are (the repository). */
  repoRoot?: string;
  /** Directory a relative WHISPER_MODEL is resolved against (the worker's working directory). */
  cwd?: string;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= fn());
}

export class HostFacts {
  readonly python: string;
  readonly repoRoot: string;
  readonly config: DiagnoseConfig;
  readonly env: Record<string, string | undefined>;
  readonly flags: DiagnoseFlags;

  constructor(
    readonly input: DiagnoseInput,
    /** Epoch ms by which every check must have answered. */
    readonly deadline: number,
  ) {
    this.repoRoot = input.repoRoot ?? REPO_ROOT;
    this.config = input.config;
    this.env = input.env;
    this.flags = input.flags;
    this.python = resolveSidecarPython(input.config.SIDECAR_PYTHON, this.repoRoot);
  }

  /** Time left for one child or request: what remains before the deadline, less a margin to report. */
  timeoutMs(cap = Number.POSITIVE_INFINITY): number {
    return Math.max(200, Math.min(cap, this.deadline - Date.now() - 300));
  }

  /** DEVICE=cuda or --require-gpu: no usable GPU is a failure. */
  get requireGpu(): boolean {
    return this.flags.requireGpu || this.config.DEVICE === "cuda";
  }

  /** The sidecar interpreter's path on this host, or null when it cannot be found. */
  pythonPath(): string | null {
    return findOnPath(this.python, this.env);
  }

  /** Runs the sidecar's interpreter; `problem` says why it gave no answer, for messages. */
  async runPython(args: string[]): Promise<ChildOutcome & { problem: string }> {
    const timeoutMs = this.timeoutMs();
    const r = await runChild(this.python, args, { env: this.env, timeoutMs });
    return { ...r, problem: childProblem(r, timeoutMs) };
  }

  readonly pythonVersion = once(async (): Promise<PythonVersion> => {
    if (!this.pythonPath()) return { status: "missing" };
    const r = await this.runPython(["--version"]);
    // Python 3.4+ prints "Python X.Y.Z" on stdout, Python 2 on stderr.
    const m = /Python (\d+)\.(\d+)(?:\.(\d+))?\S*/.exec(`${r.stdout}\n${r.stderr}`);
    if (r.exitCode === 0 && m) return { status: "ok", version: m[0].slice(7), major: Number(m[1]), minor: Number(m[2]) };
    return { status: "failed", message: r.problem };
  });

  /** The interpreter exists and is >= 3.9 (the rest of the Python questions need that). */
  readonly pythonUsable = once(async (): Promise<boolean> => {
    const v = await this.pythonVersion();
    return v.status === "ok" && (v.major > 3 || (v.major === 3 && v.minor >= 9));
  });

  readonly pythonEnv = once(async (): Promise<PythonEnv | { error: string }> => {
    const r = await this.runPython([join(PY_DIR, "env_facts.py")]);
    const out = lastJson<PythonEnv>(r.stdout, (v) => "venv" in v);
    return out ?? { error: r.problem };
  });

  readonly packages = once(async (): Promise<Record<PackageModule, PackageInfo> | { error: string }> => {
    if (!(await this.pythonUsable())) return { error: `${this.python} is not a usable Python >= 3.9` };
    const r = await this.runPython([join(PY_DIR, "packages.py"), ...PACKAGES.map((p) => `${p.module}=${p.dists.join(",")}`)]);
    const out = lastJson<{ packages: Record<PackageModule, PackageInfo> }>(r.stdout, (v) => "packages" in v);
    return out?.packages ?? { error: r.problem };
  });

  /** The spawn environment of CUDA-touching children: LD_LIBRARY_PATH with the pip NVIDIA lib folders. */
  readonly libraryEnv = once(async (): Promise<{ env: Record<string, string | undefined>; libDirs: string[] } | { error: string }> => {
    if (!(await this.pythonUsable())) return { error: `${this.python} is not a usable Python >= 3.9` };
    try {
      const lib = await sidecarLibraryEnv(this.python, this.env, { timeoutMs: this.timeoutMs() });
      return { env: { ...this.env, LD_LIBRARY_PATH: lib.LD_LIBRARY_PATH || undefined }, libDirs: lib.libDirs };
    } catch (err) {
      return { error: err instanceof WorkerError ? err.message : String(err) };
    }
  });

  readonly nvidiaSmi = once(() => queryNvidiaSmi({ bin: this.config.NVIDIA_SMI_BIN, env: this.env, timeoutMs: this.timeoutMs() }));

  readonly ct2 = once(async (): Promise<Ct2FactsResult | { status: "no_python"; message: string }> => {
    const lib = await this.libraryEnv();
    if ("error" in lib) return { status: "no_python", message: lib.error };
    return ctranslate2Facts({ python: this.python, env: lib.env, timeoutMs: this.timeoutMs() });
  });

  readonly gpu = once(async (): Promise<GpuState> => {
    const [smi, ct2] = await Promise.all([this.nvidiaSmi(), this.ct2()]);
    const gpu = smi.status === "ok" ? (visibleGpu(smi.gpus, this.env.CUDA_VISIBLE_DEVICES) ?? null) : null;
    const ct2Devices = ct2.status === "ok" && ct2.facts.ctranslate2 ? ct2.facts.cudaDeviceCount : null;
    return { smi, gpu, driver: smi.status === "ok" ? smi.driverVersion : null, ct2Devices, present: gpu !== null || (ct2Devices ?? 0) > 0 };
  });

  /** `ctranslate2==X` in sidecar/requirements.txt, or null. */
  pinnedCt2(): string | null {
    return pinnedVersion(join(this.repoRoot, "sidecar", "requirements.txt"), "ctranslate2");
  }

  readonly ct2Target = once(async (): Promise<Ct2Target | null> => {
    const ct2 = await this.ct2();
    const installed = ct2.status === "ok" ? ct2.facts.ctranslate2 : null;
    if (installed) return { version: installed, source: "installed" };
    const pinned = this.pinnedCt2();
    return pinned ? { version: pinned, source: "pinned" } : null;
  });

  readonly requirements = once(async (): Promise<{ req: CudaRequirements; target: Ct2Target } | { error: string } | null> => {
    const target = await this.ct2Target();
    if (!target) return null;
    try {
      return { req: requirementsFor(target.version), target };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  });

  /** dlopen of every soname the target ctranslate2 needs, in a fresh child with the sidecar's LD_LIBRARY_PATH. */
  readonly libraries = once(async (): Promise<LibraryResult | { status: "unavailable"; message: string }> => {
    const [lib, r] = await Promise.all([this.libraryEnv(), this.requirements()]);
    if ("error" in lib) return { status: "unavailable", message: lib.error };
    if (!r || "error" in r) return { status: "unavailable", message: r ? r.error : "no ctranslate2 installed or pinned" };
    return checkLibraries(requiredSonames(r.req), { python: this.python, env: lib.env, timeoutMs: this.timeoutMs() });
  });

  readonly model = once(async (): Promise<ModelLocation> => locateModel(this.config.WHISPER_MODEL, this.config.MODEL_DIR, this.env, this.input.cwd));

  /** Downloads are off: MODEL_DOWNLOAD=never or huggingface_hub's HF_HUB_OFFLINE. */
  get offline(): boolean {
    const hf = (this.env.HF_HUB_OFFLINE ?? "").toLowerCase();
    return this.config.MODEL_DOWNLOAD === "never" || ["1", "true", "yes", "on"].includes(hf);
  }
}

/** `name==X` from a requirements file (exact pins only). */
export function pinnedVersion(file: string, name: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const re = new RegExp(`^\\s*${name.replace(/[-_.]/g, "[-_.]")}\\s*==\\s*([0-9][^\\s;#]*)`, "im");
  return re.exec(text)?.[1] ?? null;
}

function childProblem(r: ChildOutcome, timeoutMs: number): string {
  if (r.timedOut) return `no answer within ${timeoutMs} ms`;
  if (r.spawnError) return r.spawnError;
  const why = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
  return `${why}${r.stderr ? `: ${tail(r.stderr, 300)}` : ""}`;
}
