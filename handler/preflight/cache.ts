// The verdict of the slow tiers (1 and 2) is cached: a CUDA smoke transcription costs a model
// load. The key is everything that can change the answer; any change runs the preflight again.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { VERDICT_CODES, type Verdict } from "./verdict.ts";

export interface CacheKey {
  driverVersion: string | null;
  ctranslate2: string;
  gpuUuid: string | null;
  ldLibraryPath: string;
  /** The smoke model: a different model can need a different compute type. */
  model: string;
  /** CUDA_COMPUTE_TYPE as set ("auto" or a fixed type). */
  computeType: string;
}

interface CacheFile {
  version: 1;
  key: CacheKey;
  verdict: Verdict;
  at: string;
}

const KEY_FIELDS: Array<keyof CacheKey> = ["driverVersion", "ctranslate2", "gpuUuid", "ldLibraryPath", "model", "computeType"];

/** PROBE_CACHE_DIR, else $XDG_CACHE_HOME/voice-worker, else ~/.cache/voice-worker. */
export function preflightCachePath(env: Record<string, string | undefined>, cacheDir?: string): string {
  const dir = cacheDir ?? join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "voice-worker");
  return join(dir, "probe.json"); // the name predates "preflight": kept so existing caches stay valid
}

export function sameKey(a: CacheKey, b: CacheKey): boolean {
  return KEY_FIELDS.every((f) => a[f] === b[f]);
}

/** The cached verdict for `key`, or null (no file, unreadable, another key, a stale format). */
export function readCachedVerdict(path: string, key: CacheKey): Verdict | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
  const file = parsed as Partial<CacheFile>;
  if (file?.version !== 1 || !file.key || !file.verdict) return null;
  if (!sameKey(file.key, key)) return null;
  if (!(VERDICT_CODES as readonly string[]).includes(file.verdict.code)) return null;
  return file.verdict;
}

/** Written atomically (temp file + rename) so a killed preflight never leaves half a file. */
export function writeCachedVerdict(path: string, key: CacheKey, verdict: Verdict, now = new Date()): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const body: CacheFile = { version: 1, key, verdict, at: now.toISOString() };
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Drops the cached verdict, so the next start runs the preflight again. For the sidecar client: when a
 * sidecar that the preflight cleared aborts on CUDA at run time, the cached "ok" is wrong.
 */
export function forgetCachedVerdict(path: string): void {
  rmSync(path, { force: true });
}
