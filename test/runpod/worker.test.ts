import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import runpodSdk from "runpod-sdk";
import { parseErrorReport, RUNPOD_PROTOCOL_VERSION } from "../../handler/runpod/result.ts";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { runners, startWorker, until, workerRequests, type RunningWorker } from "./helpers.ts";

let dev: RunpodDevServer;
let worker: RunningWorker | null = null;

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => undefined); // runpod-sdk prints every status poll
  dev = await startRunpodDevServer({ takeWaitMs: 1000, stopWaitMs: 1000 });
});
afterEach(async () => {
  await worker?.stop();
  worker = null;
  await dev.close();
  vi.restoreAllMocks();
});

const endpoint = () => runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;

describe("RunPod worker loop, driven by the real runpod-sdk client", () => {
  it("runSync: takes the job, posts the result in the SDK's wire format, the client gets it", async () => {
    worker = startWorker(dev, runners.echo());
    const input = { audio: "https://example.com/a.ogg", language: "de" };
    const r = await endpoint().runSync({ input }, 20_000);
    expect(r.status).toBe("COMPLETED");
    expect(r.output).toEqual({ echo: input });
    expect(typeof r.delayTime).toBe("number");
    expect(typeof r.executionTime).toBe("number");

    const take = workerRequests(dev, "job-take")[0]!;
    expect(take.path).toBe(`/v2/${dev.endpointId}/job-take/pod-1`);
    expect(take.query).toMatchObject({ gpu: "dev", job_in_progress: "0" });
    expect(take.headers.authorization).toBe(dev.apiKey); // raw, no "Bearer"

    const done = workerRequests(dev, "job-done");
    expect(done).toHaveLength(1);
    const post = done[0]!;
    expect(post.method).toBe("POST");
    expect(post.path).toBe(`/v2/${dev.endpointId}/job-done/pod-1/${r.id}`);
    expect(post.query).toEqual({ gpu: "dev", isStream: "false" });
    expect(post.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(post.headers["x-request-id"]).toBe(r.id);
    expect(post.headers.authorization).toBe(dev.apiKey);
    expect(JSON.parse(post.body)).toEqual({ output: { echo: input } });

    await worker.stop();
    expect(worker.logs.text()).toContain("job done");
    expect(worker.logs.text()).not.toContain(dev.apiKey);
  });

  it("a WorkerError becomes FAILED with the SDK's error report; our code is its error_type", async () => {
    worker = startWorker(dev, runners.failing("unsupported_audio", false, { refresh_worker: true }));
    const r = await endpoint().runSync({ input: { audio: "x" } }, 20_000);
    expect(r.status).toBe("FAILED");
    const error = (r as unknown as { error: unknown }).error;
    expect(typeof error).toBe("string");
    const report = parseErrorReport(error)!;
    expect(Object.keys(report).sort()).toEqual(
      ["error_message", "error_traceback", "error_type", "hostname", "retryable", "runpod_version", "worker_id"].sort(),
    );
    expect(report).toMatchObject({
      error_type: "unsupported_audio",
      error_message: "the audio could not be used (unsupported_audio)",
      hostname: "pod-1-dev",
      worker_id: "pod-1",
      runpod_version: RUNPOD_PROTOCOL_VERSION,
      retryable: false,
    });
    expect(String(report.error_traceback)).toContain("WorkerError");
    expect(dev.job(r.id)!.stopPod).toBe(true); // details.refresh_worker asks for a fresh worker
  });

  it("handler output conventions: refresh_worker -> stopPod, an `error` key fails the job", async () => {
    let n = 0;
    worker = startWorker(dev, runners.fn(async () => (++n === 1 ? { text: "hi", refresh_worker: true } : { error: "bad take" })));
    const a = await endpoint().runSync({ input: { n: 1 } }, 20_000);
    expect(a.status).toBe("COMPLETED");
    expect(a.output).toEqual({ text: "hi" });
    expect(dev.job(a.id)!.stopPod).toBe(true);
    const b = await endpoint().runSync({ input: { n: 2 } }, 20_000);
    expect(b.status).toBe("FAILED");
    expect((b as unknown as { error: unknown }).error).toBe("bad take");
    expect(dev.job(b.id)!.stopPod).toBeUndefined();
  });

  it("progress posts and stream chunks, then the final result with isStream=true", async () => {
    worker = startWorker(
      dev,
      runners.fn(async (job, ctx) => {
        ctx.progress({ stage: "decode" });
        for (const text of ["eins", "zwei", "drei"]) {
          ctx.stream({ text });
          await new Promise((r) => setTimeout(r, 30));
        }
        ctx.progress({ stage: "analyze" });
        await new Promise((r) => setTimeout(r, 30));
        return { transcription: "eins zwei drei", id: job.id };
      }),
    );
    const ep = endpoint();
    const { id } = await ep.run({ input: { audio: "x", stream: true } });
    const chunks: unknown[] = [];
    for await (const c of ep.stream(id, 20_000)) chunks.push(c);
    expect(chunks).toEqual([{ output: { text: "eins" } }, { output: { text: "zwei" } }, { output: { text: "drei" } }]);
    await until(() => dev.job(id)!.status === "COMPLETED");
    expect(dev.job(id)!.output).toEqual({ transcription: "eins zwei drei", id });

    const streamPosts = workerRequests(dev, "job-stream");
    expect(streamPosts.map((p) => JSON.parse(p.body) as unknown)).toEqual([{ output: { text: "eins" } }, { output: { text: "zwei" } }, { output: { text: "drei" } }]);
    expect(streamPosts[0]!.path).toBe(`/v2/${dev.endpointId}/job-stream/pod-1/${id}`);
    const done = workerRequests(dev, "job-done");
    const final = done.at(-1)!;
    expect(final.query.isStream).toBe("true");
    const progress = done.slice(0, -1).map((p) => JSON.parse(p.body) as { status: string; output: { stage: string } });
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const p of progress) expect(p.status).toBe("IN_PROGRESS");
    expect(progress.at(-1)!.output.stage).toBe("analyze");
    for (const p of done.slice(0, -1)) expect(p.query.isStream).toBe("false");
  });

  it("progress is throttled: one post in flight, the latest update wins", async () => {
    worker = startWorker(
      dev,
      runners.fn(async (_job, ctx) => {
        for (let i = 1; i <= 200; i++) ctx.progress({ step: i });
        await new Promise((r) => setTimeout(r, 300));
        return { ok: true };
      }),
    );
    const r = await endpoint().runSync({ input: {} }, 20_000);
    expect(r.status).toBe("COMPLETED");
    const progress = workerRequests(dev, "job-done").filter((p) => (JSON.parse(p.body) as { status?: string }).status === "IN_PROGRESS");
    expect(progress.length).toBeLessThanOrEqual(3);
    expect(JSON.parse(progress.at(-1)!.body)).toEqual({ status: "IN_PROGRESS", output: { step: 200 } });
  });
});
