// Simulated hosts for diagnose: the preflight's (test/preflight/host.ts: fake nvidia-smi, a real venv
// with real gcc-built sonames, the ctranslate2 and faster_whisper doubles), plus package
// metadata as pip writes it (*.dist-info/METADATA), a fake ffmpeg replaying ffmpeg 5.1's real
// output, fake interpreters, and model folders in the Hugging Face cache layout.
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { loadDiagnoseConfig } from "../../diagnostics/config.ts";
import { findExecutable } from "../../handler/local-stack/find-executable.ts";
import { runDiagnose } from "../../diagnostics/run.ts";
import type { DiagnoseFlags, StepId, StepResult } from "../../diagnostics/types.ts";
import { FIXTURES, makeHost, REPO, type Host, type HostSpec, type LibStore } from "../preflight/host.ts";

export const DIAG_FIXTURES = join(REPO, "test", "diagnostics", "fixtures");
export const CUDA13_LAYOUT = (JSON.parse(readFileSync(join(FIXTURES, "layouts", "h100-cu130.json"), "utf8")) as { site_packages: Record<string, string[]> })
  .site_packages;

export interface DiagHostSpec extends HostSpec {
  /** Leave the faster_whisper double out: faster-whisper not installed. */
  noFasterWhisper?: boolean;
  /** Distributions with metadata (and, for av/onnxruntime, an importable stub module). */
  dists?: Record<string, string>;
  /** Put ffmpeg/ffprobe on PATH: "real" (this machine's), "fake" (the 5.1 replay), or none. */
  ffmpeg?: "real" | "fake" | null;
}

export interface DiagHost extends Host {
  bin: string;
  pythonpath: string;
  /** Runs diagnose on this host: settings from `env` (SIDECAR_PYTHON = the host's venv by default). */
  diagnose(opts?: { env?: Record<string, string | undefined>; flags?: Partial<DiagnoseFlags>; only?: StepId[]; repoRoot?: string }): Promise<StepResult[]>;
}

const STUB_MODULES: Record<string, string> = { av: "av", onnxruntime: "onnxruntime", numpy: "numpy" };

/** What pip leaves for an installed distribution: importlib.metadata reads Name and Version here. */
export function writeDistInfo(dir: string, dist: string, version: string): void {
  const info = join(dir, `${dist.replace(/-/g, "_")}-${version}.dist-info`);
  mkdirSync(info, { recursive: true });
  writeFileSync(join(info, "METADATA"), `Metadata-Version: 2.1\nName: ${dist}\nVersion: ${version}\n`);
}

export function makeDiagHost(root: string, store: LibStore, python: string, spec: DiagHostSpec): DiagHost {
  const h = makeHost(root, store, python, spec);
  const pythonpath = join(h.dir, "pythonpath");
  const bin = join(h.dir, "bin");
  if (spec.noFasterWhisper) rmSync(join(pythonpath, "faster_whisper"));
  for (const [dist, version] of Object.entries(spec.dists ?? {})) {
    writeDistInfo(pythonpath, dist, version);
    const stub = STUB_MODULES[dist];
    if (stub && dist !== "numpy") {
      mkdirSync(join(pythonpath, stub), { recursive: true });
      writeFileSync(join(pythonpath, stub, "__init__.py"), `__version__ = ${JSON.stringify(version)}\n`);
    }
  }
  if (spec.ffmpeg === "fake") {
    for (const tool of ["ffmpeg", "ffprobe"]) symlinkSync(join(DIAG_FIXTURES, "fake-ffmpeg"), join(bin, tool));
  } else if (spec.ffmpeg === "real") {
    for (const tool of ["ffmpeg", "ffprobe"]) {
      const real = findExecutable(tool);
      if (!real) throw new Error(`${tool} is not installed on this machine (npm run setup -- --tests installs it)`);
      symlinkSync(real, join(bin, tool));
    }
  }
  // The fakes are scripts: give them a shell and the usual tools, but nothing else of the host.
  for (const tool of ["sh", "bash", "env", "awk", "cat", "basename", "dirname", "readlink"]) {
    const real = findExecutable(tool);
    if (real) symlinkSync(real, join(bin, tool));
  }
  return {
    ...h,
    bin,
    pythonpath,
    async diagnose(opts = {}) {
      const env = { ...h.env, SIDECAR_PYTHON: h.python, ...opts.env };
      const config = loadDiagnoseConfig(env, null);
      const report = await runDiagnose(
        { config, env, flags: { requireGpu: false, quick: false, deep: false, ...opts.flags }, repoRoot: opts.repoRoot ?? REPO, cwd: h.dir },
        { only: opts.only },
      );
      return report.steps;
    },
  };
}

export function step(results: StepResult[], id: StepId): StepResult {
  const r = results.find((s) => s.id === id);
  if (!r) throw new Error(`step ${id} not in the report`);
  return r;
}

/** An executable shell script. */
export function writeScript(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export const MODEL_FILES = ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"];

/** A model folder with these files (small contents). */
export function writeModelDir(dir: string, files: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), f === "model.bin" ? Buffer.alloc(2 * 1024 * 1024, 1) : "{}");
  return dir;
}

/**
 * A model in the Hugging Face hub cache as huggingface_hub writes it: blobs/<sha256>,
 * snapshots/<commit>/<file> symlinks to them, refs/main holding the commit.
 */
export function writeHubModel(cacheDir: string, repoId: string, files: string[]): string {
  const repo = join(cacheDir, `models--${repoId.replace(/\//g, "--")}`);
  const commit = createHash("sha1").update(repoId).digest("hex");
  const snapshot = join(repo, "snapshots", commit);
  mkdirSync(join(repo, "blobs"), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(repo, "refs"), { recursive: true });
  writeFileSync(join(repo, "refs", "main"), commit);
  for (const f of files) {
    const body = f === "model.bin" ? Buffer.alloc(2 * 1024 * 1024, 1) : Buffer.from(`{"file": "${f}"}`);
    const sha = createHash("sha256").update(body).update(f).digest("hex");
    writeFileSync(join(repo, "blobs", sha), body);
    symlinkSync(join("..", "..", "blobs", sha), join(snapshot, f));
  }
  return snapshot;
}
