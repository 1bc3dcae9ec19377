// The worker's memory over many small jobs (the figure rss_growth_pct_1000_jobs).
import { readFileSync } from "node:fs";
import { runBatch, type FinishedJob } from "./jobs.ts";
import type { Clip } from "./measure.ts";
import type { BenchStack } from "./stack.ts";
import { median, sleep } from "./stats.ts";
import type { WorkerProcess } from "./worker-process.ts";

/** Median of a few RSS samples a moment apart (one sample catches the heap mid-growth). */
export async function settledRssKiB(worker: WorkerProcess, samples = 7): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    await sleep(300);
    const r = worker.rssKiB();
    if (r !== null) xs.push(r);
  }
  return median(xs);
}

export interface RssRun {
  jobsDone: number;
  /** Median RSS before and after the jobs, KiB. */
  beforeKiB: number;
  afterKiB: number;
  /** Least-squares line of RSS over jobs done, from samples taken while they ran: KiB per job, KiB at 0 jobs. */
  slopeKiBPerJob: number;
  interceptKiB: number;
  samples: number;
  sidecarBeforeKiB: number | null;
  sidecarAfterKiB: number | null;
}

function rssOfPid(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Small jobs through the worker while its RSS is sampled against the number of jobs done. The
 * heap's saw-tooth makes two single readings noisy, so the growth is also fitted over every
 * sample (least squares).
 */
export async function rssRun(stack: BenchStack, prefix: string, worker: WorkerProcess, clip: Clip, n: number, tag: string): Promise<RssRun> {
  const admin = stack.admin(prefix);
  const sidecarBeforeKiB = rssOfPid(worker.sidecarPid());
  const beforeKiB = await settledRssKiB(worker);
  const base = (await admin.stats()).done_total;
  const points: Array<[number, number]> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rss = worker.rssKiB();
      const done = (await admin.stats()).done_total - base;
      if (rss !== null) points.push([done, rss]);
      await sleep(250);
    }
  })();
  const jobs = Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, payload: { input: { audio_base64: clip.base64 } } }));
  let finished: FinishedJob[];
  try {
    finished = await runBatch(stack.queue(prefix), admin, jobs, { timeoutMs: 120_000 + n * 5_000, pollMs: 500 });
  } finally {
    sampling = false;
    await sampler;
  }
  const afterKiB = await settledRssKiB(worker);
  const mx = points.reduce((a, p) => a + p[0], 0) / points.length;
  const my = points.reduce((a, p) => a + p[1], 0) / points.length;
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return {
    jobsDone: finished.filter((j) => j.status?.state === "done").length,
    beforeKiB,
    afterKiB,
    slopeKiBPerJob: sxx > 0 ? sxy / sxx : 0,
    interceptKiB: my - (sxx > 0 ? sxy / sxx : 0) * mx,
    samples: points.length,
    sidecarBeforeKiB,
    sidecarAfterKiB: rssOfPid(worker.sidecarPid()),
  };
}

export async function smallJobs(stack: BenchStack, prefix: string, clip: Clip, n: number, tag: string): Promise<number> {
  const jobs = Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, payload: { input: { audio_base64: clip.base64 } } }));
  const done = await runBatch(stack.queue(prefix), stack.admin(prefix), jobs, { timeoutMs: 120_000 + n * 5_000, pollMs: 500 });
  return done.filter((j) => j.status?.state === "done").length;
}
