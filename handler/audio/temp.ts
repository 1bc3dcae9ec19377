// Each job gets a private folder (mode 0700) for its input file; ffmpeg needs a seekable file
// (m4a from iOS keeps its index at the end, unreadable from a pipe). The folder is removed on
// every path: success, error, timeout, abort, ffmpeg killed.
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

export const JOB_DIR_PREFIX = "vw-audio-";

export async function withJobDir<T>(baseDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  // The owner's pid in the name lets a later start remove what a killed worker left behind.
  const dir = await mkdtemp(join(baseDir, `${JOB_DIR_PREFIX}${process.pid}-`));
  try {
    await chmod(dir, 0o700); // mkdtemp already uses 0700; made explicit against an unusual umask handling
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes job folders (user audio) left by workers that were killed (SIGKILL, OOM) before their
 * cleanup ran: those whose owner process is gone. Called once at start. Returns how many went.
 */
export async function removeOrphanJobDirs(baseDir: string): Promise<number> {
  let removed = 0;
  const entries = await readdir(baseDir).catch(() => [] as string[]);
  for (const name of entries) {
    const m = new RegExp(`^${JOB_DIR_PREFIX}(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(baseDir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
