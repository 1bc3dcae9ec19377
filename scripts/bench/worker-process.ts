// The real worker (`npm start`'s program) as a child process on the faster_whisper test double,
// for the benchmark, the chaos run and the corpus test. Unlike test/helpers/worker-process.ts
// it starts from a clean environment in a private working directory: no setting, secret,
// `.env` file or `test_input.json` of the person running it leaks into the measurement.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { settingsShape } from "../../handler/config/schema.ts";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const MAIN = join(REPO_ROOT, "handler", "main.ts");
const TSX = import.meta.resolve("tsx");

/** The faster-whisper test double in place of the engine; JSON logs at debug level. */
export const DOUBLE_ENV: Record<string, string> = {
  DEVICE: "cpu",
  PYTHONPATH: join(REPO_ROOT, "test", "doubles"),
  LOG_FORMAT: "json",
  LOG_LEVEL: "debug",
};

const DROPPED = /^(UPSTASH_|RUNPOD_|GEMINI_|GOOGLE_|FAKE_FW_|NODE_OPTIONS$)/;

/** The caller's environment without worker settings, secrets or test-double switches. */
export function cleanEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || DROPPED.test(k) || k in settingsShape) continue;
    out[k] = v;
  }
  return out;
}

export interface WorkerExit {
  code: number | null;
  signal: string | null;
}

export interface WorkerProcess {
  pid: number;
  /** performance.now() at spawn. */
  spawnedAt: number;
  /** Date.now() at spawn (compare with a log line's `time`). */
  spawnedAtEpochMs: number;
  /** Every stdout/stderr line, in order. */
  lines: string[];
  exited: Promise<WorkerExit>;
  readonly alive: boolean;
  /** The first line (already seen or coming) matching `re`; rejects after `ms` or when the process exits. */
  waitFor(re: RegExp, ms?: number, from?: number): Promise<string>;
  /** The pid of the current speech sidecar (from its "speech sidecar ready" log line), if alive. */
  sidecarPid(): number | null;
  /** Resident memory of the worker process (node), in KiB; null once it is gone. */
  rssKiB(): number | null;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; resolves with the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<WorkerExit>;
}

export interface StartOptions {
  /** Called with each log line as it arrives. */
  onLine?: (line: string) => void;
  args?: string[];
}

export function startWorkerProcess(env: Record<string, string>, opts: StartOptions = {}): WorkerProcess {
  const cwd = mkdtempSync(join(tmpdir(), "vw-bench-cwd-"));
  const spawnedAt = performance.now();
  const spawnedAtEpochMs = Date.now();
  const child: ResultPromise = execa("node", ["--import", TSX, MAIN, ...(opts.args ?? [])], {
    cwd,
    env: { ...cleanEnv(), ...DOUBLE_ENV, ...env },
    extendEnv: false,
    reject: false,
    buffer: false,
    all: true,
    stdin: "ignore",
    cleanup: true,
  });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; from: number; resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  let alive = true;
  const exited = child.then(
    (r) => ({ code: r.exitCode ?? null, signal: r.signal ?? null }),
    (err: { exitCode?: number; signal?: string }) => ({ code: err.exitCode ?? null, signal: err.signal ?? null }),
  );
  void exited.then(() => {
    alive = false;
    rmSync(cwd, { recursive: true, force: true });
    for (const w of waiters.splice(0)) w.reject(new Error(`the worker exited before a line matching ${w.re}:\n${lines.slice(-15).join("\n")}`));
  });
  if (child.all) {
    createInterface({ input: child.all }).on("line", (line) => {
      lines.push(line);
      opts.onLine?.(line);
      for (const w of [...waiters]) {
        if (lines.length - 1 >= w.from && w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }
  const pid = child.pid ?? -1;
  return {
    pid,
    spawnedAt,
    spawnedAtEpochMs,
    lines,
    exited,
    get alive() {
      return alive;
    },
    waitFor(re, ms = 60_000, from = 0) {
      const hit = lines.slice(from).find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      if (!alive) return Promise.reject(new Error(`the worker has exited; no line matching ${re}`));
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`no log line matching ${re} within ${ms} ms:\n${lines.slice(-15).join("\n")}`));
        }, ms);
        const done = (l: string) => {
          clearTimeout(timer);
          resolvePromise(l);
        };
        waiters.push({ re, from, resolve: done, reject: (e) => (clearTimeout(timer), reject(e)) });
      });
    },
    sidecarPid() {
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i]!;
        if (!line.includes("speech sidecar ready")) continue;
        const p = (JSON.parse(line) as { pid?: unknown }).pid;
        return typeof p === "number" && isSidecar(p) ? p : null;
      }
      return null;
    },
    rssKiB() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        return m ? Number(m[1]) : null;
      } catch {
        return null;
      }
    },
    kill(signal = "SIGKILL") {
      if (alive) child.kill(signal);
    },
    async stop(signal = "SIGTERM", graceMs = 20_000) {
      if (alive) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; its state letter says it is gone.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

const SIDECAR_MAIN = join(REPO_ROOT, "sidecar", "main.py");

/** A live speech sidecar of this repository (a pid from an old log line may have been reused since). */
export function isSidecar(pid: number): boolean {
  try {
    return processAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(SIDECAR_MAIN);
  } catch {
    return false;
  }
}
