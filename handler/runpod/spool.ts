// Results RunPod did not accept, kept on local disk and re-posted while the worker lives: the
// SDK retries a post three times and then drops the result; this worker keeps it.
import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, open, readdir, readFile, rename, rm, chmod } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.ts";
import type { JobDoneBody } from "./result.ts";

export interface SpooledResult {
  jobId: string;
  isStream: boolean;
  body: JobDoneBody;
  keptAt: number;
}

export interface SpoolLimits {
  maxBytes: number;
  maxEntries: number;
}

/** Most results kept at once, whatever their size: a bound on files and on the memory of the index. */
export const SPOOL_MAX_ENTRIES = 1000;

const FORMAT = 1;
const fileOf = (jobId: string) => `${createHash("sha256").update(jobId).digest("hex").slice(0, 40)}.json`;
const safeName = (id: string) => (/^[A-Za-z0-9_-]{1,100}$/.test(id) ? id : createHash("sha256").update(id).digest("hex").slice(0, 40));

/**
 * A private folder of its own (mode 0700, owned by this user, not a symlink): someone else's
 * folder at that path, or a link to one, could read results or plant them.
 */
async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const st = await lstat(path);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${path} is not a plain directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${path} belongs to another user (uid ${st.uid})`);
  if ((st.mode & 0o077) !== 0) await chmod(path, 0o700);
}

/**
 * The spool of one worker: `<dir>/<worker id>/<hash of the job id>.json`, each file mode 0600,
 * written whole (temp file, then rename). Bounded in bytes and in entries; what does not fit
 * is refused and the caller says so. Entries left by an earlier process with the same worker
 * id (a restarted container) are loaded and re-posted.
 */
export class ResultSpool {
  readonly #entries = new Map<string, { result: SpooledResult; bytes: number }>();
  #bytes = 0;

  private constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly log: Logger,
  ) {}

  /** Null when the folder cannot be used safely (logged: results that cannot be posted are then lost). */
  static async open(root: string, workerId: string, limits: SpoolLimits, log: Logger): Promise<ResultSpool | null> {
    const dir = join(root, safeName(workerId));
    try {
      await privateDir(root);
      await privateDir(dir);
    } catch (err) {
      log.error({ err, dir }, "RUNPOD_SPOOL_DIR cannot be used: a result RunPod does not accept will be lost");
      return null;
    }
    const spool = new ResultSpool(dir, limits, log);
    await spool.#load();
    return spool;
  }

  size(): number {
    return this.#entries.size;
  }

  bytes(): number {
    return this.#bytes;
  }

  /** Oldest first. */
  list(): SpooledResult[] {
    return [...this.#entries.values()].map((e) => e.result).sort((a, b) => a.keptAt - b.keptAt);
  }

  pathOf(jobId: string): string {
    return join(this.dir, fileOf(jobId));
  }

  /** Keeps a result; a later one for the same job replaces it. Returns why not when it cannot. */
  async add(result: SpooledResult): Promise<{ kept: true } | { kept: false; why: string }> {
    const text = JSON.stringify({ format: FORMAT, ...result });
    const bytes = Buffer.byteLength(text);
    const replaced = this.#entries.get(result.jobId);
    const count = this.#entries.size + (replaced ? 0 : 1);
    const total = this.#bytes - (replaced?.bytes ?? 0) + bytes;
    if (count > this.limits.maxEntries) return { kept: false, why: `the spool already holds ${this.limits.maxEntries} results` };
    if (total > this.limits.maxBytes) return { kept: false, why: `the spool would hold ${total} bytes, over its ${this.limits.maxBytes}` };
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString("hex")}`);
    try {
      const file = await open(tmp, "wx", 0o600);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.pathOf(result.jobId));
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      return { kept: false, why: `writing ${this.dir} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    this.#entries.set(result.jobId, { result, bytes });
    this.#bytes = total;
    return { kept: true };
  }

  async remove(jobId: string): Promise<void> {
    const e = this.#entries.get(jobId);
    if (!e) return;
    this.#entries.delete(jobId);
    this.#bytes -= e.bytes;
    await rm(this.pathOf(jobId), { force: true }).catch((err: unknown) => this.log.warn({ err, jobId }, "removing a delivered result from the spool failed"));
  }

  async #load(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      if (name.startsWith(".tmp-")) {
        await rm(path, { force: true }).catch(() => undefined); // a write cut short by a kill
        continue;
      }
      if (!name.endsWith(".json")) continue;
      try {
        const text = await readFile(path, "utf8");
        const parsed = JSON.parse(text) as SpooledResult & { format?: number };
        if (parsed.format !== FORMAT || typeof parsed.jobId !== "string" || typeof parsed.body !== "object" || name !== fileOf(parsed.jobId))
          throw new Error("not a spooled result");
        const result: SpooledResult = { jobId: parsed.jobId, isStream: parsed.isStream === true, body: parsed.body, keptAt: Number(parsed.keptAt) || 0 };
        const bytes = Buffer.byteLength(text);
        this.#entries.set(result.jobId, { result, bytes });
        this.#bytes += bytes;
      } catch (err) {
        this.log.warn({ err, file: path }, "unreadable file in the result spool: removed");
        await rm(path, { force: true }).catch(() => undefined);
      }
    }
    if (this.#entries.size > 0)
      this.log.warn({ results: this.#entries.size, dir: this.dir }, "results an earlier run could not post are in the spool: re-posting them");
  }
}
