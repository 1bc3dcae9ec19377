import { httpRequest, HttpFailure } from "./http.ts";
import type { RunpodJob } from "./runner.ts";

/** A job the platform sent that cannot run; answered with an error when it has an id. */
export interface RejectedJob {
  id?: string;
  reason: string;
}

export type TakeResult =
  | { kind: "jobs"; jobs: RunpodJob[]; rejected: RejectedJob[] }
  /** 204, 400 (expected with FlashBoot), an empty or non-JSON body, or the long poll ran out. */
  | { kind: "none"; why: string }
  /** 429: the platform asks the worker to slow down (with its Retry-After, if any). */
  | { kind: "throttled"; retryAfter: string | null }
  /** Any other status, or a network failure. */
  | { kind: "failed"; why: string; retryAfter: string | null }
  /** The shutdown signal ended the request. */
  | { kind: "aborted" };

/** One job-take (single or batch) long poll, classified the way the Python SDK does, without its hot loop. */
export async function takeJobs(url: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<TakeResult> {
  let reply;
  try {
    reply = await httpRequest(url, { headers, timeoutMs, signal });
  } catch (err) {
    if (signal.aborted) return { kind: "aborted" };
    const why = err instanceof Error ? err.message : String(err);
    // Our own bound on the long poll is not a fault: the platform simply had nothing.
    if (err instanceof HttpFailure && err.timedOut) return { kind: "none", why };
    return { kind: "failed", why, retryAfter: null };
  }
  if (reply.status === 204) return { kind: "none", why: "204 no content" };
  if (reply.status === 400) return { kind: "none", why: "400 (expected with FlashBoot)" };
  if (reply.status === 429) return { kind: "throttled", retryAfter: reply.retryAfter };
  if (reply.status < 200 || reply.status > 299) return { kind: "failed", why: `HTTP ${reply.status}`, retryAfter: reply.retryAfter };
  if (reply.text.trim() === "") return { kind: "none", why: "empty body" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.text);
  } catch {
    return { kind: "none", why: "body is not JSON" };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const jobs: RunpodJob[] = [];
  const rejected: RejectedJob[] = [];
  for (const item of items) {
    const checked = checkJob(item);
    if ("job" in checked) jobs.push(checked.job);
    else rejected.push(checked.rejected);
  }
  if (jobs.length === 0 && rejected.length === 0) return { kind: "none", why: "empty job list" };
  return { kind: "jobs", jobs, rejected };
}

/** A job needs a non-empty string `id` and an `input` that is present and not null (as the SDK checks). */
export function checkJob(item: unknown): { job: RunpodJob } | { rejected: RejectedJob } {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    return { rejected: { reason: "job is not a JSON object" } };
  }
  const rec = item as Record<string, unknown>;
  const id = typeof rec.id === "string" && rec.id !== "" ? rec.id : undefined;
  const missing = [id === undefined ? "id" : null, rec.input === undefined || rec.input === null ? "input" : null].filter(Boolean);
  if (missing.length > 0) return { rejected: { id, reason: `job has missing field(s): ${missing.join(", ")}` } };
  return { job: { id: id as string, input: rec.input } };
}
