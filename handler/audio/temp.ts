// Each job gets a private folder (mode 0700) for its input file; ffmpeg needs a seekable file
// (m4a from iOS keeps its index at the end, unreadable from a pipe). The folder is removed on
// every path: success, error, timeout, abort, ffmpeg killed.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";

export const JOB_DIR_PREFIX = "vw-audio-";

export async function withJobDir<T>(baseDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(baseDir, JOB_DIR_PREFIX));
  try {
    await chmod(dir, 0o700); // mkdtemp already uses 0700; made explicit against an unusual umask handling
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
