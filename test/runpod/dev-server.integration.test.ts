import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import runpodSdk from "runpod-sdk";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";

let dev: RunpodDevServer;
beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => undefined); // runpod-sdk prints every status poll
  dev = await startRunpodDevServer({ takeWaitMs: 200, stopWaitMs: 200, streamWaitMs: 100, pingIntervalMs: 1000 });
});
afterEach(async () => {
  await dev.close();
  vi.restoreAllMocks();
});

const endpoint = () => runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
const worker = (path: string, init: RequestInit = {}) =>
  fetch(`${dev.url}/v2/${dev.endpointId}/${path}`, { ...init, headers: { authorization: dev.apiKey, ...init.headers } });

describe("RunPod dev server: the client routes runpod-sdk calls", () => {
  it("run, status, cancel of a queued job, health and purge-queue through the real client", async () => {
    const ep = endpoint();
    const a = await ep.run({ input: { n: 1 } });
    expect(a).toEqual({ id: a.id, status: "IN_QUEUE" });
    const b = await ep.run({ input: { n: 2 } });
    await ep.run({ input: { n: 3 } });
    expect(await ep.status(a.id)).toMatchObject({ id: a.id, status: "IN_QUEUE", started: true, completed: false });
    const cancelled = await ep.cancel(b.id);
    expect(cancelled).toMatchObject({ id: b.id, status: "CANCELLED" });
    expect((await ep.health()).jobs).toEqual({ completed: 0, failed: 0, inProgress: 0, inQueue: 2, retried: 0 });
    expect(await ep.purgeQueue()).toEqual({ removed: 2, status: "completed" });
    expect((await ep.health()).jobs.inQueue).toBe(0);
    expect(dev.requests.find((r) => r.path.endsWith("/run"))!.headers.authorization).toBe(`Bearer ${dev.apiKey}`);
  });

  it("refuses the wrong credentials on each side: clients need Bearer, workers the raw key", async () => {
    const asClient = await fetch(`${dev.baseUrl}/${dev.endpointId}/health`, { headers: { authorization: dev.apiKey } });
    expect(asClient.status).toBe(401);
    const asWorker = await fetch(`${dev.url}/v2/${dev.endpointId}/job-take/w1?job_in_progress=0`, { headers: { authorization: `Bearer ${dev.apiKey}` } });
    expect(asWorker.status).toBe(401);
    const unknown = await fetch(`${dev.baseUrl}/${dev.endpointId}/status/nope`, { headers: { authorization: `Bearer ${dev.apiKey}` } });
    expect(unknown.status).toBe(404);
  });

  it("worker routes: take (single and batch), progress, stream chunks returned once, result with delayTime/executionTime", async () => {
    const ep = endpoint();
    const { id } = await ep.run({ input: { audio: "x" }, webhook: "https://example.com/hook" });
    const take = await worker("job-take/w1?job_in_progress=0");
    expect(take.status).toBe(200);
    expect(await take.json()).toEqual({ id, input: { audio: "x" }, webhook: "https://example.com/hook" });
    expect((await worker("job-take-batch/w1?batch_size=3&job_in_progress=1")).status).toBe(204);

    const post = (path: string, body: unknown) =>
      worker(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/x-www-form-urlencoded" } });
    await post(`job-done/w1/${id}?isStream=false`, { status: "IN_PROGRESS", output: { stage: "decode" } });
    expect(await ep.status(id)).toMatchObject({ status: "IN_PROGRESS", output: { stage: "decode" } });
    await post(`job-stream/w1/${id}?isStream=false`, { output: "a" });
    await post(`job-stream/w1/${id}?isStream=false`, { output: "b" });
    const firstRead = (await (await fetch(`${dev.baseUrl}/${dev.endpointId}/stream/${id}`, { headers: { authorization: `Bearer ${dev.apiKey}` } })).json()) as {
      stream: unknown[];
    };
    expect(firstRead.stream).toEqual([{ output: "a" }, { output: "b" }]);
    await post(`job-stream/w1/${id}?isStream=false`, { output: "c" });
    await post(`job-done/w1/${id}?isStream=true`, { output: { text: "abc" } });
    const rest: unknown[] = [];
    for await (const chunk of ep.stream(id, 5000)) rest.push(chunk);
    expect(rest).toEqual([{ output: "c" }]);
    const done = await ep.status(id);
    expect(done).toMatchObject({ status: "COMPLETED", output: { text: "abc" }, workerId: "w1", succeeded: true });
    expect(typeof (done as { delayTime?: unknown }).delayTime).toBe("number");
    expect(typeof (done as { executionTime?: unknown }).executionTime).toBe("number");
  });

  it("cancel of a running job turns into a job-stop for the worker holding it", async () => {
    const ep = endpoint();
    const { id } = await ep.run({ input: {} });
    await worker("job-take/w1?job_in_progress=0");
    expect((await worker("job-stop/w1")).status).toBe(204);
    await ep.cancel(id);
    const stop = await worker("job-stop/w1");
    expect(stop.status).toBe(200);
    expect(await stop.json()).toEqual({ jobsToStop: [id] });
  });

  it("runSync: /runsync?wait= answers IN_QUEUE when the wait runs out, then the client long-polls /status-sync", async () => {
    const ep = endpoint();
    // Finish the job only once the client has moved on to /status-sync.
    const finisher = (async () => {
      const job = (await (await worker("job-take/w2?job_in_progress=0")).json()) as { id: string };
      while (!dev.requests.some((q) => q.path.includes("/status-sync/"))) await new Promise((r) => setTimeout(r, 20));
      await worker(`job-done/w2/${job.id}?isStream=false`, { method: "POST", body: JSON.stringify({ output: 42 }) });
    })();
    const r = await ep.runSync({ input: { q: 1 } }, 1000);
    await finisher;
    expect(r).toMatchObject({ status: "COMPLETED", output: 42, completed: true, succeeded: true });
    const runsync = dev.requests.find((q) => q.path.endsWith("/runsync"))!;
    expect(runsync.query.wait).toBe("1000");
    expect(runsync.status).toBe(200);
    const statusSync = dev.requests.find((q) => q.path.includes("/status-sync/"))!;
    expect(statusSync.path).toBe(`/v2/${dev.endpointId}/status-sync/${r.id}`);
  });

  it("fault injection: 429 and 500 on take, slow take, malformed jobs, 500 on job-done", async () => {
    dev.faults.take429 = 1;
    dev.faults.take500 = 1;
    const throttled = await worker("job-take/w1");
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBeNull(); // none unless a test asks for one
    dev.faults.takeRetryAfter = "7";
    const failed = await worker("job-take/w1");
    expect(failed.status).toBe(500);
    expect(failed.headers.get("retry-after")).toBe("7");
    dev.faults.takeRetryAfter = null;
    dev.faults.takeDelayMs = 300;
    const t0 = Date.now();
    expect((await worker("job-take/w1")).status).toBe(204);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    dev.faults.takeDelayMs = 0;
    dev.faults.malformed.push("bad_json", "missing_input");
    const badText = await (await worker("job-take/w1")).text();
    expect(() => JSON.parse(badText) as unknown).toThrow();
    const noInput = (await (await worker("job-take/w1")).json()) as Record<string, unknown>;
    expect(Object.keys(noInput)).toEqual(["id"]);
    const { id } = dev.enqueue({ x: 1 });
    await worker("job-take/w1");
    dev.faults.jobDone500 = 1;
    const send = () => worker(`job-done/w1/${id}?isStream=false`, { method: "POST", body: JSON.stringify({ output: 1 }) });
    expect((await send()).status).toBe(500);
    dev.faults.jobDoneDrop = 1;
    await expect(send()).rejects.toThrow(); // the connection is cut before any answer
    expect(dev.job(id)!.status).toBe("IN_PROGRESS");
    expect((await send()).status).toBe(200);
    expect(dev.job(id)!.deliveries).toBe(1);
  });

  it("heartbeat gaps: reports pings further apart than k x interval", async () => {
    // The records' clock is injected: the gaps are exact, whatever the machine's load.
    let now = 1_000_000;
    const timed = await startRunpodDevServer({ pingIntervalMs: 1000, now: () => now });
    try {
      const ping = (query: string) => fetch(`${timed.url}/v2/${timed.endpointId}/ping/w9?${query}`, { headers: { authorization: timed.apiKey } });
      await ping("runpod_version=1.12.0");
      now += 300;
      await ping("runpod_version=1.12.0&job_id=a,b");
      now += 1400;
      await ping("runpod_version=1.12.0");
      expect(timed.heartbeatGaps("w9", 1.2)).toEqual([{ afterMs: 300, gapMs: 1400 }]);
      expect(timed.store.workers.get("w9")!.pings[1]!.jobIds).toEqual(["a", "b"]);
      now += 1300;
      expect(timed.heartbeatGaps("w9", 1.2, true)).toEqual([
        { afterMs: 300, gapMs: 1400 },
        { afterMs: 1700, gapMs: 1300 },
      ]); // the silence since the last ping counts too
      now += 100;
      expect(timed.heartbeatGaps("w9", 1.5, true)).toEqual([]);
    } finally {
      await timed.close();
    }
  });
});
