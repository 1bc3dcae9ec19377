import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import runpodSdk from "runpod-sdk";
import { RUNPOD_PROTOCOL_VERSION } from "../../handler/runpod/result.ts";
import { ShutdownAbort } from "../../handler/runpod/runner.ts";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { childSleep, runners, startWorker, until, workerRequests, type RunningWorker } from "./helpers.ts";

let dev: RunpodDevServer | null = null;
const workers: RunningWorker[] = [];

beforeEach(() => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    await w.stop();
    expect(w.logs.text()).not.toContain(dev!.apiKey); // the key never reaches a log line
  }
  await dev?.close();
  dev = null;
  vi.restoreAllMocks();
});

const endpoint = (d: RunpodDevServer) => runpodSdk(d.apiKey, { baseUrl: d.baseUrl }).endpoint(d.endpointId)!;
const spawn = (...args: Parameters<typeof startWorker>) => {
  const w = startWorker(...args);
  workers.push(w);
  return w;
};

describe("RunPod worker lifecycle", () => {
  it("the heartbeat keeps its interval (+-20 %) while a long job waits on a child process, and names the job", async () => {
    dev = await startRunpodDevServer({ pingIntervalMs: 1000, takeWaitMs: 1000, stopWaitMs: 1000 });
    const w = spawn(dev, runners.fn(async (_job, ctx) => {
      await childSleep(3.5, ctx.signal);
      return { ok: true };
    }));
    const r = await endpoint(dev).runSync({ input: { long: true } }, 30_000);
    expect(r.status).toBe("COMPLETED");
    await w.stop();
    const pings = dev.store.workers.get("pod-1")!.pings;
    const during = pings.filter((p) => p.jobIds.includes(r.id));
    expect(during.length).toBeGreaterThanOrEqual(3);
    const times = pings.map((p) => p.at);
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(800);
      expect(gap).toBeLessThanOrEqual(1200);
    }
    expect(dev.heartbeatGaps("pod-1", 1.2)).toEqual([]);
    expect(pings[0]!.version).toBe(RUNPOD_PROTOCOL_VERSION);
    const ping = workerRequests(dev, "ping")[0]!;
    expect(ping.path).toBe(`/v2/${dev.endpointId}/ping/pod-1`);
    expect(ping.headers.authorization).toBe(dev.apiKey);
    expect(ping.query.gpu).toBe("dev");
  });

  it("shutdown mid-job: no more takes, the running job finishes within the grace period and is delivered", async () => {
    dev = await startRunpodDevServer({ takeWaitMs: 500, stopWaitMs: 500 });
    let started = false;
    const w = spawn(dev, runners.fn(async (job, ctx) => {
      started = true;
      await childSleep(1, ctx.signal);
      return { finished: job.id };
    }), { env: { SHUTDOWN_GRACE_MS: "10000" } });
    const ep = endpoint(dev);
    const { id } = await ep.run({ input: {} });
    await until(() => started, 10_000, "the job running");
    const second = await ep.run({ input: { queued: true } });
    const summary = await w.stop();
    expect(summary).toMatchObject({ taken: 1, completed: 1, handed_back: 0 });
    expect(dev.job(id)!.status).toBe("COMPLETED");
    expect(dev.job(id)!.output).toEqual({ finished: id });
    expect(dev.job(second.id)!.status).toBe("IN_QUEUE"); // never taken after the signal
    const takesAfter = workerRequests(dev, "job-take").filter((t) => t.at > w.shutdownAt()! + 50);
    expect(takesAfter).toEqual([]);
  });

  it("shutdown past the grace period: the job is aborted and handed back (no result); the platform re-queues it", async () => {
    dev = await startRunpodDevServer({ takeWaitMs: 500, stopWaitMs: 500, pingIntervalMs: 1000, workerLostAfterMs: 1500 });
    let reason: unknown = null;
    let started = false;
    const w = spawn(dev, runners.fn(async (job, ctx) => {
      started = true;
      try {
        await childSleep(30, ctx.signal);
      } finally {
        reason = ctx.signal.reason;
      }
      return { never: job.id };
    }), { podId: "pod-a", env: { SHUTDOWN_GRACE_MS: "300" } });
    const ep = endpoint(dev);
    const { id } = await ep.run({ input: { audio: "x" } });
    await until(() => started, 10_000, "the runner to start");
    const summary = await w.stop();
    expect(summary).toMatchObject({ taken: 1, handed_back: 1, completed: 0 });
    expect(reason).toBeInstanceOf(ShutdownAbort);
    expect(workerRequests(dev, "job-done")).toEqual([]);

    // The old worker is gone; the platform notices and hands the job to a new one.
    spawn(dev, runners.fn(async (job) => ({ finished: job.id })), { podId: "pod-b" });
    await until(() => dev!.job(id)!.status === "COMPLETED", 15_000, "the re-queued job");
    expect(dev.job(id)!.workerId).toBe("pod-b");
    expect(dev.job(id)!.retries).toBe(1);
    expect((await ep.health()).jobs.retried).toBe(1);
  });

  it("CONCURRENCY 2: takes a batch, runs both at once, reports job_in_progress", async () => {
    dev = await startRunpodDevServer({ takeWaitMs: 500, stopWaitMs: 500 });
    const running = new Set<string>();
    let overlap = 0;
    const w = spawn(dev, runners.fn(async (job, ctx) => {
      running.add(job.id);
      overlap = Math.max(overlap, running.size);
      await childSleep(0.6, ctx.signal);
      running.delete(job.id);
      return { n: (job.input as { n: number }).n };
    }), { env: { CONCURRENCY: "2" } });
    const a = dev.enqueue({ n: 1 });
    const b = dev.enqueue({ n: 2 });
    const c = dev.enqueue({ n: 3 });
    await until(() => [a, b, c].every((j) => dev!.job(j.id)!.status === "COMPLETED"), 15_000, "three jobs");
    await w.stop();
    expect(overlap).toBe(2);
    const firstTake = dev.requests.find((r) => r.path.includes("/job-take"))!;
    expect(firstTake.path).toBe(`/v2/${dev.endpointId}/job-take-batch/pod-1`);
    expect(firstTake.query).toMatchObject({ batch_size: "2", job_in_progress: "0", gpu: "dev" });
    const takes = dev.requests.filter((r) => r.path.includes("/job-take"));
    // While one job runs, one slot is free: a single take that says a job is in progress.
    expect(takes.some((t) => t.path.includes("/job-take/") && t.query.job_in_progress === "1")).toBe(true);
    expect([a, b, c].map((j) => dev!.job(j.id)!.output)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});
