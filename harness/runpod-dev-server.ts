import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listen } from "../handler/net/http-server.ts";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { registerSecret } from "../handler/config/secret.ts";
import * as client from "./runpod-dev-server/client-routes.ts";
import { readBody, send, type RecordedRequest } from "./runpod-dev-server/http.ts";
import { DevStore, type DevJob } from "./runpod-dev-server/store.ts";
import * as worker from "./runpod-dev-server/worker-routes.ts";
import type { DevFaults } from "./runpod-dev-server/worker-routes.ts";

export type { DevFaults } from "./runpod-dev-server/worker-routes.ts";
export type { DevJob } from "./runpod-dev-server/store.ts";
export type { RecordedRequest } from "./runpod-dev-server/http.ts";

export interface RunpodDevServerOptions {
  port?: number;
  host?: string;
  /** One key for both sides: clients send `Bearer <key>`, workers the raw key. Random when omitted. */
  apiKey?: string;
  endpointId?: string;
  /** The RUNPOD_PING_INTERVAL given to workers (and the yardstick of `heartbeatGaps`). */
  pingIntervalMs?: number;
  /** How long an empty job-take / job-stop is held open before 204. */
  takeWaitMs?: number;
  stopWaitMs?: number;
  streamWaitMs?: number;
  /** Re-queue the jobs of a worker not heard from for this long (0: never; what the platform does for a lost worker). */
  workerLostAfterMs?: number;
  faults?: Partial<DevFaults>;
  /** Requests kept for assertions (oldest dropped first). */
  maxRecorded?: number;
  /** Clock of the store's records (job times, pings, last seen); tests inject one to place pings exactly. */
  now?: () => number;
}

export interface RunpodDevServer {
  /** `http://host:port` */
  url: string;
  /** What `runpodSdk(key, { baseUrl })` needs: `<url>/v2`. */
  baseUrl: string;
  port: number;
  apiKey: string;
  endpointId: string;
  faults: DevFaults;
  /** Every request, in arrival order, with its reply status. */
  requests: RecordedRequest[];
  store: DevStore;
  /** The RUNPOD_* variables a worker with this id needs to use this server. */
  workerEnv(podId: string): Record<string, string>;
  job(id: string): DevJob | undefined;
  /** Adds a job as `/run` would. */
  enqueue(input: unknown): DevJob;
  pingTimes(workerId: string): number[];
  /** Gaps between consecutive pings longer than `k` x the ping interval (`untilNow`: the time since the last ping counts too). */
  heartbeatGaps(workerId: string, k: number, untilNow?: boolean): Array<{ afterMs: number; gapMs: number }>;
  requeueJobsOf(workerId: string): string[];
  close(): Promise<void>;
}

const LIMITS = { run: 10 * 1024 * 1024, runsync: 20 * 1024 * 1024, worker: 64 * 1024 * 1024 };

/**
 * A local stand-in for RunPod's serverless API: the worker-facing routes exactly as the Python
 * SDK uses them and the client routes the `runpod-sdk` npm package calls, with an in-memory job
 * store and injectable faults. It records every request so tests can check headers and bodies.
 */
export async function startRunpodDevServer(opts: RunpodDevServerOptions = {}): Promise<RunpodDevServer> {
  const apiKey = opts.apiKey ?? `rpa_dev_${randomBytes(18).toString("base64url")}`;
  registerSecret(apiKey);
  const endpointId = opts.endpointId ?? "dev-endpoint";
  const pingIntervalMs = opts.pingIntervalMs ?? 10_000;
  const store = new DevStore(opts.now);
  const faults: DevFaults = { take429: 0, take500: 0, takeRetryAfter: null, takeDelayMs: 0, jobDone500: 0, jobDoneDrop: 0, malformed: [], ...opts.faults };
  const requests: RecordedRequest[] = [];
  const maxRecorded = opts.maxRecorded ?? 10_000;
  const wctx: worker.WorkerRouteContext = { store, faults, takeWaitMs: opts.takeWaitMs ?? 5000, stopWaitMs: opts.stopWaitMs ?? 5000 };
  const cctx: client.ClientRouteContext = { store, streamWaitMs: opts.streamWaitMs ?? 500 };
  const keyIs = (got: string | undefined, want: string) => {
    const a = Buffer.from(got ?? "");
    const b = Buffer.from(want);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const route = async (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<void> => {
    const parts = rec.path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== "v2" || parts[1] !== endpointId || parts.length < 3) return send(res, 404, { error: `no route ${rec.path}` });
    const [op, a, b] = parts.slice(2) as [string, string?, string?];
    const m = req.method ?? "GET";
    const workerOps = ["job-take", "job-take-batch", "job-done", "job-stream", "ping", "job-stop"];
    if (workerOps.includes(op)) {
      // Workers send the key raw, exactly as RUNPOD_AI_API_KEY holds it.
      if (!keyIs(rec.headers.authorization, apiKey)) return send(res, 401, { error: "Unauthorized" });
      if (!a) return send(res, 404, { error: "worker id missing" });
      if (m === "GET" && (op === "job-take" || op === "job-take-batch")) return worker.jobTake(wctx, res, a, op === "job-take-batch", rec.query);
      if (m === "GET" && op === "ping") return worker.ping(wctx, res, a, rec.query);
      if (m === "GET" && op === "job-stop") return worker.jobStop(wctx, res, a);
      if (m === "POST" && b && (op === "job-done" || op === "job-stream")) {
        const body = await readBody(req, LIMITS.worker);
        if (body === null) return send(res, 413, { error: "body too large" });
        rec.body = body;
        return op === "job-done" ? worker.jobDone(wctx, res, a, b, body) : worker.jobStream(wctx, res, a, b, body);
      }
      return send(res, 405, { error: `${m} ${op} is not supported` });
    }
    if (!keyIs(rec.headers.authorization, `Bearer ${apiKey}`)) return send(res, 401, { error: "Unauthorized" });
    if (m === "POST" && (op === "run" || op === "runsync")) {
      const body = await readBody(req, op === "run" ? LIMITS.run : LIMITS.runsync);
      if (body === null) return send(res, 413, { error: `payload over the ${op} limit` });
      rec.body = body;
      return op === "run" ? client.run(cctx, res, body) : client.runsync(cctx, res, body, rec.query);
    }
    if ((op === "status" || op === "status-sync") && a) return client.status(cctx, res, a, op === "status-sync", rec.query);
    if (op === "stream" && a) return client.stream(cctx, res, a);
    if (m === "POST" && op === "cancel" && a) return client.cancel(cctx, res, a);
    if (m === "GET" && op === "health") return client.health(cctx, res);
    if (m === "POST" && op === "purge-queue") return client.purgeQueue(cctx, res);
    return send(res, 404, { error: `no route ${m} ${rec.path}` });
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://dev");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const rec: RecordedRequest = {
      at: Date.now(),
      method: req.method ?? "GET",
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers,
      body: "",
    };
    requests.push(rec);
    if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);
    res.on("finish", () => (rec.status = res.statusCode));
    route(req, res, rec).catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
  });
  const listening = await listen(server, opts.port, opts.host);
  const { port, url } = listening;

  const lostAfter = opts.workerLostAfterMs ?? 0;
  const sweeper =
    lostAfter > 0
      ? setInterval(
          () => {
            for (const w of store.workers.values()) if (w.held.size > 0 && store.now() - w.lastSeen > lostAfter) store.requeueJobsOf(w.id);
          },
          Math.max(50, Math.floor(lostAfter / 4)),
        )
      : null;

  const pingTimes = (workerId: string) => store.workers.get(workerId)?.pings.map((p) => p.at) ?? [];
  return {
    url,
    baseUrl: `${url}/v2`,
    port,
    apiKey,
    endpointId,
    faults,
    requests,
    store,
    workerEnv: (podId) => ({
      RUNPOD_WEBHOOK_GET_JOB: `${url}/v2/${endpointId}/job-take/$ID?gpu=dev`,
      RUNPOD_WEBHOOK_POST_OUTPUT: `${url}/v2/${endpointId}/job-done/$RUNPOD_POD_ID/$ID?gpu=dev`,
      RUNPOD_WEBHOOK_POST_STREAM: `${url}/v2/${endpointId}/job-stream/$RUNPOD_POD_ID/$ID?gpu=dev`,
      RUNPOD_WEBHOOK_PING: `${url}/v2/${endpointId}/ping/$RUNPOD_POD_ID?gpu=dev`,
      RUNPOD_PING_INTERVAL: String(pingIntervalMs),
      RUNPOD_POD_ID: podId,
      RUNPOD_POD_HOSTNAME: `${podId}-dev`,
      RUNPOD_AI_API_KEY: apiKey,
      RUNPOD_ENDPOINT_ID: endpointId,
    }),
    job: (id) => store.jobs.get(id),
    enqueue: (input) => store.add(input),
    pingTimes,
    heartbeatGaps(workerId, k, untilNow = false) {
      const times = untilNow ? [...pingTimes(workerId), store.now()] : pingTimes(workerId);
      const gaps: Array<{ afterMs: number; gapMs: number }> = [];
      for (let i = 1; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!;
        if (gap > k * pingIntervalMs) gaps.push({ afterMs: times[i - 1]! - (times[0] ?? 0), gapMs: gap });
      }
      return gaps;
    },
    requeueJobsOf: (workerId) => store.requeueJobsOf(workerId),
    async close() {
      if (sweeper) clearInterval(sweeper);
      await listening.close();
    },
  };
}
