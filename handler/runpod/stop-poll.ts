import type { Logger } from "../log/logger.ts";
import { httpRequest, HttpFailure } from "./http.ts";
import { pause, retryDelayMs, type RetryTiming } from "./time.ts";

export interface StopPollOptions {
  url: string;
  headers: Record<string, string>;
  /** Resolves once the worker holds at least one job (nothing to stop before that), or on `signal`. */
  whenBusy: (signal: AbortSignal) => Promise<void>;
  onStop: (jobIds: string[]) => void;
  timeoutMs: number;
  /** A poll that comes back sooner than this is followed by a pause: no hot loop against a server that does not long-poll. */
  minCycleMs: number;
  retry: RetryTiming;
  random: () => number;
  log: Logger;
  signal: AbortSignal;
}

/** The job-stop long poll (SDK 1.10+): `200 {"jobsToStop": [ids]}` stops those jobs. Runs until `signal`. */
export async function pollJobStops(o: StopPollOptions): Promise<void> {
  let failures = 0;
  while (!o.signal.aborted) {
    await o.whenBusy(o.signal);
    if (o.signal.aborted) return;
    const started = Date.now();
    let wait = 0;
    try {
      const reply = await httpRequest(o.url, { headers: o.headers, timeoutMs: o.timeoutMs, signal: o.signal });
      if (reply.status === 200) {
        failures = 0;
        const ids = stopIds(reply.text);
        if (ids.length > 0) o.onStop(ids);
      } else if (reply.status >= 200 && reply.status <= 299) {
        failures = 0;
      } else {
        failures++;
        wait = retryDelayMs({ throttled: reply.status === 429, failures, retryAfter: reply.retryAfter }, o.retry, o.random);
        if (failures === 1) o.log.warn({ status: reply.status }, "job-stop poll refused; backing off");
      }
    } catch (err) {
      if (o.signal.aborted) return;
      if (!(err instanceof HttpFailure && err.timedOut)) {
        failures++;
        wait = retryDelayMs({ throttled: false, failures }, o.retry, o.random);
        if (failures === 1) o.log.warn({ err }, "job-stop poll failed; backing off");
      }
    }
    await pause(Math.max(wait, o.minCycleMs - (Date.now() - started)), o.signal);
  }
}

function stopIds(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as { jobsToStop?: unknown };
    return Array.isArray(parsed.jobsToStop) ? parsed.jobsToStop.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}
