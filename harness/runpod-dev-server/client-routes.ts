import type { ServerResponse } from "node:http";
import { hungUp, parseJson, send } from "./http.ts";
import { isTerminal, type DevStore } from "./store.ts";

export interface ClientRouteContext {
  store: DevStore;
  /** How long `/stream` waits for a new chunk before answering with none (the SDK polls it in a tight loop). */
  streamWaitMs: number;
}

const NOT_FOUND = { error: "request does not exist" };
/** `wait` of /runsync and /status-sync, in ms, clamped as the platform does (1 s to 90 s). */
const waitParam = (query: Record<string, string>) => Math.max(1000, Math.min(90_000, Number(query.wait ?? "90000") || 90_000));

/** The body of `/run` and `/runsync`: `{input, webhook?, policy?, s3Config?}`. */
function submission(body: string): { input: unknown; extra: Record<string, unknown> } | { error: string } {
  const parsed = parseJson(body);
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) return { error: "body must be a JSON object" };
  const { input, ...extra } = parsed.value as Record<string, unknown>;
  if (input === undefined || input === null) return { error: "input is required" };
  return { input, extra };
}

/** `POST /run`: queued; `{id, status: "IN_QUEUE"}`. */
export function run(c: ClientRouteContext, res: ServerResponse, body: string): void {
  const s = submission(body);
  if ("error" in s) return send(res, 400, { error: s.error });
  const job = c.store.add(s.input, s.extra);
  return send(res, 200, { id: job.id, status: job.status });
}

/** `POST /runsync?wait=ms`: the finished job, or its current status when `wait` runs out. */
export async function runsync(c: ClientRouteContext, res: ServerResponse, body: string, query: Record<string, string>): Promise<void> {
  const s = submission(body);
  if ("error" in s) return send(res, 400, { error: s.error });
  const job = c.store.add(s.input, s.extra);
  await c.store.waitFor(() => isTerminal(job.status), waitParam(query), hungUp(res));
  return send(res, 200, c.store.view(job));
}

/** `GET|POST /status/{id}`, and `GET /status-sync/{id}?wait=ms` (what the SDK's runSync polls). */
export async function status(c: ClientRouteContext, res: ServerResponse, id: string, sync: boolean, query: Record<string, string>): Promise<void> {
  const job = c.store.jobs.get(id);
  if (!job) return send(res, 404, NOT_FOUND);
  if (sync) await c.store.waitFor(() => isTerminal(job.status), waitParam(query), hungUp(res));
  return send(res, 200, c.store.view(job));
}

/**
 * `GET|POST /stream/{id}`: the chunks not yet returned, as `[{output}]`, with the job's status.
 * Each chunk is returned once (the SDK's stream generator yields everything it gets).
 */
export async function stream(c: ClientRouteContext, res: ServerResponse, id: string): Promise<void> {
  const job = c.store.jobs.get(id);
  if (!job) return send(res, 404, NOT_FOUND);
  await c.store.waitFor(() => job.stream.length > job.streamRead || isTerminal(job.status), c.streamWaitMs, hungUp(res));
  const chunks = job.stream.slice(job.streamRead).map((output) => ({ output }));
  job.streamRead = job.stream.length;
  const body: Record<string, unknown> = { id: job.id, status: job.status, stream: chunks };
  if (job.error !== undefined) body.error = job.error;
  return send(res, 200, body);
}

/** `POST /cancel/{id}`: a queued job is dropped; a running one is stopped through its worker's job-stop poll. */
export function cancel(c: ClientRouteContext, res: ServerResponse, id: string): void {
  const job = c.store.jobs.get(id);
  if (!job) return send(res, 404, NOT_FOUND);
  c.store.cancel(job);
  return send(res, 200, c.store.view(job));
}

/** `GET /health`: job counts and worker states. */
export function health(c: ClientRouteContext, res: ServerResponse): void {
  const jobs = { completed: 0, failed: 0, inProgress: 0, inQueue: 0, retried: 0 };
  for (const job of c.store.jobs.values()) {
    if (job.status === "COMPLETED") jobs.completed++;
    else if (job.status === "FAILED") jobs.failed++;
    else if (job.status === "IN_PROGRESS") jobs.inProgress++;
    else if (job.status === "IN_QUEUE") jobs.inQueue++;
    if (job.retries > 0) jobs.retried++;
  }
  let running = 0;
  let idle = 0;
  for (const w of c.store.workers.values()) {
    if (w.held.size > 0) running++;
    else idle++;
  }
  return send(res, 200, { jobs, workers: { idle, initializing: 0, ready: idle + running, running, throttled: 0 } });
}

/** `POST /purge-queue`: drops every queued job. */
export function purgeQueue(c: ClientRouteContext, res: ServerResponse): void {
  return send(res, 200, { removed: c.store.purge(), status: "completed" });
}
