import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listen, readBody, sendJson as send } from "../../net/http-server.ts";
import type { Logger } from "../../log/logger.ts";
import { runTestModeJob, type TestModeJobResult } from "./run-job.ts";
import { JobStopped, type JobRunner } from "../runner.ts";

export interface ServeApiOptions {
  port: number;
  host?: string;
  log: Logger;
  /** Jobs run at once; the rest wait IN_QUEUE. */
  concurrency?: number;
  /** Finished jobs kept for /status and /stream: at most this many... */
  maxFinished?: number;
  /** ...and for at most this long (RunPod keeps /run results 30 minutes). */
  finishedTtlMs?: number;
}

export interface TestModeApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface ApiJob {
  id: string;
  status: "IN_QUEUE" | "IN_PROGRESS" | TestModeJobResult["status"];
  result?: TestModeJobResult;
  stream: unknown[];
  controller: AbortController;
  finishedAt?: number;
  done: Promise<void>;
}

const MAX_BODY = 20 * 1024 * 1024; // the platform's /runsync limit

/**
 * The test HTTP API of RunPod's SDK (`--rp_serve_api`): `POST /runsync`, `POST /run`,
 * `GET|POST /status/{id}`, `GET|POST /stream/{id}` (every chunk so far, with the status) and
 * `POST /cancel/{id}`, over the same runner the worker uses. Finished jobs are kept in bounded memory.
 */
export async function serveApi(runner: JobRunner, opts: ServeApiOptions): Promise<TestModeApi> {
  const concurrency = opts.concurrency ?? 1;
  const maxFinished = opts.maxFinished ?? 1000;
  const ttl = opts.finishedTtlMs ?? 30 * 60_000;
  const jobs = new Map<string, ApiJob>();
  let running = 0;
  const waiting: Array<() => void> = [];

  const evict = () => {
    const finished = [...jobs.values()].filter((j) => j.finishedAt !== undefined).sort((a, b) => a.finishedAt! - b.finishedAt!);
    const now = Date.now();
    let extra = finished.length - maxFinished;
    for (const j of finished) {
      if (extra > 0 || now - j.finishedAt! > ttl) {
        jobs.delete(j.id);
        extra--;
      }
    }
  };

  const submit = (input: unknown): ApiJob => {
    const id = `test-${randomUUID()}`;
    const job: ApiJob = { id, status: "IN_QUEUE", stream: [], controller: new AbortController(), done: Promise.resolve() };
    jobs.set(id, job);
    job.done = (async () => {
      if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        if (job.controller.signal.aborted) return;
        job.status = "IN_PROGRESS";
        job.result = await runTestModeJob(runner, { id, input }, { log: opts.log, signal: job.controller.signal, onStream: (c) => job.stream.push(c) });
        if (job.status === "IN_PROGRESS") job.status = job.result.status;
      } finally {
        running--;
        waiting.shift()?.();
        job.finishedAt = Date.now();
        evict();
      }
    })();
    return job;
  };

  const view = (j: ApiJob) => {
    if (j.status === "CANCELLED" || !j.result || j.status !== j.result.status) return { id: j.id, status: j.status };
    return j.result;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    evict();
    const parts = new URL(req.url ?? "/", "http://serve-api").pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [op, id] = parts as [string?, string?];
    const method = req.method ?? "GET";
    if (method === "POST" && (op === "run" || op === "runsync") && !id) {
      const text = (await readBody(req, MAX_BODY))?.toString("utf8") ?? null;
      if (text === null) return send(res, 413, { error: "payload over 20 MB" });
      let input: unknown;
      try {
        input = (JSON.parse(text) as { input?: unknown } | null)?.input;
      } catch {
        return send(res, 400, { error: 'body must be JSON: {"input": {...}}' });
      }
      if (input === undefined || input === null) return send(res, 400, { error: "input is required" });
      const job = submit(input);
      if (op === "run") return send(res, 200, { id: job.id, status: "IN_QUEUE" });
      await job.done;
      return send(res, 200, view(job));
    }
    const job = id ? jobs.get(id) : undefined;
    if ((op === "status" || op === "stream" || op === "cancel") && id && (method === "GET" || method === "POST")) {
      if (!job) return send(res, 404, { id, status: "FAILED", error: "Job ID not found" });
      if (op === "status") return send(res, 200, view(job));
      if (op === "stream") return send(res, 200, { id: job.id, status: view(job).status, stream: job.stream.map((output) => ({ output })) });
      if (method === "POST") {
        if (job.status === "IN_QUEUE" || job.status === "IN_PROGRESS") {
          job.status = "CANCELLED";
          job.controller.abort(new JobStopped(job.id));
        }
        return send(res, 200, { id: job.id, status: job.status });
      }
    }
    return send(res, 404, { error: `no route ${method} /${parts.join("/")}; try POST /runsync, POST /run, /status/{id}, /stream/{id}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log.error({ err }, "test-mode API request failed");
      send(res, 500, { error: "internal error" });
    });
  });
  const listening = await listen(server, opts.port, opts.host);
  const { port, url } = listening;
  opts.log.info({ url }, "RunPod-style test API listening: POST /runsync, POST /run, /status/{id}, /stream/{id}, POST /cancel/{id}");
  return {
    url,
    port,
    async close() {
      for (const j of jobs.values()) j.controller.abort(new JobStopped(j.id));
      await listening.close();
    },
  };
}
