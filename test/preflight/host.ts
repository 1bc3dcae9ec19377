// Simulated GPU hosts for the preflight tests: a fake nvidia-smi on PATH (replaying the fixtures),
// a real Python venv whose site-packages/nvidia/*/lib holds real shared objects built with
// `gcc -shared` under the real sonames, the ctranslate2 double at a chosen version, and the
// faster_whisper double with its fault injection.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PreflightOptions } from "../../handler/preflight/preflight.ts";
import { afterAll, beforeAll } from "vitest";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = join(REPO, "test", "fixtures", "gpu-host");
const DOUBLES = join(REPO, "test", "doubles");

/** A real interpreter (not a pyenv shim) to build venvs from. */
export function basePython(): string {
  return execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
}

/** Empty shared objects named and soname'd like the real libraries, compiled once per run. */
export class LibStore {
  private readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, "libstore");
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, "empty.c"), "int probe_test_marker = 1;\n");
  }
  get(soname: string): string {
    const out = join(this.dir, soname);
    if (!existsSync(out)) {
      execFileSync("gcc", ["-shared", "-fPIC", "-o", out, `-Wl,-soname,${soname}`, join(this.dir, "empty.c")]);
    }
    return out;
  }
}

export const CUBLAS12 = ["libcublas.so.12", "libcublasLt.so.12"];
export const CUBLAS11 = ["libcublas.so.11", "libcublasLt.so.11"];
export const CUDNN8 = ["libcudnn.so.8", "libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8"];
export const CUDNN9 = [
  "libcudnn.so.9",
  "libcudnn_ops.so.9",
  "libcudnn_cnn.so.9",
  "libcudnn_graph.so.9",
  "libcudnn_engines_precompiled.so.9",
  "libcudnn_engines_runtime_compiled.so.9",
];

export interface HostSpec {
  /** nvidia-smi scenario (test/fixtures/gpu-host/scenarios), or null: no nvidia-smi at all. */
  nvidiaSmi: string | null;
  /** ctranslate2 double version, or null: ctranslate2 not installed. */
  ct2Version: string | null;
  cudaDevices?: number;
  /** Compute capability the ctranslate2 double reports ("9.0" by default). */
  cudaCc?: string;
  /** pip layout: folder under site-packages -> sonames, e.g. {"nvidia/cublas/lib": CUBLAS12}. */
  pipLibs?: Record<string, string[]>;
  /** Extra env for the doubles (FAKE_FW_FAULT, FAKE_FW_TEXT, ...). */
  env?: Record<string, string>;
}

export interface Host {
  dir: string;
  python: string;
  sitePackages: string;
  env: Record<string, string | undefined>;
  cacheDir: string;
  modelDir: string;
  callLog: string;
  options(extra?: Partial<PreflightOptions>): PreflightOptions;
  /** The preflight as the CLI would get it: same env, plus settings. */
  cleanup(): void;
}

export const SPEECH_TEXT = readFileSync(join(REPO, "sidecar", "smoke", "speech.txt"), "utf8").trim();

export function makeHost(root: string, store: LibStore, python: string, spec: HostSpec): Host {
  const dir = mkdtempSync(join(root, "host-"));
  const venv = join(dir, "venv");
  execFileSync(python, ["-m", "venv", "--without-pip", "--system-site-packages", venv]);
  const venvPython = join(venv, "bin", "python");
  const sitePackages = execFileSync(venvPython, ["-c", "import site; print(site.getsitepackages()[0])"], { encoding: "utf8" }).trim();
  for (const [folder, sonames] of Object.entries(spec.pipLibs ?? {})) {
    mkdirSync(join(sitePackages, folder), { recursive: true });
    for (const s of sonames) copyFileSync(store.get(s), join(sitePackages, folder, s));
  }

  const bin = join(dir, "bin");
  mkdirSync(bin);
  if (spec.nvidiaSmi) {
    const wrapper = join(bin, "nvidia-smi");
    writeFileSync(wrapper, `#!/bin/sh\nexec '${venvPython}' '${join(FIXTURES, "nvidia-smi")}' "$@"\n`);
    chmodSync(wrapper, 0o755);
  }

  // The faster_whisper double always (with huggingface_hub's, which pip installs with it); the
  // ctranslate2 double only when "installed".
  const pkgs = join(dir, "pythonpath");
  mkdirSync(pkgs);
  symlinkSync(join(DOUBLES, "faster_whisper"), join(pkgs, "faster_whisper"));
  symlinkSync(join(DOUBLES, "huggingface_hub"), join(pkgs, "huggingface_hub"));
  if (spec.ct2Version) symlinkSync(join(DOUBLES, "ctranslate2"), join(pkgs, "ctranslate2"));

  const cacheDir = join(dir, "cache");
  const modelDir = join(dir, "models");
  const callLog = join(dir, "calls.jsonl");
  const env: Record<string, string | undefined> = {
    PATH: bin,
    HOME: dir,
    XDG_CACHE_HOME: join(dir, "xdg-cache"),
    PYTHONPATH: pkgs,
    PYTHONDONTWRITEBYTECODE: "1",
    FAKE_NVSMI_SCENARIO: spec.nvidiaSmi ?? undefined,
    FAKE_CT2_VERSION: spec.ct2Version ?? undefined,
    FAKE_CT2_CUDA_DEVICES: String(spec.cudaDevices ?? (spec.nvidiaSmi && spec.nvidiaSmi !== "no-driver" ? 1 : 0)),
    FAKE_CT2_CUDA_CC: spec.cudaCc ?? "9.0",
    FAKE_FW_TEXT: SPEECH_TEXT,
    FAKE_FW_CALL_LOG: callLog,
    ...spec.env,
  };
  return {
    dir,
    python: venvPython,
    sitePackages,
    env,
    cacheDir,
    modelDir,
    callLog,
    options: (extra = {}) => ({
      python: venvPython,
      env,
      model: "tiny",
      modelDir,
      nvidiaSmiBin: "nvidia-smi",
      timeoutMs: 30_000,
      smokeTimeoutMs: 30_000,
      cacheDir,
      ...extra,
    }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One JSON object per line of the faster_whisper double's call log (absent file: none). */
export function readCalls(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function makeRoot(): string {
  return mkdtempSync(join(tmpdir(), "vw-preflight-test-"));
}

/** Per test file: a temp root with a library store and the base interpreter, removed afterwards. */
export function useHostWorkspace(set: (w: { root: string; store: LibStore; python: string }) => void): void {
  let root = "";
  beforeAll(() => {
    root = makeRoot();
    set({ root, store: new LibStore(root), python: basePython() });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
}
