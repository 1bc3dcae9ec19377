// Where the sidecar will find the configured Whisper model, and whether every file is there.
// faster-whisper 1.2.1: WhisperModel(name, download_root=MODEL_DIR) resolves a name through
// utils._MODELS to a Hugging Face repo and reads the hub cache layout
// <cache>/models--<org>--<repo>/snapshots/<commit>/ (refs/main names the commit).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/** faster_whisper.utils._MODELS (1.2.1). */
export const MODEL_REPOS: Record<string, string> = {
  "tiny.en": "Systran/faster-whisper-tiny.en",
  tiny: "Systran/faster-whisper-tiny",
  "base.en": "Systran/faster-whisper-base.en",
  base: "Systran/faster-whisper-base",
  "small.en": "Systran/faster-whisper-small.en",
  small: "Systran/faster-whisper-small",
  "medium.en": "Systran/faster-whisper-medium.en",
  medium: "Systran/faster-whisper-medium",
  "large-v1": "Systran/faster-whisper-large-v1",
  "large-v2": "Systran/faster-whisper-large-v2",
  "large-v3": "Systran/faster-whisper-large-v3",
  large: "Systran/faster-whisper-large-v3",
  "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
  "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
  "distil-small.en": "Systran/faster-distil-whisper-small.en",
  "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
  "distil-large-v3.5": "distil-whisper/distil-large-v3.5-ct2",
  "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
  turbo: "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
};

/** Approximate download size (float16 model.bin plus tokenizer), MB, by the name's family. */
export function approxModelMB(repoId: string): number {
  const r = repoId.toLowerCase();
  if (r.includes("turbo")) return 1620;
  if (r.includes("distil") && r.includes("small")) return 340;
  if (r.includes("distil") && r.includes("medium")) return 790;
  if (r.includes("distil")) return 1510;
  if (r.includes("large")) return 3090;
  if (r.includes("medium")) return 1530;
  if (r.includes("small")) return 485;
  if (r.includes("base")) return 145;
  if (r.includes("tiny")) return 75;
  return 3090; // unknown repo: assume the largest family
}

/**
 * Models with 128 mel bins (large-v3 and what derives from it) need preprocessor_config.json;
 * without it faster-whisper computes 80 bins and the model rejects the features. The older
 * Systran conversions (tiny ... large-v2) ship no such file and need none.
 */
export function needsPreprocessorConfig(nameOrPath: string): boolean {
  return /large-v3|turbo/i.test(nameOrPath);
}

/** The smallest real model.bin (tiny, int8) is tens of MB; below this it is a placeholder or cut short. */
export const MIN_MODEL_BIN_BYTES = 1024 * 1024;

export interface ModelFiles {
  /** Required files that are absent (vocabulary.* counts as one). */
  missing: string[];
  /** Sum of the sizes of the files in the folder (symlinks to hub blobs followed). */
  sizeBytes: number;
  /** Required files that are there but cannot be real: empty, or a model.bin under MIN_MODEL_BIN_BYTES. */
  empty: string[];
}

export function inspectModelDir(dir: string, nameOrPath: string): ModelFiles {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  const required = ["config.json", "model.bin", "tokenizer.json", ...(needsPreprocessorConfig(nameOrPath) ? ["preprocessor_config.json"] : [])];
  const missing = required.filter((f) => !isFile(join(dir, f)));
  const vocabulary = names.find((n) => n.startsWith("vocabulary.") && isFile(join(dir, n)));
  if (!vocabulary) missing.push("vocabulary.*");
  let sizeBytes = 0;
  const empty: string[] = [];
  for (const n of names) {
    const size = fileSize(join(dir, n));
    if (size === null) continue;
    sizeBytes += size;
    if (n === "model.bin" && size < MIN_MODEL_BIN_BYTES) empty.push(`model.bin (${size} bytes)`);
    else if (size === 0 && (required.includes(n) || n === vocabulary)) empty.push(`${n} (0 bytes)`);
  }
  return { missing, sizeBytes, empty };
}

/** The hub cache faster-whisper downloads into: MODEL_DIR (download_root), else huggingface_hub's default. */
export function hubCacheDir(modelDir: string | undefined, env: Record<string, string | undefined>): string {
  if (modelDir) return resolve(modelDir);
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const hfHome = env.HF_HOME || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "huggingface");
  return join(hfHome, "hub");
}

export type ModelLocation =
  /** WHISPER_MODEL is a directory. */
  | { kind: "dir"; path: string }
  /** WHISPER_MODEL looks like a path but is no directory. */
  | { kind: "no_dir"; path: string }
  /** Neither a known name nor a repo id. */
  | { kind: "unknown_name"; name: string }
  /** A hub model: `snapshot` is the folder that would load, null when not downloaded. */
  | { kind: "hub"; repoId: string; cacheDir: string; repoDir: string; snapshot: string | null };

export function locateModel(model: string, modelDir: string | undefined, env: Record<string, string | undefined>, cwd = process.cwd()): ModelLocation {
  const asPath = resolve(cwd, model);
  if (isDir(asPath)) return { kind: "dir", path: asPath };
  if (isAbsolute(model) || model.startsWith("./") || model.startsWith("../") || model.startsWith("~")) return { kind: "no_dir", path: asPath };
  const repoId = model.includes("/") ? model : MODEL_REPOS[model];
  if (!repoId) return { kind: "unknown_name", name: model };
  const cacheDir = hubCacheDir(modelDir, env);
  const repoDir = join(cacheDir, `models--${repoId.replace(/\//g, "--")}`);
  return { kind: "hub", repoId, cacheDir, repoDir, snapshot: snapshotOf(repoDir) };
}

/** The snapshot huggingface_hub resolves for revision "main": refs/main, else the newest snapshot. */
function snapshotOf(repoDir: string): string | null {
  const snapshots = join(repoDir, "snapshots");
  try {
    const ref = readFileSync(join(repoDir, "refs", "main"), "utf8").trim();
    if (ref && isDir(join(snapshots, ref))) return join(snapshots, ref);
  } catch {
    // no refs/main: fall back to what is there
  }
  let best: { path: string; mtime: number } | null = null;
  try {
    for (const name of readdirSync(snapshots)) {
      const path = join(snapshots, name);
      const st = statSafe(path);
      if (st?.isDirectory() && (!best || st.mtimeMs > best.mtime)) best = { path, mtime: st.mtimeMs };
    }
  } catch {
    return null;
  }
  return best?.path ?? null;
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function isDir(path: string): boolean {
  return statSafe(path)?.isDirectory() ?? false;
}

function isFile(path: string): boolean {
  return statSafe(path)?.isFile() ?? false;
}

function fileSize(path: string): number | null {
  const st = statSafe(path);
  return st?.isFile() ? st.size : null;
}
