import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface LocalStackInfo {
  UPSTASH_REDIS_REST_URL: string;
  UPSTASH_REDIS_REST_TOKEN: string;
  pid: number;
}

/**
 * Where a running local stack leaves its URL and token (mode 0600), so that `npm run queue`
 * in another terminal finds the queue `npm start` consumes, with no settings at all.
 */
export function localStackFile(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "voice-worker", "local-stack.json");
}

export function writeLocalStackInfo(info: LocalStackInfo): void {
  const file = localStackFile();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(info), { mode: 0o600 });
}

export function removeLocalStackInfo(pid = process.pid): void {
  const info = readLocalStackInfo();
  if (info && info.pid === pid) rmSync(localStackFile(), { force: true });
}

/** The running local stack's settings, or null if none is running. */
export function readLocalStackInfo(): LocalStackInfo | null {
  try {
    const info = JSON.parse(readFileSync(localStackFile(), "utf8")) as LocalStackInfo;
    process.kill(info.pid, 0); // a stale file from a killed stack must not be used
    return info;
  } catch {
    return null;
  }
}
