// Batches of queue jobs for bench and chaos: enqueue through the counted REST server, wait
// through the driver's own server, then read every job's record and result.
import type { QueueAdmin } from "../../handler/queue/admin.ts";
import type { JobStatus } from "../../handler/queue/job.ts";
import type { VoiceQueue } from "../../handler/queue/queue.ts";
import { sleep } from "./stats.ts";

export interface BatchJob {
  id: string;
  payload: unknown;
}

export interface FinishedJob {
  id: string;
  status: JobStatus | null;
  result: Record<string, unknown> | null;
}

const TERMINAL = new Set(["done", "failed", "dead"]);

/** Terminal jobs counted by the queue's own statistics (done is a running total). */
async function terminalCount(admin: QueueAdmin): Promise<number> {
  const s = await admin.stats();
  return s.done_total + s.dead + s.failed;
}

/** Enqueues the jobs, waits until all of them are terminal, and returns their records. */
export async function runBatch(queue: VoiceQueue, admin: QueueAdmin, jobs: BatchJob[], opts: { timeoutMs: number; pollMs?: number }): Promise<FinishedJob[]> {
  const before = await terminalCount(admin);
  for (const j of jobs) await queue.enqueue(j.payload, { id: j.id });
  const deadline = Date.now() + opts.timeoutMs;
  while ((await terminalCount(admin)) < before + jobs.length) {
    if (Date.now() > deadline) throw new Error(`batch of ${jobs.length} jobs not finished within ${opts.timeoutMs} ms`);
    await sleep(opts.pollMs ?? 200);
  }
  return readJobs(
    admin,
    jobs.map((j) => j.id),
  );
}

export async function readJobs(admin: QueueAdmin, ids: string[]): Promise<FinishedJob[]> {
  const out: FinishedJob[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const chunk = ids.slice(i, i + 50);
    const rows = await Promise.all(
      chunk.map(async (id) => {
        const status = await admin.status(id);
        const result = status?.state === "done" ? ((await admin.result(id)) as Record<string, unknown> | null) : null;
        return { id, status, result };
      }),
    );
    out.push(...rows);
  }
  return out;
}

export function isTerminal(s: JobStatus | null): boolean {
  return s !== null && TERMINAL.has(s.state);
}
