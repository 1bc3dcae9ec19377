// `npm start -- --serve-api`: RunPod's test HTTP API (/runsync, /run, /status, /stream, /cancel) on a real port.
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../handler/log/logger.ts";
import { serveApi, type TestModeApi } from "../../handler/runpod/test-modes/index.ts";
import { parseErrorReport } from "../../handler/runpod/result.ts";
import { captureLines } from "../helpers/log-capture.ts";
import { childSleep, runners } from "./helpers.ts";

const quietLog = () => createLogger({ level: "debug", destination: captureLines() });

describe("--serve-api: the RunPod-style test API", () => {
  let api: TestModeApi | null = null;
  afterEach(async () => {
    await api?.close();
    api = null;
  });
  const call = async (path: string, body?: unknown, method = body === undefined ? "GET" : "POST") => {
    const res = await fetch(`${api!.url}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("POST /runsync returns {id, status, output} or the FAILED error", async () => {
    api = await serveApi(
      runners.fn(async (job) => {
        if ((job.input as { fail?: boolean }).fail) throw new Error("boom");
        return { echo: job.input };
      }),
      { port: 0, log: quietLog() },
    );
    const ok = await call("/runsync", { input: { a: 1 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: ok.body.id, status: "COMPLETED", output: { echo: { a: 1 } } });
    const bad = await call("/runsync", { input: { fail: true } });
    expect(bad.body.status).toBe("FAILED");
    expect(parseErrorReport(bad.body.error)).toMatchObject({ error_type: "internal_error", error_message: "boom" });
    expect((await call("/runsync", { nothing: 1 })).status).toBe(400);
  });

  it("POST /run queues, /status and /stream follow the job (GET and POST), /cancel stops it", async () => {
    api = await serveApi(
      runners.fn(async (job, ctx) => {
        ctx.stream({ seg: 1 });
        ctx.stream({ seg: 2 });
        await childSleep((job.input as { s: number }).s, ctx.signal);
        return { done: true };
      }),
      { port: 0, log: quietLog() },
    );
    const queued = await call("/run", { input: { s: 0.4 } });
    expect(queued.body).toEqual({ id: queued.body.id, status: "IN_QUEUE" });
    const id = String(queued.body.id);
    let st = await call(`/status/${id}`);
    const deadline = Date.now() + 20_000;
    while (st.body.status !== "COMPLETED" && Date.now() < deadline) {
      const s = await call(`/stream/${id}`, {}, "POST");
      expect(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]).toContain(s.body.status);
      await new Promise((r) => setTimeout(r, 50));
      st = await call(`/status/${id}`, {}, "POST");
    }
    // A streamed job ends as on the platform: the full result is the last chunk, the output every chunk.
    expect(st.body).toEqual({ id, status: "COMPLETED", output: [{ seg: 1 }, { seg: 2 }, { done: true }] });
    expect((await call(`/stream/${id}`)).body).toEqual({
      id,
      status: "COMPLETED",
      stream: [{ output: { seg: 1 } }, { output: { seg: 2 } }, { output: { done: true } }],
    });

    const long = await call("/run", { input: { s: 30 } });
    const longId = String(long.body.id);
    const inProgressBy = Date.now() + 20_000;
    while ((await call(`/status/${longId}`)).body.status !== "IN_PROGRESS" && Date.now() < inProgressBy) await new Promise((r) => setTimeout(r, 20));
    expect((await call(`/cancel/${longId}`, {})).body).toEqual({ id: longId, status: "CANCELLED" });
    expect((await call(`/status/${longId}`)).body.status).toBe("CANCELLED");
    expect((await call("/status/unknown")).status).toBe(404);
  });

  it("keeps finished jobs in bounded memory", async () => {
    api = await serveApi(runners.echo(), { port: 0, log: quietLog(), maxFinished: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(String((await call("/runsync", { input: { i } })).body.id));
    expect((await call(`/status/${ids[0]!}`)).status).toBe(404);
    expect((await call(`/status/${ids[1]!}`)).status).toBe(404);
    expect((await call(`/status/${ids[3]!}`)).body).toMatchObject({ status: "COMPLETED", output: { echo: { i: 3 } } });
  });
});
