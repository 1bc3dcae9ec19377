// The JSON API under /api/: what the page uses, and what scripts can use with
// `Authorization: Bearer <DASHBOARD_TOKEN>`. Every answer says what it cost in Upstash commands
// (x-upstash-commands).
import type { IncomingMessage, ServerResponse } from "node:http";
import { WorkerError } from "../errors.ts";
import { scrubMessage } from "../log/scrub.ts";
import type { Logger } from "../log/logger.ts";
import { PRIORITIES, type Priority } from "../queue/job.ts";
import { LIST_STATES, type ListState } from "../queue/views.ts";
import { parseSelection, purge, push, retry, type ActionDeps } from "./actions.ts";
import { audioContentType } from "./audio.ts";
import type { DashboardAuth } from "./auth.ts";
import { readBody, sendError, sendJson } from "./http.ts";
import type { CommandMeter } from "./meter.ts";
import { readDeadLetter, readJob, readJobs, readOverview, readWorkers, type ReadDeps } from "./reads.ts";
import { safeText } from "./redact.ts";

export interface ApiDeps extends ReadDeps, ActionDeps {
  auth: DashboardAuth;
  meter: CommandMeter;
  refreshS: number;
  /** Where the queue is, for the header: "Upstash <host>" or "local stack". */
  queueLabel: string;
  queuePrefix: string;
  log?: Logger;
}

type Handler = (req: IncomingMessage, url: URL, params: string[]) => Promise<unknown>;
type Raw = { raw: true; status: number; type: string; body: Buffer };

const JOB_ID = "([A-Za-z0-9._:-]{1,128})";

export function createApi(d: ApiDeps) {
  const json = async (req: IncomingMessage): Promise<unknown> => {
    const body = await readBody(req, 64 * 1024);
    if (body === null) throw new WorkerError("payload_too_large", "the request body is over 64 KiB", { retryable: false });
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      throw new WorkerError("invalid_input", "the request body is not JSON", { retryable: false });
    }
  };

  const session = async (req: IncomingMessage) => ({
    signed_in: d.auth.caller(req).via !== "none",
    actions: d.auth.actionsEnabled ? "token" : "disabled",
    reads_need_token: d.auth.readsNeedToken,
    refresh_s: d.refreshS,
    heartbeat_ms: d.heartbeatMs,
    queue: { where: d.queueLabel, prefix: d.queuePrefix },
    commands_total: d.meter.total,
  });

  const jobsFilter = (url: URL) => {
    const q = url.searchParams;
    const state = (q.get("state") || "active") as ListState;
    if (!LIST_STATES.includes(state)) throw new WorkerError("invalid_input", `state must be one of ${LIST_STATES.join(", ")}`, { retryable: false });
    const priority = q.get("priority") || undefined;
    if (priority !== undefined && !PRIORITIES.includes(priority as Priority))
      throw new WorkerError("invalid_input", `priority must be one of ${PRIORITIES.join(", ")}`, { retryable: false });
    const num = (k: string) => (q.get(k) && /^\d{1,7}$/.test(q.get(k)!) ? Number(q.get(k)) : undefined);
    return {
      state,
      priority: priority as Priority | undefined,
      code: q.get("code")?.slice(0, 100) || undefined,
      text: q.get("q")?.slice(0, 100) || undefined,
      offset: num("offset"),
      limit: num("limit"),
    };
  };

  const audio = async (_req: IncomingMessage, _url: URL, [id]: string[]): Promise<Raw | null> => {
    const bytes = await d.views.audio(id!);
    return bytes ? { raw: true, status: 200, type: audioContentType(bytes), body: bytes } : null;
  };

  const pushRequest = async (req: IncomingMessage, url: URL) => {
    if ((req.headers["content-type"] ?? "").startsWith("application/json")) {
      const b = (await json(req)) as Record<string, unknown> | null;
      if (typeof b !== "object" || b === null) throw new WorkerError("invalid_input", "send a JSON object", { retryable: false });
      return push(d, { url: b.url as string | undefined, options: b.options, priority: b.priority, id: b.id });
    }
    // A file: the raw bytes as the body, the options in the query string.
    const bytes = await readBody(req, d.maxAudioBytes);
    if (bytes === null)
      throw new WorkerError("audio_too_large", `the file is larger than MAX_AUDIO_MB (${d.maxAudioBytes / 1048576} MB)`, { retryable: false });
    let options: unknown = {};
    const text = url.searchParams.get("options");
    if (text) {
      try {
        options = JSON.parse(text);
      } catch {
        throw new WorkerError("invalid_input", "options must be a JSON object", { retryable: false });
      }
    }
    return push(d, { bytes, options, priority: url.searchParams.get("priority") ?? undefined, id: url.searchParams.get("id") ?? undefined });
  };

  const reads: Array<[RegExp, Handler]> = [
    [/^\/api\/session$/, session],
    [/^\/api\/stats$/, () => d.admin.stats()],
    [/^\/api\/overview$/, async () => ({ ...(await readOverview(d)), commands_total: d.meter.total })],
    [/^\/api\/workers$/, () => readWorkers(d)],
    [/^\/api\/dead-letter$/, () => readDeadLetter(d)],
    [/^\/api\/jobs$/, (_r, url) => readJobs(d, jobsFilter(url))],
    [new RegExp(`^/api/jobs/${JOB_ID}$`), (_r, _u, [id]) => readJob(d, id!)],
    [new RegExp(`^/api/jobs/${JOB_ID}/audio$`), audio],
  ];
  const actions: Array<[RegExp, Handler]> = [
    [/^\/api\/retry$/, async (req) => retry(d, parseSelection(await json(req)))],
    [/^\/api\/purge$/, async (req) => purge(d, parseSelection(await json(req)))],
    [/^\/api\/push$/, pushRequest],
  ];

  return async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = decodeURIComponent(url.pathname);
    const isRead = req.method === "GET" || req.method === "HEAD";
    const table = isRead ? reads : req.method === "POST" ? actions : [];
    const route = table.map(([re, h]) => [re.exec(path), h] as const).find(([m]) => m !== null);
    if (!route) {
      const other = (isRead ? actions : reads).some(([re]) => re.test(path));
      return other
        ? sendError(res, 405, "method_not_allowed", isRead ? "this action needs POST" : "reads are GET")
        : sendError(res, 404, "not_found", "no such API route");
    }
    const denial = isRead ? d.auth.readDenial(req) : d.auth.actionDenial(req);
    if (denial) return sendError(res, denial.status, denial.code, denial.message);
    const [match, handler] = route;
    try {
      const { value, commands } = await d.meter.measure(() => handler(req, url, match!.slice(1)));
      const cost = { "x-upstash-commands": commands };
      if (value === null) return sendJson(res, 404, { error: { code: "not_found", message: "no such job (or its audio is no longer stored)" } }, cost);
      if (typeof value === "object" && (value as Raw).raw) {
        const r = value as Raw;
        res.writeHead(r.status, { "content-type": r.type, "content-length": r.body.length, "content-disposition": "inline", ...cost });
        return void res.end(req.method === "HEAD" ? undefined : r.body);
      }
      if (!isRead) d.log?.info({ action: path, via: d.auth.caller(req).via, outcome: value }, "dashboard action");
      sendJson(res, 200, value, cost);
    } catch (err) {
      if (err instanceof WorkerError) {
        const status = err.code === "payload_too_large" || err.code === "audio_too_large" ? 413 : err.retryable ? 503 : 400;
        if (status === 413) res.setHeader("connection", "close");
        return sendError(res, status, err.code, safeText(err.message));
      }
      d.log?.error({ err }, "dashboard API failed");
      sendError(res, 500, "internal_error", safeText(scrubMessage(err instanceof Error ? err.message : String(err))));
    }
  };
}
