import type { Logger } from "../log/logger.ts";
import type { JobSlots } from "./slots.ts";
import { pause, retryDelayMs, type RetryTiming } from "./time.ts";
import { takeJobs, type RejectedJob } from "./take.ts";
import type { RunpodJob } from "./runner.ts";
import type { RunpodUrls } from "./urls.ts";

export interface TakeLoopOptions {
  urls: RunpodUrls;
  headers: Record<string, string>;
  slots: JobSlots;
  concurrency: number;
  timing: RetryTiming & { takeTimeoutMs: number; minPollCycleMs: number };
  random: () => number;
  log: Logger;
  /** Ends the loop (shutdown, or a refresh asked of the platform); a take in flight is abandoned. */
  signal: AbortSignal;
  start: (job: RunpodJob) => void;
  reject: (rejected: RejectedJob) => void;
}

/**
 * Takes jobs while slots are free (a batch when more than one is), until `signal`. Empty takes
 * that come back early are spaced by `minPollCycleMs`; failures wait as `retryDelayMs` says.
 */
export async function runTakeLoop(o: TakeLoopOptions): Promise<void> {
  let failed = 0;
  const takeOnce = async (): Promise<number> => {
    if (o.slots.size() >= o.concurrency) {
      await o.slots.whenFree(o.concurrency, o.signal);
      return 0;
    }
    const want = o.concurrency - o.slots.size();
    const started = Date.now();
    const r = await takeJobs(o.urls.take(want, o.slots.ids().length > 0), o.headers, o.timing.takeTimeoutMs, o.signal);
    const idle = () => o.timing.minPollCycleMs - (Date.now() - started);
    if (r.kind === "jobs") {
      failed = 0;
      for (const rej of r.rejected) o.reject(rej);
      if (r.jobs.length > want) o.log.warn({ got: r.jobs.length, want }, "the platform sent more jobs than asked for: running them all");
      for (const job of r.jobs) o.start(job);
      return r.jobs.length === 0 ? idle() : 0;
    }
    if (r.kind === "none") {
      failed = 0;
      o.log.debug({ why: r.why }, "no job");
      return idle();
    }
    if (r.kind === "throttled" || r.kind === "failed") {
      const throttled = r.kind === "throttled";
      const wait = retryDelayMs({ throttled, failures: ++failed, retryAfter: r.retryAfter }, o.timing, o.random);
      const why = throttled ? "throttled (429)" : `failed (${r.why})`;
      o.log.warn({ waitMs: wait, times: failed, retryAfter: r.retryAfter ?? undefined }, `job-take ${why}; waiting`);
      return wait;
    }
    return 0; // aborted: the loop ends
  };
  while (!o.signal.aborted) {
    let wait: number;
    try {
      wait = await takeOnce();
    } catch (err) {
      // Not expected (every call above handles its own failures); still never a crash, never a hot loop.
      wait = retryDelayMs({ throttled: false, failures: ++failed }, o.timing, o.random);
      o.log.error({ err, waitMs: wait }, "job-take loop failed; backing off");
    }
    await pause(wait, o.signal);
  }
}
