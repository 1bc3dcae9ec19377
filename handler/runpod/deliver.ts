import type { Logger } from "../log/logger.ts";
import { httpRequest } from "./http.ts";
import { backoffMs, pause, withTimeout } from "./time.ts";
import type { JobDoneBody } from "./result.ts";
import type { ResultSpool } from "./spool.ts";
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
  /** Where a result the platform did not accept is kept and re-posted from; null: none (it is lost, and said so). */
  spool: ResultSpool | null;
  /** Final results not yet delivered: what shutdown reports if it cannot wait for them. */
  pending: Map<string, { body: JobDoneBody; reported: boolean }>;
}

interface PostResult {
  ok: boolean;
  retry: boolean;
  why: string;
}

// Statuses worth another try: the platform was busy or broken, not refusing this body.
const RETRYABLE = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/** One POST in the SDK's format: JSON text, declared as a form, with the job id as request id. */
async function post(p: Poster, url: string, jobId: string, body: unknown): Promise<PostResult> {
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

async function withRetries(p: Poster, attempts: number, send: () => Promise<PostResult>, log: Logger, what: string): Promise<PostResult> {
  let r: PostResult = { ok: false, retry: false, why: "not tried" };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    r = await send();
    if (r.ok) return r;
    if (!r.retry || attempt === attempts) {
      log.warn({ attempt, reason: r.why }, `${what} failed${r.retry ? "" : " (not retryable)"}`);
      return r;
    }
    log.warn({ attempt, reason: r.why }, `${what} failed; retrying`);
    await pause(backoffMs(attempt, p.timing.postBackoffBaseMs, p.timing.postBackoffMaxMs, p.random));
  }
  return r;
}

/** One try of a final result (the spool's re-post). */
export function postResultOnce(p: Poster, jobId: string, body: JobDoneBody, isStream: boolean): Promise<PostResult> {
  return post(p, p.urls.done(jobId, isStream), jobId, body);
}

export type Delivery = "delivered" | "spooled" | "lost";

/**
 * Job-done with bounded retries. A result the platform still does not take (it was down or
 * busy) goes to the spool and is re-posted while the worker lives; one it refuses outright, or
 * one the spool cannot hold, is reported at error level and handed to `onUndeliverable`.
 */
export async function deliverResult(p: Poster, jobId: string, body: JobDoneBody, isStream: boolean, log: Logger): Promise<Delivery> {
  const entry = { body, reported: false };
  p.pending.set(jobId, entry);
  let r: PostResult = { ok: false, retry: false, why: "not tried" };
  try {
    const url = p.urls.done(jobId, isStream);
    r = await withRetries(p, p.timing.postAttempts, () => post(p, url, jobId, body), log, "job-done post");
  } catch (err) {
    log.error({ err }, "job-done post impossible");
  }
  try {
    if (r.ok) return "delivered";
    if (r.retry && p.spool) {
      const kept = await p.spool.add({ jobId, isStream, body, keptAt: Date.now() });
      if (kept.kept) {
        log.error(
          { jobId, reason: r.why, file: p.spool.pathOf(jobId) },
          "RunPod did not accept the job's result: kept in the spool, re-posted while this worker runs",
        );
        return "spooled";
      }
      r = { ...r, why: `${r.why}; not spooled: ${kept.why}` };
    }
    if (!entry.reported) await reportUndeliverable(p, jobId, body, r.why, log);
    return "lost";
  } finally {
    p.pending.delete(jobId);
  }
}

/** The last word on a result this worker can no longer deliver: an error line that says where, if anywhere, it went. */
export async function reportUndeliverable(p: Poster, jobId: string, body: JobDoneBody, why: string, log: Logger): Promise<void> {
  const entry = p.pending.get(jobId);
  if (entry) entry.reported = true;
  const fields = { jobId, reason: why, failed: "error" in body, stopPod: body.stopPod === true };
  if (!p.onUndeliverable) {
    log.error(fields, "job result LOST: RunPod did not accept it and this worker cannot keep it");
    return;
  }
  log.error(fields, "job result not delivered to RunPod: handing it to the Redis store");
  try {
    await withTimeout(p.onUndeliverable(jobId, body), p.timing.postTimeoutMs);
  } catch (err) {
    log.error({ jobId, err }, "job result LOST: keeping it in Redis failed too");
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

/**
 * One pass over the spool, oldest first: a delivered result is removed, one the platform
 * refuses outright is reported lost and removed; the first that still fails ends the pass
 * (the platform is still down: no point hammering it with the rest). Returns whether the spool
 * is now empty or only blocked.
 */
export async function flushSpool(p: Poster, log: Logger, signal?: AbortSignal): Promise<{ delivered: number; blocked: boolean }> {
  let delivered = 0;
  for (const r of p.spool?.list() ?? []) {
    if (signal?.aborted) return { delivered, blocked: true };
    const res = await postResultOnce(p, r.jobId, r.body, r.isStream);
    if (res.ok) {
      delivered++;
      log.info({ jobId: r.jobId, keptMs: Date.now() - r.keptAt }, "spooled job result delivered to RunPod");
      await p.spool!.remove(r.jobId);
    } else if (!res.retry) {
      await reportUndeliverable(p, r.jobId, r.body, `refused on re-post: ${res.why}`, log.child({ jobId: r.jobId }));
      await p.spool!.remove(r.jobId);
    } else {
      return { delivered, blocked: true };
    }
  }
  return { delivered, blocked: false };
}

/**
 * Re-posts spooled results until `signal`: a pass every `baseMs` while the spool holds any,
 * doubling up to `maxMs` while the platform keeps failing them.
 */
export async function runRespool(
  p: Poster,
  log: Logger,
  o: { baseMs: number; maxMs: number; signal: AbortSignal; onDelivered: (n: number) => void },
): Promise<void> {
  let failures = 0;
  while (!o.signal.aborted) {
    await pause(failures === 0 ? o.baseMs : backoffMs(failures, o.baseMs, o.maxMs, p.random), o.signal);
    if (o.signal.aborted || !p.spool || p.spool.size() === 0) continue;
    try {
      const r = await flushSpool(p, log, o.signal);
      if (r.delivered > 0) o.onDelivered(r.delivered);
      failures = r.blocked ? failures + 1 : 0;
    } catch (err) {
      failures++;
      log.error({ err }, "re-posting spooled results failed");
    }
  }
}
