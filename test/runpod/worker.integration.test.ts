import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import runpodSdk from "runpod-sdk";
import { WorkerError } from "../../handler/errors.ts";
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
    worker = startWorker(
      dev,
      runners.fn(async () => (++n === 1 ? { text: "hi", refresh_worker: true } : { error: "bad take" })),
    );
    const a = await endpoint().runSync({ input: { n: 1 } }, 20_000);
    expect(a.status).toBe("COMPLETED");
    expect(a.output).toEqual({ text: "hi" });
    expect(dev.job(a.id)!.stopPod).toBe(true);
    const b = await endpoint().runSync({ input: { n: 2 } }, 20_000);
    expect(b.status).toBe("FAILED");
    expect((b as unknown as { error: unknown }).error).toBe("bad take");
    expect(dev.job(b.id)!.stopPod).toBeUndefined();
  });

  it("stream: chunks, then the full result as the last chunk; job-done is the SDK's aggregated stream body with isStream=true", async () => {
    const progressed = (id: string, stage: string) => (dev.job(id)?.progress as { stage?: string } | undefined)?.stage === stage;
    worker = startWorker(
      dev,
      runners.fn(async (job, ctx) => {
        ctx.progress({ stage: "decode" });
        for (const text of ["eins", "zwei", "drei"]) ctx.stream({ text });
        ctx.progress({ stage: "analyze" });
        await until(() => progressed(job.id, "analyze"), 10_000, "the last progress to land"); // a later one would be dropped at the end
        return { transcription: "eins zwei drei", id: job.id };
      }),
    );
    const ep = endpoint();
    const { id } = await ep.run({ input: { audio: "x", stream: true } });
    const full = { transcription: "eins zwei drei", id };
    const chunks: unknown[] = [];
    for await (const c of ep.stream(id, 20_000)) chunks.push(c);
    expect(chunks).toEqual([{ output: { text: "eins" } }, { output: { text: "zwei" } }, { output: { text: "drei" } }, { output: full }]);
    await until(() => dev.job(id)!.status === "COMPLETED");
    // What /status and /runsync give SDK users for a stream: every chunk, the full result last.
    expect((await ep.status(id)) as unknown).toMatchObject({ status: "COMPLETED", output: [{ text: "eins" }, { text: "zwei" }, { text: "drei" }, full] });

    const streamPosts = workerRequests(dev, "job-stream");
    expect(streamPosts.map((p) => JSON.parse(p.body) as unknown)).toEqual(chunks);
    expect(streamPosts[0]!.path).toBe(`/v2/${dev.endpointId}/job-stream/pod-1/${id}`);
    const done = workerRequests(dev, "job-done");
    const final = done.at(-1)!;
    expect(final.query.isStream).toBe("true");
    expect(JSON.parse(final.body)).toEqual({ output: [{ text: "eins" }, { text: "zwei" }, { text: "drei" }, full] });
    const progress = done.slice(0, -1).map((p) => JSON.parse(p.body) as { status: string; output: { stage: string } });
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const p of progress) expect(p.status).toBe("IN_PROGRESS");
    expect(progress.at(-1)!.output.stage).toBe("analyze");
    for (const p of done.slice(0, -1)) expect(p.query.isStream).toBe("false");
  });

  it("stream: a streaming job with no chunk still ends as a stream; a failed one posts only the SDK error, isStream=true", async () => {
    worker = startWorker(
      dev,
      runners.fn(async (job, ctx) => {
        ctx.streaming();
        const input = job.input as { fail?: boolean; refuse?: boolean };
        if (input.fail) throw new WorkerError("decode_failed", "no samples", { retryable: false });
        if (input.refuse) return { error: "handler said no" };
        return { segments: [] };
      }),
    );
    const ep = endpoint();
    const silent = await ep.runSync({ input: { n: 1 } }, 20_000);
    expect(silent.output).toEqual([{ segments: [] }]);
    const failed = await ep.runSync({ input: { fail: true } }, 20_000);
    expect(failed.status).toBe("FAILED");
    const refused = await ep.runSync({ input: { refuse: true } }, 20_000);
    expect(refused.status).toBe("FAILED");
    const finals = workerRequests(dev, "job-done");
    expect(finals.map((r) => r.query.isStream)).toEqual(["true", "true", "true"]);
    expect(JSON.parse(finals[0]!.body)).toEqual({ output: [{ segments: [] }] });
    const failedBody = JSON.parse(finals[1]!.body) as Record<string, unknown>;
    expect(Object.keys(failedBody)).toEqual(["error"]);
    expect(parseErrorReport(failedBody.error)).toMatchObject({ error_type: "decode_failed" });
    expect(JSON.parse(finals[2]!.body)).toEqual({ error: "handler said no" });
    expect(workerRequests(dev, "job-stream").map((r) => JSON.parse(r.body) as unknown)).toEqual([{ output: { segments: [] } }]);
  });

  it("progress is throttled: one post in flight, the latest update wins", async () => {
    worker = startWorker(
      dev,
      runners.fn(async (job, ctx) => {
        for (let i = 1; i <= 200; i++) ctx.progress({ step: i });
        await until(() => (dev.job(job.id)?.progress as { step?: number } | undefined)?.step === 200, 10_000, "the latest progress to land");
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
