// A dashboard on the local stack (its own queue prefix), and a way to put jobs in any state.
import { randomUUID } from "node:crypto";
import { loadConfig } from "../../handler/config/load.ts";
import type { Config } from "../../handler/config/schema.ts";
import { startDashboard, type Dashboard, type DashboardOptions } from "../../handler/dashboard/index.ts";
import { QueueAdmin } from "../../handler/queue/admin.ts";
import { openQueue, resolveConnection } from "../../handler/queue/index.ts";
import type { Priority } from "../../handler/queue/job.ts";
import { VoiceQueue } from "../../handler/queue/queue.ts";
import type { LocalStack } from "../../handler/local-stack/stack.ts";
import { urlJob } from "../helpers/queue.ts";

export const TOKEN = "dash-test-token-0123456789abcdef";

export interface TestDashboard {
  cfg: Config;
  env: Record<string, string>;
  dashboard: Dashboard;
  base: string;
  queue: VoiceQueue;
  admin: QueueAdmin;
  get(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function dashboardOn(stack: LocalStack, env: Record<string, string> = {}, opts: Partial<DashboardOptions> = {}): Promise<TestDashboard> {
  const fullEnv = { ...stack.env, QUEUE_PREFIX: `dash-${randomUUID().slice(0, 8)}`, DASHBOARD_PORT: "0", ...env };
  const cfg = loadConfig(fullEnv, null);
  const conn = resolveConnection(cfg);
  const dashboard = await startDashboard({ cfg, conn, queueLabel: "local stack", ...opts });
  const base = `http://127.0.0.1:${dashboard.port}`;
  const queue = openQueue(cfg, conn);
  return {
    cfg,
    env: fullEnv,
    dashboard,
    base,
    queue,
    admin: new QueueAdmin(queue),
    get: (path, init) => fetch(`${base}${path}`, { redirect: "manual", ...init }),
    post: (path, body, headers = {}) =>
      fetch(`${base}${path}`, { method: "POST", redirect: "manual", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }),
    close: () => dashboard.close(),
  };
}

const err = (code: string, retryable: boolean, message = `${code} happened`) => ({ code, message, retryable });

export type Fate = "queued" | "done" | "failed" | "dead" | "retrying" | "active";

/** Drives one job to its fate now (by the queue's clock), without a worker. */
export async function settle(
  q: VoiceQueue,
  now: () => number,
  id: string,
  fate: Fate,
  opts: { code?: string; message?: string; priority?: Priority; payload?: unknown; result?: unknown } = {},
) {
  const code = opts.code ?? "download_failed";
  await q.enqueue(opts.payload ?? urlJob(id), { id, priority: opts.priority ?? "normal" });
  if (fate === "queued") return;
  // Claim this very job: others may be waiting; put them back untouched (a hand-back does not count).
  const held = [];
  for (;;) {
    const c = await q.claim("w-test");
    if (!c.job) throw new Error(`job ${id} not claimable`);
    if (c.job.id !== id) {
      held.push(c.job);
      continue;
    }
    for (const h of held) await q.handBack(h);
    if (fate === "active") return;
    if (fate === "done") await q.complete(c.job, opts.result ?? { transcription: `text of ${id}` });
    else if (fate === "failed") await q.fail(c.job, err(code, false, opts.message));
    else if (fate === "retrying") await q.fail(c.job, err(code, true, opts.message));
    else {
      // Out of attempts: a retryable error when this attempt was the last one allowed.
      const lastTry = new VoiceQueue(q.redis, q.prefix.slice(1, -2), { ...q.policy, maxAttempts: c.job.attempt }, now);
      await lastTry.fail(c.job, err(code, true, opts.message));
    }
    return;
  }
}
