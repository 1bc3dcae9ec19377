import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import runpodSdk from "runpod-sdk";
import { parseErrorReport } from "../../handler/runpod/result.ts";
import { JobStopped } from "../../handler/runpod/runner.ts";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { childSleep, logLines as rawLogLines, runners, startWorker, until, workerRequests, type RunningWorker } from "./helpers.ts";

let dev: RunpodDevServer;
let worker: RunningWorker | null = null;

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => undefined);
  dev = await startRunpodDevServer({ takeWaitMs: 1000, stopWaitMs: 1000 });
});
afterEach(async () => {
  await worker?.stop();
  if (worker) expect(worker.logs.text()).not.toContain(dev.apiKey); // the key never reaches a log line
  worker = null;
  await dev.close();
  vi.restoreAllMocks();
});

const endpoint = () => runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
const logLines = (w: RunningWorker) => rawLogLines(w) as Array<{ level: number; msg: string; time: number; waitMs?: number }>;

describe("RunPod worker under platform faults", () => {
  it("job-done answered 500 three times: retried with backoff, delivered exactly once", async () => {
    dev.faults.jobDone500 = 3;
    worker = startWorker(dev, runners.echo());
    const r = await endpoint().runSync({ input: { n: 1 } }, 20_000);
    expect(r.status).toBe("COMPLETED");
    expect(r.output).toEqual({ echo: { n: 1 } });
    const posts = workerRequests(dev, "job-done");
    expect(posts.map((p) => p.status)).toEqual([500, 500, 500, 200]);
    for (const p of posts) expect(p.body).toBe(posts[0]!.body); // the same result each time
    expect(dev.job(r.id)!.deliveries).toBe(1);
    const spacing = gaps(posts.map((p) => p.at));
    expect(spacing[0]).toBeGreaterThanOrEqual(45); // postBackoffBaseMs 50, doubling
    expect(spacing[2]).toBeGreaterThanOrEqual(190);
    expect(worker.undeliverable).toEqual([]);
  });

  it("429 on job-take: waits the SDK's flat throttle time each time (no doubling), then takes the job", async () => {
    dev.faults.take429 = 3;
    dev.enqueue({ after: "throttle" });
    // throttleMs 200 stands in for the SDK's 5 s; random 0 gives the shortest jittered wait (80 %).
    worker = startWorker(dev, runners.echo(), { timing: { throttleMs: 200 }, random: () => 0 });
    await until(() => workerRequests(dev, "job-done").length === 1, 15_000, "the job after the 429s");
    const takes = workerRequests(dev, "job-take");
    expect(takes.slice(0, 4).map((t) => t.status)).toEqual([429, 429, 429, 200]);
    const waits = logLines(worker)
      .filter((l) => l.msg.includes("throttled"))
      .map((l) => l.waitMs);
    expect(waits).toEqual([160, 160, 160]); // the SDK sleeps 5 s after every 429, never longer
    gaps(takes.slice(0, 4).map((t) => t.at)).forEach((g) => expect(g).toBeGreaterThanOrEqual(155));
  });

  it("Retry-After on a 429 or 503 is honoured (seconds or HTTP date), clamped to [errorBaseMs, retryAfterMaxMs]", async () => {
    dev.faults.take429 = 1;
    dev.faults.takeRetryAfter = "1";
    dev.enqueue({ after: "retry-after" });
    worker = startWorker(dev, runners.echo(), { timing: { throttleMs: 200, retryAfterMaxMs: 1500 } });
    await until(() => workerRequests(dev, "job-done").length === 1, 15_000, "the job after Retry-After: 1");
    let takes = workerRequests(dev, "job-take");
    expect(takes[1]!.at - takes[0]!.at).toBeGreaterThanOrEqual(990);

    // A far-off Retry-After (here an HTTP date an hour ahead) is capped: queued work must not idle.
    dev.faults.take500 = 1;
    dev.faults.takeRetryAfter = new Date(Date.now() + 3_600_000).toUTCString();
    await until(() => workerRequests(dev, "job-take").some((t) => t.status === 500), 15_000, "the 500 (after the long poll in flight ends)");
    dev.enqueue({ after: "capped" });
    await until(() => workerRequests(dev, "job-done").length === 2, 15_000, "the job after the capped Retry-After");
    takes = workerRequests(dev, "job-take");
    const failedAt = takes.findIndex((t) => t.status === 500);
    expect(takes[failedAt + 1]!.at - takes[failedAt]!.at).toBeGreaterThanOrEqual(1490);
    const waits = logLines(worker)
      .filter((l) => l.msg.startsWith("job-take") && l.waitMs !== undefined)
      .map((l) => l.waitMs);
    expect(waits).toEqual([1000, 1500]);
  });

  it("500s on job-take: short doubling waits, capped, never a hot loop", async () => {
    dev.faults.take500 = 6;
    worker = startWorker(dev, runners.echo(), { timing: { errorBaseMs: 100, errorMaxMs: 400 }, random: () => 0 });
    await until(() => workerRequests(dev, "job-take").length >= 7, 15_000, "takes after the 500s");
    const spacing = gaps(
      workerRequests(dev, "job-take")
        .slice(0, 7)
        .map((t) => t.at),
    );
    const expected = [80, 160, 320, 320, 320, 320]; // 100 doubling, capped at 400, jitter down to 80 %
    spacing.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(expected[i]! - 5));
    const waits = logLines(worker)
      .filter((l) => l.msg.startsWith("job-take failed"))
      .map((l) => l.waitMs);
    expect(waits).toEqual(expected);
  });

  it("default timings: after an outage the worker takes again within the SDK's 5 s, not after minutes of back-off", async () => {
    dev.faults.take500 = 1_000_000;
    worker = startWorker(dev, runners.echo(), { timing: { throttleMs: undefined, errorBaseMs: undefined, errorMaxMs: undefined, retryAfterMaxMs: undefined } });
    // Four failures in a row: with the SDK-bounded waits (1, 2, 4 s) this takes about 7 s.
    await until(() => workerRequests(dev, "job-take").length >= 4, 20_000, "four failed takes");
    dev.faults.take500 = 0;
    const recovered = Date.now();
    const { id } = dev.enqueue({ after: "outage" });
    await until(() => dev.job(id)!.status === "COMPLETED", 20_000, "the job after the outage");
    const firstGood = workerRequests(dev, "job-take").find((t) => t.status === 200)!;
    expect(firstGood.at - recovered).toBeLessThanOrEqual(5000 + 1000); // at most one capped wait, plus slack for a loaded machine
    const waits = logLines(worker)
      .filter((l) => l.msg.startsWith("job-take failed"))
      .map((l) => l.waitMs!);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5000);
  }, 40_000);

  it("malformed jobs: one with an id gets the SDK-format error, the others are skipped, and the worker goes on", async () => {
    dev.faults.malformed.push("bad_json", "empty_body", "missing_id", "missing_input");
    worker = startWorker(dev, runners.echo());
    const r = await endpoint().runSync({ input: { good: true } }, 20_000);
    expect(r.status).toBe("COMPLETED");
    expect(r.output).toEqual({ echo: { good: true } });
    const bad = [...dev.store.jobs.values()].find((j) => j.id.startsWith("malformed-"))!;
    expect(bad.status).toBe("FAILED");
    const report = parseErrorReport(bad.error)!;
    expect(report.error_type).toBe("invalid_job");
    expect(report.error_message).toContain("missing field(s): input");
    expect(report.retryable).toBe(false);
    const logged = worker.logs.text();
    expect(logged).toContain("job has missing field(s): id");
  });

  it("job-stop: a cancelled job's runner is aborted and no job-done is posted; the next job runs", async () => {
    let stopReason: unknown = null;
    worker = startWorker(
      dev,
      runners.fn(async (job, ctx) => {
        if ((job.input as { long?: boolean }).long) {
          try {
            await childSleep(30, ctx.signal);
          } finally {
            stopReason = ctx.signal.reason;
          }
        }
        return { done: job.id };
      }),
    );
    const ep = endpoint();
    const { id } = await ep.run({ input: { long: true } });
    await until(() => dev.job(id)!.status === "IN_PROGRESS", 10_000, "the long job to start");
    const cancelled = await ep.cancel(id);
    expect(cancelled.status).toBe("CANCELLED");
    await until(() => stopReason !== null, 10_000, "the runner to see the stop");
    expect(stopReason).toBeInstanceOf(JobStopped);
    const stopPoll = workerRequests(dev, "job-stop").find((r) => r.status === 200)!;
    expect(stopPoll.path).toBe(`/v2/${dev.endpointId}/job-stop/pod-1`);
    expect(stopPoll.headers.authorization).toBe(dev.apiKey);

    const next = await ep.runSync({ input: { long: false } }, 20_000);
    expect(next.status).toBe("COMPLETED");
    const donePaths = workerRequests(dev, "job-done").map((r) => r.path);
    expect(donePaths.some((p) => p.endsWith(`/${id}`))).toBe(false);
    expect((await ep.status(id)).status).toBe("CANCELLED");
    await worker.stop().then((s) => expect(s.stopped).toBe(1));
  });

  it("job-stop: the cancelled job leaves the pings at once, though its runner takes seconds to wind down", async () => {
    await dev.close();
    dev = await startRunpodDevServer({ takeWaitMs: 1000, stopWaitMs: 1000, pingIntervalMs: 1000 });
    let windingDown = false;
    let finishedAt = 0;
    worker = startWorker(
      dev,
      runners.fn(async (job, ctx) => {
        await childSleep(30, ctx.signal).catch(() => undefined);
        windingDown = true;
        await childSleep(3.5, new AbortController().signal); // e.g. the sidecar finishing its segment
        finishedAt = Date.now();
        return { late: job.id };
      }),
    );
    const ep = endpoint();
    const { id } = await ep.run({ input: {} });
    await until(() => dev.store.workers.get("pod-1")?.pings.some((p) => p.jobIds.includes(id)) === true, 10_000, "a ping naming the job");
    await ep.cancel(id);
    await until(() => windingDown, 10_000, "the runner to see the stop");
    const stopLine = logLines(worker).find((l) => l.msg.includes("job-stop received"))!;
    await until(() => finishedAt > 0, 15_000, "the runner to finish");
    // A ping already on its way when the stop arrived may still name the job; every later one must not.
    const later = dev.store.workers.get("pod-1")!.pings.filter((p) => p.at > stopLine.time + 250 && p.at < finishedAt);
    expect(later.length).toBeGreaterThanOrEqual(2);
    expect(later.filter((p) => p.jobIds.includes(id))).toEqual([]);
    await until(() => worker!.logs.text().includes("job stopped by the platform"), 5000, "the stop to be booked");
    expect(workerRequests(dev, "job-done").some((r) => r.path.endsWith(`/${id}`))).toBe(false);
  });
});
