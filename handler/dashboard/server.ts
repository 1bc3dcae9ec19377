// The operator web view: a node:http server for the static front-end (public/), the login form
// and the JSON API. It reads the queue through its own Upstash client, counted by CommandMeter.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { redactUrl } from "../audio/fetch-url.ts";
import type { Config } from "../config/schema.ts";
import type { Secret } from "../config/secret.ts";
import { WorkerError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { listen } from "../net/http-server.ts";
import { QueueAdmin } from "../queue/admin.ts";
import { queuePolicy } from "../queue/index.ts";
import { VoiceQueue } from "../queue/queue.ts";
import { createUpstashClient, type UpstashConnection } from "../queue/redis.ts";
import { QueueViews } from "../queue/views.ts";
import { createApi } from "./api.ts";
import { DashboardAuth, hostAllowed, isLoopbackHost, sameOrigin } from "./auth.ts";
import { readBody, redirect, securityHeaders, sendError, StaticFiles } from "./http.ts";
import { CommandMeter } from "./meter.ts";

export interface DashboardOptions {
  cfg: Config;
  conn: UpstashConnection;
  host?: string;
  port?: number;
  token?: Secret;
  refreshS?: number;
  /** "local stack" or "Upstash <host>": shown in the page header. */
  queueLabel?: string;
  log?: Logger;
  now?: () => number;
}

export interface Dashboard {
  url: string;
  port: number;
  meter: CommandMeter;
  close(): Promise<void>;
}

const files = new StaticFiles(new URL("./public/", import.meta.url));

/** Refuses to serve beyond loopback without a token: every page would be open to the network. */
export function checkExposure(host: string, token: Secret | undefined): void {
  if (!isLoopbackHost(host) && !token) {
    throw new WorkerError(
      "dashboard_insecure",
      `the dashboard would listen on ${host} (beyond loopback) without DASHBOARD_TOKEN: set DASHBOARD_TOKEN (every page then needs it), or keep DASHBOARD_HOST=127.0.0.1`,
      { retryable: false },
    );
  }
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const { cfg } = opts;
  const host = opts.host ?? cfg.DASHBOARD_HOST;
  const token = opts.token ?? cfg.DASHBOARD_TOKEN;
  checkExposure(host, token);
  const now = opts.now ?? Date.now;
  const meter = new CommandMeter();
  const redis = createUpstashClient(opts.conn);
  meter.attach(redis);
  const queue = new VoiceQueue(redis, cfg.QUEUE_PREFIX, queuePolicy(cfg), now);
  const auth = new DashboardAuth(token, !isLoopbackHost(host), now);
  const api = createApi({
    admin: new QueueAdmin(queue, now),
    views: new QueueViews(queue, now),
    queue,
    auth,
    meter,
    now,
    heartbeatMs: cfg.WORKER_HEARTBEAT_MS,
    maxAudioBytes: cfg.MAX_AUDIO_MB * 1024 * 1024,
    refreshS: opts.refreshS ?? cfg.DASHBOARD_REFRESH_S,
    queueLabel: opts.queueLabel ?? `Upstash ${redactUrl(opts.conn.url)}`,
    queuePrefix: cfg.QUEUE_PREFIX,
    log: opts.log,
  });

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    if (!sameOrigin(req)) return sendError(res, 403, "csrf", "cross-origin request refused");
    if (!auth.actionsEnabled) return redirect(res, "/login?off=1");
    const addr = req.socket.remoteAddress ?? "?";
    if (!auth.loginAllowed(addr)) return redirect(res, "/login?wait=1");
    const body = await readBody(req, 4096);
    const candidate = body === null ? "" : (new URLSearchParams(body.toString("utf8")).get("token") ?? "");
    if (!auth.checkToken(candidate)) {
      auth.loginFailed(addr);
      opts.log?.warn({ addr }, "dashboard: wrong token at the login form");
      return redirect(res, "/login?failed=1");
    }
    redirect(res, "/", { "set-cookie": auth.sessionCookie() });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    if (!hostAllowed(req, auth.readsNeedToken)) return sendError(res, 403, "bad_host", "this dashboard answers on loopback names only (Host header refused)");
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://dashboard.invalid");
      decodeURIComponent(url.pathname);
    } catch {
      return sendError(res, 400, "bad_request", "malformed URL");
    }
    const path = url.pathname;
    if (path.startsWith("/api/")) return api(req, res, url);
    if (path === "/login" && req.method === "POST") return login(req, res);
    if (path === "/logout" && req.method === "POST") {
      if (!sameOrigin(req)) return sendError(res, 403, "csrf", "cross-origin request refused");
      return redirect(res, "/", { "set-cookie": DashboardAuth.clearCookie() });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return sendError(res, 405, "method_not_allowed", "GET only");
    // The front-end's code and styles hold no data: the login page needs them before a session exists.
    if (path.startsWith("/static/") && files.send(req, res, path.slice("/static/".length))) return;
    if (path === "/login") return void files.send(req, res, "login.html");
    if (path === "/" || path === "/index.html") {
      if (auth.readDenial(req)) return redirect(res, "/login");
      return void files.send(req, res, "index.html");
    }
    sendError(res, 404, "not_found", "not found");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log?.error({ err }, "dashboard request failed");
      sendError(res, 500, "internal_error", "internal error");
    });
  });
  server.requestTimeout = 120_000;
  server.headersTimeout = 20_000;
  const listening = await listen(server, opts.port ?? cfg.DASHBOARD_PORT, host);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${listening.port}/`,
    port: listening.port,
    meter,
    close: () => listening.close(),
  };
}
