import type { Logger } from "../log/logger.ts";
import { httpRequest } from "./http.ts";
import { backoffMs, pause, withTimeout } from "./time.ts";
import type { JobDoneBody } from "./result.ts";
import type { RunpodUrls } from "./urls.ts";

export interface PostTiming {
  postTimeoutMs: number;
  /** Tries of a job-done post before the result is declared undeliverable. */
  postAttempts: number;
  postBackoffBaseMs: number;
  postBackoffMaxMs: number;
}

export type UndeliverableHook = (jobId: string, body: unknown) => Promise<void>;

export interface Poster {
  urls: RunpodUrls;
  /** Authorization and User-Agent. */
  headers: Record<string, string>;
  timing: PostTiming;
  random: () => number;
  onUndeliverable?: UndeliverableHook;
  /** Final results not yet delivered: what shutdown reports if it cannot wait for them. */
  pending: Map<string, { body: JobDoneBody; reported: boolean }>;
}

// Statuses worth another try: the platform was busy or broken, not refusing this body.
const RETRYABLE = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/** One POST in the SDK's format: JSON text, declared as a form, with the job id as request id. */
async function post(p: Poster, url: string, jobId: string, body: unknown): Promise<{ ok: boolean; retry: boolean; why: string }> {
  try {
    const reply = await httpRequest(url, {
      method: "POST",
      headers: { ...p.headers, "Content-Type": "application/x-www-form-urlencoded", "X-Request-ID": jobId },
      body: JSON.stringify(body),
      timeoutMs: p.timing.postTimeoutMs,
    });
    if (reply.status >= 200 && reply.status <= 299) return { ok: true, retry: false, why: "" };
    return { ok: false, retry: RETRYABLE(reply.status), why: `HTTP ${reply.status}` };
  } catch (err) {
    return { ok: false, retry: true, why: err instanceof Error ? err.message : String(err) };
  }
}

async function withRetries(p: Poster, attempts: number, send: () => ReturnType<typeof post>, log: Logger, what: string): Promise<boolean> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const r = await send();
    if (r.ok) return true;
    if (!r.retry || attempt === attempts) {
      log.warn({ attempt, reason: r.why }, `${what} failed${r.retry ? "" : " (not retryable)"}`);
      return false;
    }
    log.warn({ attempt, reason: r.why }, `${what} failed; retrying`);
    await pause(backoffMs(attempt, p.timing.postBackoffBaseMs, p.timing.postBackoffMaxMs, p.random));
  }
  return false;
}

/**
 * Job-done with bounded retries. A result that still cannot be posted is logged at error level
 * and handed to `onUndeliverable` (kept in Redis when configured): never dropped silently.
 */
export async function deliverResult(p: Poster, jobId: string, body: JobDoneBody, isStream: boolean, log: Logger): Promise<boolean> {
  const entry = { body, reported: false };
  p.pending.set(jobId, entry);
  let ok = false;
  try {
    const url = p.urls.done(jobId, isStream);
    ok = await withRetries(p, p.timing.postAttempts, () => post(p, url, jobId, body), log, "job-done post");
  } catch (err) {
    log.error({ err }, "job-done post impossible");
  }
  if (ok) {
    p.pending.delete(jobId);
    return true;
  }
  if (!entry.reported) await reportUndeliverable(p, jobId, body, log);
  p.pending.delete(jobId);
  return false;
}

export async function reportUndeliverable(p: Poster, jobId: string, body: JobDoneBody, log: Logger): Promise<void> {
  const entry = p.pending.get(jobId);
  if (entry) entry.reported = true;
  log.error({ jobId, failed: "error" in body, stopPod: body.stopPod === true }, "job result could not be delivered to RunPod; keeping it");
  if (!p.onUndeliverable) return;
  try {
    await withTimeout(p.onUndeliverable(jobId, body), p.timing.postTimeoutMs);
  } catch (err) {
    log.error({ jobId, err }, "keeping the undeliverable result failed too");
  }
}

/** A progress update (`IN_PROGRESS`): one try; the next update supersedes a lost one. */
export async function postProgress(p: Poster, jobId: string, update: unknown, log: Logger): Promise<void> {
  const r = await post(p, p.urls.done(jobId, false), jobId, { status: "IN_PROGRESS", output: update });
  if (!r.ok) log.warn({ reason: r.why }, "progress post failed");
}

/** A stream chunk: a few tries, in order; a lost chunk is logged (the final output still carries everything). */
export async function postChunk(p: Poster, url: string, jobId: string, chunk: unknown, log: Logger): Promise<void> {
  await withRetries(p, 3, () => post(p, url, jobId, { output: chunk }), log, "stream chunk post");
}
