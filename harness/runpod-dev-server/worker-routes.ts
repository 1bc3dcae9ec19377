import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { hungUp, parseJson, send } from "./http.ts";
import { isTerminal, type DevStore } from "./store.ts";

/** Injected platform faults; tests change them at any time. */
export interface DevFaults {
  /** The next N job-take requests are answered 429. */
  take429: number;
  /** The next N job-take requests are answered 500. */
  take500: number;
  /** Sent as `Retry-After` with the 429 and 500 answers above (the platform may or may not send one). */
  takeRetryAfter: string | null;
  /** Every job-take waits this long before it is looked at (a slow platform). */
  takeDelayMs: number;
  /** The next N final job-done posts are answered 500 (and not accepted). */
  jobDone500: number;
  /** The next N final job-done posts lose their connection before any answer (and are not accepted). */
  jobDoneDrop: number;
  /** Served by the next job-takes, one each, before any real job. */
  malformed: Array<"missing_input" | "missing_id" | "bad_json" | "empty_body">;
}

export interface WorkerRouteContext {
  store: DevStore;
  faults: DevFaults;
  takeWaitMs: number;
  stopWaitMs: number;
}

const wire = (job: { id: string; input: unknown; extra: Record<string, unknown> }) => ({ ...job.extra, id: job.id, input: job.input });

let malformedSeq = 0;

/** `GET job-take/{worker}` and `job-take-batch/{worker}?batch_size=N`: a long poll for queued jobs. */
export async function jobTake(c: WorkerRouteContext, res: ServerResponse, workerId: string, batch: boolean, query: Record<string, string>): Promise<void> {
  const gone = hungUp(res);
  c.store.worker(workerId);
  if (c.faults.takeDelayMs > 0) await sleep(c.faults.takeDelayMs);
  const retryAfter: Record<string, string> = c.faults.takeRetryAfter === null ? {} : { "retry-after": c.faults.takeRetryAfter };
  if (c.faults.take429 > 0) {
    c.faults.take429--;
    return send(res, 429, { error: "Too Many Requests" }, undefined, retryAfter);
  }
  if (c.faults.take500 > 0) {
    c.faults.take500--;
    return send(res, 500, { error: "Internal Server Error" }, undefined, retryAfter);
  }
  const bad = c.faults.malformed.shift();
  if (bad) return sendMalformed(c, res, workerId, bad, batch);
  const size = batch ? Math.max(1, Math.min(64, Number(query.batch_size ?? "1") || 1)) : 1;
  await c.store.waitFor(() => c.store.queue.length > 0, c.takeWaitMs, gone);
  if (gone()) return; // never hand a job to a request nobody will read
  const jobs = c.store.take(workerId, size);
  if (jobs.length === 0) return send(res, 204);
  return send(res, 200, batch ? jobs.map(wire) : wire(jobs[0]!));
}

function sendMalformed(c: WorkerRouteContext, res: ServerResponse, workerId: string, kind: DevFaults["malformed"][number], batch: boolean): void {
  if (kind === "bad_json") return send(res, 200, undefined, { text: '{"id": "broken", "input": {', type: "application/json" });
  if (kind === "empty_body") return send(res, 200, undefined, { text: "", type: "application/json" });
  if (kind === "missing_id") return send(res, 200, batch ? [{ input: { note: "no id" } }] : { input: { note: "no id" } });
  // missing_input: a job record exists, so the worker's error answer can land and be inspected.
  const job = c.store.assign(workerId, null, `malformed-${++malformedSeq}`);
  return send(res, 200, batch ? [{ id: job.id }] : { id: job.id });
}

/** `POST job-done/{worker}/{job}?isStream=`: a progress update (`status: IN_PROGRESS`) or the final result. */
export function jobDone(c: WorkerRouteContext, res: ServerResponse, workerId: string, jobId: string, body: string): void {
  c.store.worker(workerId);
  const job = c.store.jobs.get(jobId);
  if (!job) return send(res, 404, { error: "job not found" });
  const parsed = parseJson(body);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return send(res, 400, { error: "body is not a JSON object" });
  const result = parsed.value as { status?: unknown; output?: unknown; error?: unknown; stopPod?: unknown };
  if (result.status === "IN_PROGRESS") {
    if (job.status === "IN_PROGRESS") {
      job.progress = result.output;
      c.store.changed();
    }
    return send(res, 200, {});
  }
  if (c.faults.jobDone500 > 0) {
    c.faults.jobDone500--;
    return send(res, 500, { error: "Internal Server Error" });
  }
  if (c.faults.jobDoneDrop > 0) {
    c.faults.jobDoneDrop--;
    res.socket?.destroy();
    return;
  }
  job.deliveries++;
  if (isTerminal(job.status)) return send(res, 200, {}); // e.g. cancelled meanwhile: ignored, as the platform does
  if (result.output !== undefined) job.output = result.output;
  if (result.error !== undefined) job.error = result.error;
  if (result.stopPod === true) job.stopPod = true;
  c.store.finish(job, result.error !== undefined ? "FAILED" : "COMPLETED");
  return send(res, 200, {});
}

/** `POST job-stream/{worker}/{job}`: one chunk, `{"output": chunk}`. */
export function jobStream(c: WorkerRouteContext, res: ServerResponse, workerId: string, jobId: string, body: string): void {
  c.store.worker(workerId);
  const job = c.store.jobs.get(jobId);
  if (!job) return send(res, 404, { error: "job not found" });
  const parsed = parseJson(body);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null || !("output" in parsed.value)) {
    return send(res, 400, { error: 'body must be {"output": chunk}' });
  }
  job.stream.push(parsed.value.output);
  c.store.changed();
  return send(res, 200, {});
}

/** `GET ping/{worker}?job_id=a,b&runpod_version=v`. */
export function ping(c: WorkerRouteContext, res: ServerResponse, workerId: string, query: Record<string, string>): void {
  const w = c.store.worker(workerId);
  w.pings.push({ at: c.store.now(), jobIds: query.job_id ? query.job_id.split(",") : [], version: query.runpod_version ?? null });
  return send(res, 200, {});
}

/** `GET job-stop/{worker}`: a long poll answered `{"jobsToStop": [ids]}` once a held job was cancelled. */
export async function jobStop(c: WorkerRouteContext, res: ServerResponse, workerId: string): Promise<void> {
  const gone = hungUp(res);
  const w = c.store.worker(workerId);
  await c.store.waitFor(() => w.stops.size > 0, c.stopWaitMs, gone);
  if (gone() || w.stops.size === 0) return send(res, 204);
  const ids = [...w.stops];
  w.stops.clear();
  return send(res, 200, { jobsToStop: ids });
}
