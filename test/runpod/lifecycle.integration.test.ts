import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import runpodSdk from "runpod-sdk";
import { loadConfig } from "../../handler/config/load.ts";
import { RUNPOD_PROTOCOL_VERSION } from "../../handler/runpod/result.ts";
import { pingIntervalMs } from "../../handler/runpod/settings.ts";
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
    const w = spawn(
      dev,
      runners.fn(async (_job, ctx) => {
        await childSleep(3.5, ctx.signal);
        return { ok: true };
      }),
    );
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

  it("shutdown mid-job: no more takes; the running job runs past SHUTDOWN_GRACE_MS, posts its result, and pings name it until then", async () => {
    dev = await startRunpodDevServer({ takeWaitMs: 500, stopWaitMs: 500, pingIntervalMs: 1000 });
    let started = false;
    let stopping: AbortSignal | null = null;
    const w = spawn(
      dev,
      runners.fn(async (job, ctx) => {
        started = true;
        stopping = ctx.stopping;
        await childSleep(2, ctx.signal); // four times SHUTDOWN_GRACE_MS
        return { finished: job.id, sawStopping: ctx.stopping.aborted, aborted: ctx.signal.aborted };
      }),
      { env: { SHUTDOWN_GRACE_MS: "500" } },
    );
    const ep = endpoint(dev);
    const { id } = await ep.run({ input: {} });
    await until(() => started, 10_000, "the job running");
    const second = await ep.run({ input: { queued: true } });
    const summary = await w.stop();
    expect(summary).toMatchObject({ taken: 1, completed: 1, undeliverable: 0 });
    expect(stopping!.aborted).toBe(true);
    expect(dev.job(id)!.status).toBe("COMPLETED");
    expect(dev.job(id)!.output).toEqual({ finished: id, sawStopping: true, aborted: false });
    // Never taken after the signal: a take issued then would have got it at once.
    expect(dev.job(second.id)!.status).toBe("IN_QUEUE");
    const pingsAfter = dev.store.workers.get("pod-1")!.pings.filter((p) => p.at > w.shutdownAt()! && p.at < dev!.job(id)!.completedAt!);
    expect(pingsAfter.length).toBeGreaterThanOrEqual(1);
    expect(pingsAfter.every((p) => p.jobIds.includes(id))).toBe(true);
  });

  it("CONCURRENCY 2: takes a batch, runs both at once, reports job_in_progress", async () => {
    dev = await startRunpodDevServer({ takeWaitMs: 500, stopWaitMs: 500 });
    const running = new Set<string>();
    let overlap = 0;
    const w = spawn(
      dev,
      runners.fn(async (job, ctx) => {
        running.add(job.id);
        overlap = Math.max(overlap, running.size);
        await childSleep(0.6, ctx.signal);
        running.delete(job.id);
        return { n: (job.input as { n: number }).n };
      }),
      { env: { CONCURRENCY: "2" } },
    );
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

  it("RUNPOD_PING_INTERVAL outside 1000-60000 ms: the config still loads (no exit 2), the worker warns and pings at the clamped interval", async () => {
    for (const [asked, used] of [
      ["0", 1000],
      ["-5", 1000],
      ["500", 1000],
      ["999", 1000],
      ["1000", 1000],
      ["1500", 1500],
      ["60000", 60000],
      ["99999999999", 60000],
    ] as const) {
      const cfg = loadConfig({ RUNPOD_PING_INTERVAL: asked }, null);
      expect(pingIntervalMs(cfg.RUNPOD_PING_INTERVAL).ms, asked).toBe(used);
    }
    expect(() => loadConfig({ RUNPOD_PING_INTERVAL: "ten seconds" }, null)).toThrow(/RUNPOD_PING_INTERVAL/); // not a number at all: still a config error

    dev = await startRunpodDevServer({ pingIntervalMs: 200, takeWaitMs: 500, stopWaitMs: 500 });
    const w = spawn(dev, runners.echo());
    await until(() => dev!.pingTimes("pod-1").length >= 3, 10_000, "three pings");
    const warning = w.logs.lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; asked?: number; usingMs?: number })
      .find((l) => l.msg.includes("RUNPOD_PING_INTERVAL"))!;
    expect(warning).toMatchObject({ level: 40, asked: 200, usingMs: 1000 });
    const times = dev.pingTimes("pod-1");
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);
  });
});
