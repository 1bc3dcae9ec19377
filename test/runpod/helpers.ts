import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { loadConfig } from "../../handler/config/load.ts";
import { WorkerError } from "../../handler/errors.ts";
import { createLogger } from "../../handler/log/logger.ts";
import type { JobRunner, RunnerContext, RunpodJob } from "../../handler/runpod/runner.ts";
import { runRunpodWorker, type RunpodTiming, type RunpodWorkerSummary } from "../../handler/runpod/worker.ts";
import type { RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { captureLines } from "../helpers/log-capture.ts";

/** Fast protocol timings for tests; the production defaults are seconds to minutes. */
export const FAST: Partial<RunpodTiming> = {
  takeTimeoutMs: 5000,
  minPollCycleMs: 50,
  throttleMs: 200,
  errorBaseMs: 100,
  errorMaxMs: 500,
  retryAfterMaxMs: 1500,
  postTimeoutMs: 3000,
  postBackoffBaseMs: 50,
  postBackoffMaxMs: 400,
  respoolBaseMs: 100,
  respoolMaxMs: 500,
  settleMs: 3000,
};

export interface RunningWorker {
  /** Sends the shutdown signal and waits for the loop to return. */
  stop(): Promise<RunpodWorkerSummary>;
  done: Promise<RunpodWorkerSummary>;
  logs: ReturnType<typeof captureLines>;
  undeliverable: Array<{ jobId: string; body: unknown }>;
  shutdownAt(): number | null;
  /** RUNPOD_SPOOL_DIR: a fresh folder per worker unless the test gives one. */
  spoolDir: string;
}

/** A worker loop configured the way production is: from the RUNPOD_* environment the dev server hands out. */
export function startWorker(
  dev: RunpodDevServer,
  runner: JobRunner,
  o: {
    podId?: string;
    env?: Record<string, string>;
    timing?: Partial<RunpodTiming>;
    random?: () => number;
    /** false: no onUndeliverable hook (a worker without Upstash). */
    keepUndeliverable?: boolean;
    hostBroken?: () => string | null;
  } = {},
): RunningWorker {
  const env = { RUNPOD_SPOOL_DIR: mkdtempSync(join(tmpdir(), "vw-spool-")), ...dev.workerEnv(o.podId ?? "pod-1"), ...o.env };
  const cfg = loadConfig({ LOG_LEVEL: "trace", ...env }, null);
  const logs = captureLines();
  const log = createLogger({ level: "trace", destination: logs });
  const shutdown = new AbortController();
  let shutdownAt: number | null = null;
  const undeliverable: Array<{ jobId: string; body: unknown }> = [];
  const done = runRunpodWorker(cfg, runner, {
    log,
    signal: shutdown.signal,
    timing: { ...FAST, ...o.timing },
    random: o.random,
    onUndeliverable: o.keepUndeliverable === false ? undefined : async (jobId, body) => void undeliverable.push({ jobId, body }),
    hostBroken: o.hostBroken,
  });
  return {
    done,
    logs,
    undeliverable,
    spoolDir: env.RUNPOD_SPOOL_DIR,
    shutdownAt: () => shutdownAt,
    stop() {
      shutdownAt ??= Date.now();
      shutdown.abort();
      return done;
    },
  };
}

/** Fake runners at the outer boundary: the pipeline is somebody else's; these behave like it on the wire. */
export const runners = {
  echo: (): JobRunner => ({ run: async (job) => ({ echo: job.input }) }),
  fn: (run: (job: RunpodJob, ctx: RunnerContext) => Promise<unknown>): JobRunner => ({ run }),
  failing: (code: string, retryable: boolean, details?: Record<string, unknown>): JobRunner => ({
    run: async () => {
      throw new WorkerError(code, `the audio could not be used (${code})`, { retryable, details });
    },
  }),
};

/** A long job the way the pipeline does one: waiting on a child process, not blocking the event loop. */
export async function childSleep(seconds: number, signal: AbortSignal): Promise<void> {
  await execa("sleep", [String(seconds)], { cancelSignal: signal });
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export const workerRequests = (dev: RunpodDevServer, op: string) => dev.requests.filter((r) => r.path.split("/")[3] === op);

/** The worker's JSON log lines, parsed. */
export const logLines = (w: RunningWorker) => w.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string; time: number; [k: string]: unknown });
