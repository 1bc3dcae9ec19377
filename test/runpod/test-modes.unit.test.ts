import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../handler/log/logger.ts";
import { parseTestModeArgs, runTestInput, serveApi, type TestModeApi } from "../../handler/runpod/test-modes/index.ts";
import { parseErrorReport } from "../../handler/runpod/result.ts";
import { captureLines } from "../helpers/log-capture.ts";
import { childSleep, runners } from "./helpers.ts";

const quietLog = () => createLogger({ level: "debug", destination: captureLines() });

describe("--test_input", () => {
  it("runs the JSON given, prints {id, status: COMPLETED, output}, exit 0", async () => {
    const lines: string[] = [];
    const code = await runTestInput(runners.echo(), '{"input": {"audio": "https://example.com/a.ogg"}}', { log: quietLog(), out: (t) => lines.push(t) });
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
    const printed = JSON.parse(lines[0]!) as { id: string; status: string; output: unknown };
    expect(printed.status).toBe("COMPLETED");
    expect(printed.output).toEqual({ echo: { audio: "https://example.com/a.ogg" } });
    expect(printed.id).toMatch(/^test-[0-9a-f-]{36}$/);
  });

  it("reads ./test_input.json when no JSON is given, keeps its id; a failure prints FAILED with the SDK error, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vw-test-input-"));
    writeFileSync(join(dir, "test_input.json"), JSON.stringify({ id: "my-job", input: { audio: "x" } }));
    const lines: string[] = [];
    const code = await runTestInput(runners.failing("download_failed", true), undefined, { log: quietLog(), out: (t) => lines.push(t), cwd: dir });
    expect(code).toBe(1);
    const printed = JSON.parse(lines[0]!) as { id: string; status: string; error: unknown };
    expect(printed).toMatchObject({ id: "my-job", status: "FAILED" });
    expect(parseErrorReport(printed.error)).toMatchObject({ error_type: "download_failed", retryable: true, worker_id: "test-mode" });
  });

  it("exit 1 without printing a result for a missing file, bad JSON or a job without input", async () => {
    const out: string[] = [];
    const cwd = mkdtempSync(join(tmpdir(), "vw-test-input-"));
    const o = { log: quietLog(), out: (t: string) => out.push(t), cwd };
    expect(await runTestInput(runners.echo(), undefined, o)).toBe(1);
    expect(await runTestInput(runners.echo(), "{not json", o)).toBe(1);
    expect(await runTestInput(runners.echo(), '{"audio": "x"}', o)).toBe(1);
    expect(out).toEqual([]);
  });

  it("parses the RunPod SDK's test-mode flags and ours", () => {
    expect(parseTestModeArgs(["--test_input", '{"input":{}}'])).toEqual({ kind: "test_input", json: '{"input":{}}' });
    expect(parseTestModeArgs(["--test_input={\"input\":1}"])).toEqual({ kind: "test_input", json: '{"input":1}' });
    expect(parseTestModeArgs(["--test_input"])).toEqual({ kind: "test_input", json: undefined });
    expect(parseTestModeArgs(["--rp_serve_api", "--rp_api_port", "8010", "--rp_api_host", "0.0.0.0"])).toEqual({ kind: "serve_api", port: 8010, host: "0.0.0.0" });
    expect(parseTestModeArgs(["--serve-api"])).toEqual({ kind: "serve_api", port: 8000, host: "127.0.0.1" });
    expect(parseTestModeArgs(["--verbose"])).toBeNull();
    expect(() => parseTestModeArgs(["--serve-api", "--port", "http"])).toThrow(/--port/);
  });
});

describe("--serve-api: the RunPod-style test API", () => {
  let api: TestModeApi | null = null;
  afterEach(async () => {
    await api?.close();
    api = null;
  });
  const call = async (path: string, body?: unknown, method = body === undefined ? "GET" : "POST") => {
    const res = await fetch(`${api!.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("POST /runsync returns {id, status, output} or the FAILED error", async () => {
    api = await serveApi(runners.fn(async (job) => {
      if ((job.input as { fail?: boolean }).fail) throw new Error("boom");
      return { echo: job.input };
    }), { port: 0, log: quietLog() });
    const ok = await call("/runsync", { input: { a: 1 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: ok.body.id, status: "COMPLETED", output: { echo: { a: 1 } } });
    const bad = await call("/runsync", { input: { fail: true } });
    expect(bad.body.status).toBe("FAILED");
    expect(parseErrorReport(bad.body.error)).toMatchObject({ error_type: "internal_error", error_message: "boom" });
    expect((await call("/runsync", { nothing: 1 })).status).toBe(400);
  });

  it("POST /run queues, /status and /stream follow the job (GET and POST), /cancel stops it", async () => {
    api = await serveApi(runners.fn(async (job, ctx) => {
      ctx.stream({ seg: 1 });
      ctx.stream({ seg: 2 });
      await childSleep((job.input as { s: number }).s, ctx.signal);
      return { done: true };
    }), { port: 0, log: quietLog() });
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
    expect((await call(`/stream/${id}`)).body).toEqual({ id, status: "COMPLETED", stream: [{ output: { seg: 1 } }, { output: { seg: 2 } }, { output: { done: true } }] });

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
