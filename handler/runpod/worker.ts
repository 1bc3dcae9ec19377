import { randomUUID } from "node:crypto";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flushSpool, reportUndeliverable, runRespool, type UndeliverableHook } from "./deliver.ts";
import { heldJobs, type JobSlots } from "./slots.ts";
import { ResultSpool, SPOOL_MAX_ENTRIES } from "./spool.ts";
import { runTakeLoop } from "./take-loop.ts";
import { settlesWithin } from "./time.ts";
import { answerRejected, executeJob, type JobIo, type RunpodJobOutcome } from "./job-run.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { RUNPOD_PROTOCOL_VERSION } from "./result.ts";
import { JobStopped, type JobRunner } from "./runner.ts";
import { PING_INTERVAL_RANGE, pingIntervalMs } from "./settings.ts";
import { pollJobStops } from "./stop-poll.ts";
import { RunpodUrls } from "./urls.ts";

export type RunpodWorkerConfig = Pick<
  Config,
  | "RUNPOD_WEBHOOK_GET_JOB"
  | "RUNPOD_WEBHOOK_POST_OUTPUT"
  | "RUNPOD_WEBHOOK_POST_STREAM"
  | "RUNPOD_WEBHOOK_PING"
  | "RUNPOD_PING_INTERVAL"
  | "RUNPOD_POD_ID"
  | "RUNPOD_POD_HOSTNAME"
  | "RUNPOD_AI_API_KEY"
  | "RUNPOD_ENDPOINT_ID"
  | "CONCURRENCY"
  | "RUNPOD_SPOOL_DIR"
  | "RUNPOD_SPOOL_MAX_MB"
  | "RUNPOD_REFRESH_ON_BROKEN_GPU"
>;

/** Protocol timings; the defaults suit the platform, tests shrink them. */
export interface RunpodTiming {
  /** Client-side bound of the job-take and job-stop long polls. */
  takeTimeoutMs: number;
  /** A take answered sooner than this without a job is followed by a pause (no hot loop). */
  minPollCycleMs: number;
  /** Wait after a 429 without Retry-After: the SDK's flat 5 s (rp_scale.py, JobScaler.get_jobs). */
  throttleMs: number;
  /**
   * Wait after any other failure (5xx, network): doubles from the base up to the max. The SDK
   * retries at once; a wait of at most its 5 s avoids that hot loop without leaving queued jobs
   * idle while the pings say the worker is healthy.
   */
  errorBaseMs: number;
  errorMaxMs: number;
  /** The platform's Retry-After is honoured up to this long. */
  retryAfterMaxMs: number;
  postTimeoutMs: number;
  postAttempts: number;
  postBackoffBaseMs: number;
  postBackoffMaxMs: number;
  /** Re-posting spooled results: a pass this often while any are kept, doubling to the max while the platform fails them. */
  respoolBaseMs: number;
  respoolMaxMs: number;
  /** At the end: how long the answers to malformed jobs may still take. */
  settleMs: number;
}

export const DEFAULT_TIMING: RunpodTiming = {
  takeTimeoutMs: 90_000,
  minPollCycleMs: 1000,
  throttleMs: 5000,
  errorBaseMs: 1000,
  errorMaxMs: 5000,
  retryAfterMaxMs: 10_000,
  postTimeoutMs: 15_000,
  postAttempts: 5,
  postBackoffBaseMs: 1000,
  postBackoffMaxMs: 15_000,
  respoolBaseMs: 5000,
  respoolMaxMs: 60_000,
  settleMs: 10_000,
};

export interface RunpodWorkerOptions {
  log: Logger;
  /**
   * Shutdown: stop taking, let every running job finish and post its result, then return. As
   * runpod-python 1.12 does (rp_scale.py, JobScaler.run_jobs drains its tasks), nothing is cut
   * short here: the platform decides when to kill the worker.
   */
  signal: AbortSignal;
  /** Called with a result this worker gives up on (refused, not spoolable, or left in the spool at the end); also logged at error level. */
  onUndeliverable?: UndeliverableHook;
  /**
   * Why this host can no longer do its work properly (e.g. CUDA failed at run time and jobs now
   * run on CPU on a GPU pod), or null. With RUNPOD_REFRESH_ON_BROKEN_GPU, the next result asks
   * the platform for a fresh worker (`stopPod`) and this worker takes no more jobs.
   */
  hostBroken?: () => string | null;
  /** Ask for a fresh worker after every job (the SDK's `refresh_worker` start option). */
  refreshWorker?: boolean;
  timing?: Partial<RunpodTiming>;
  random?: () => number;
}

export type RunpodWorkerSummary = Record<RunpodJobOutcome | "taken" | "rejected" | "redelivered", number>;

/** RUNPOD_SPOOL_DIR's default: survives a restart of the process, not a new container. */
export const defaultSpoolDir = () => join(tmpdir(), "voice-worker-runpod-spool");

/**
 * The RunPod serverless worker loop: takes jobs (batch when CONCURRENCY > 1), runs them through
 * `runner`, answers each on the job-done URL, pings on its own timer and honours job-stop.
 * Never throws: every failure of the platform is logged and backed off.
 */
export async function runRunpodWorker(cfg: RunpodWorkerConfig, runner: JobRunner, opts: RunpodWorkerOptions): Promise<RunpodWorkerSummary> {
  // An override left undefined keeps the default (a NaN delay would turn every back-off into a hot loop).
  const overrides = Object.entries(opts.timing ?? {}).filter(([, v]) => typeof v === "number" && Number.isFinite(v));
  const timing: RunpodTiming = { ...DEFAULT_TIMING, ...Object.fromEntries(overrides) };
  const random = opts.random ?? Math.random;
  const workerId = cfg.RUNPOD_POD_ID ?? randomUUID();
  const log = opts.log.child({ mode: "runpod", workerId });
  const summary: RunpodWorkerSummary = { taken: 0, rejected: 0, completed: 0, failed: 0, stopped: 0, spooled: 0, undeliverable: 0, redelivered: 0 };
  if (!cfg.RUNPOD_WEBHOOK_GET_JOB) {
    log.error("RUNPOD_WEBHOOK_GET_JOB is not set: not running on RunPod");
    return summary;
  }
  let urls: RunpodUrls;
  try {
    urls = new RunpodUrls(
      {
        getJob: cfg.RUNPOD_WEBHOOK_GET_JOB,
        postOutput: cfg.RUNPOD_WEBHOOK_POST_OUTPUT,
        postStream: cfg.RUNPOD_WEBHOOK_POST_STREAM,
        ping: cfg.RUNPOD_WEBHOOK_PING,
      },
      workerId,
    );
  } catch (err) {
    log.error({ err }, "invalid RunPod URL templates");
    return summary;
  }
  if (!cfg.RUNPOD_WEBHOOK_POST_OUTPUT) log.error("RUNPOD_WEBHOOK_POST_OUTPUT is not set: results cannot be returned");
  const headers: Record<string, string> = { "User-Agent": `voice-worker (runpod-protocol ${RUNPOD_PROTOCOL_VERSION})` };
  const key = cfg.RUNPOD_AI_API_KEY?.reveal();
  if (key) headers.Authorization = key;
  else log.warn("RUNPOD_AI_API_KEY is not set: requests go out without Authorization");

  const spool = cfg.RUNPOD_WEBHOOK_POST_OUTPUT
    ? await ResultSpool.open(
        cfg.RUNPOD_SPOOL_DIR ?? defaultSpoolDir(),
        workerId,
        { maxBytes: cfg.RUNPOD_SPOOL_MAX_MB * 1024 * 1024, maxEntries: SPOOL_MAX_ENTRIES },
        log,
      )
    : null;
  // Shutdown, or a fresh worker asked of the platform: either way no more jobs are taken.
  const refresh = new AbortController();
  const ending = AbortSignal.any([opts.signal, refresh.signal]);
  const io: JobIo = {
    urls,
    headers,
    timing,
    random,
    log,
    onUndeliverable: opts.onUndeliverable,
    pending: new Map(),
    spool,
    errorContext: { hostname: cfg.RUNPOD_POD_HOSTNAME ?? "unknown", workerId: cfg.RUNPOD_POD_ID ?? "unknown" },
    refreshWorker: opts.refreshWorker === true,
    hostBroken: cfg.RUNPOD_REFRESH_ON_BROKEN_GPU && opts.hostBroken ? opts.hostBroken : () => null,
    onRefresh: (reason) => {
      if (refresh.signal.aborted) return;
      log.warn({ reason }, "this host is broken: asked RunPod for a fresh worker (stopPod); taking no more jobs");
      refresh.abort();
    },
  };
  const slots: JobSlots = heldJobs();
  const respoolStop = new AbortController();
  const respool = spool
    ? runRespool(io, log, {
        baseMs: timing.respoolBaseMs,
        maxMs: timing.respoolMaxMs,
        signal: respoolStop.signal,
        onDelivered: (n) => void (summary.redelivered += n),
      })
    : Promise.resolve();
  const stopAll = new AbortController(); // ends the heartbeat and the job-stop poll at the very end
  const background = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const settled = p.catch((err: unknown) => log.error({ err }, "answering a malformed job failed"));
    background.add(settled);
    void settled.then(() => background.delete(settled));
  };

  const ping = pingIntervalMs(cfg.RUNPOD_PING_INTERVAL);
  if (ping.clamped) {
    log.warn(
      { asked: cfg.RUNPOD_PING_INTERVAL, usingMs: ping.ms, range: PING_INTERVAL_RANGE },
      "RUNPOD_PING_INTERVAL is outside the range this worker keeps to: clamped",
    );
  }
  const heartbeat = cfg.RUNPOD_POD_ID
    ? startHeartbeat({ url: (ids) => urls.ping(ids, RUNPOD_PROTOCOL_VERSION), jobIds: () => slots.ids(), intervalMs: ping.ms, headers, log })
    : null;
  if (!heartbeat) log.info("RUNPOD_POD_ID is not set: no heartbeat");
  const stopUrl = urls.stop();
  const stopPoll = stopUrl
    ? pollJobStops({
        url: stopUrl,
        headers,
        whenBusy: (s) => slots.whenBusy(s),
        timeoutMs: timing.takeTimeoutMs,
        minCycleMs: timing.minPollCycleMs,
        retry: timing,
        random,
        log,
        signal: stopAll.signal,
        onStop: (ids) => {
          for (const id of ids) {
            if (slots.abort(id, new JobStopped(id))) log.info({ jobId: id }, "job-stop received: cancelling the job");
            else log.debug({ jobId: id }, "job-stop for a job not held here");
          }
        },
      })
    : Promise.resolve();
  log.info({ concurrency: cfg.CONCURRENCY, endpoint: cfg.RUNPOD_ENDPOINT_ID, heartbeat: heartbeat !== null }, "RunPod worker started");

  const start = (job: { id: string; input: unknown }) => {
    if (slots.has(job.id)) {
      log.warn({ jobId: job.id }, "job taken twice: already running here");
      return;
    }
    summary.taken++;
    const controller = new AbortController();
    const task = executeJob(job, runner, controller, ending, io)
      .then((outcome) => void summary[outcome]++)
      .catch((err: unknown) => log.error({ err, jobId: job.id }, "job bookkeeping failed"));
    slots.add(job.id, controller, task);
  };

  const taking = runTakeLoop({
    urls,
    headers,
    slots,
    concurrency: cfg.CONCURRENCY,
    timing,
    random,
    log,
    signal: ending,
    start,
    reject: (rej) => {
      summary.rejected++;
      log.error({ jobId: rej.id, reason: rej.reason }, "malformed job from the platform");
      if (rej.id !== undefined) track(answerRejected({ ...rej, id: rej.id }, io));
    },
  });
  await taking;

  if (slots.size() > 0) {
    log.info({ running: slots.ids() }, "no more jobs taken; running jobs finish and post their results");
    await slots.settled();
  }
  await settlesWithin(Promise.allSettled([...background]), timing.settleMs);
  for (const [jobId, entry] of io.pending)
    if (!entry.reported) await reportUndeliverable(io, jobId, entry.body, "the worker stopped before the post ended", log);
  respoolStop.abort();
  await respool;
  await leaveSpool(io, timing.settleMs, summary, log);
  heartbeat?.stop();
  stopAll.abort();
  await stopPoll;
  log.info(summary, "RunPod worker stopped");
  return summary;
}

/** A last pass over the spool, then an honest word on what is left in it. */
async function leaveSpool(io: JobIo, settleMs: number, summary: RunpodWorkerSummary, log: Logger): Promise<void> {
  const spool = io.spool;
  if (!spool || spool.size() === 0) return;
  const pass = flushSpool(io, log).then((r) => void (summary.redelivered += r.delivered));
  await settlesWithin(pass, settleMs);
  const left = spool.list();
  if (left.length === 0) return;
  log.error(
    { results: left.length, jobIds: left.map((r) => r.jobId), dir: spool.dir },
    "job results RunPod did not accept are left in the spool: a worker started again with this RUNPOD_POD_ID and RUNPOD_SPOOL_DIR re-posts them; otherwise they are lost",
  );
  if (!io.onUndeliverable) return;
  for (const r of left) await reportUndeliverable(io, r.jobId, r.body, "still spooled when the worker stopped", log.child({ jobId: r.jobId }));
}
