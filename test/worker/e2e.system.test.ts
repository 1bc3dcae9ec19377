// End to end with real parts: the worker process (real sidecar on the faster_whisper test
// double, real ffmpeg), the fake Gemini server, real Redis through the REST server, and for
// RunPod the real runpod-sdk client against the dev server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import runpodSdk from "runpod-sdk";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { reply, startFakeGemini, SAMPLE_ANALYSIS, type FakeGemini } from "../../harness/gemini-server.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { waitUntil } from "../helpers/wait.ts";

const SPEECH = "sidecar/smoke/speech.wav";
const GEMINI_KEY = "AIzaE2E-test-key-0123456789abcdefghijkl";
let stack: LocalStack;
let gemini: FakeGemini;
let audioServer: Server;
let audioUrl = "";

beforeAll(async () => {
  stack = await startLocalStack();
  gemini = await startFakeGemini({ apiKey: GEMINI_KEY });
  const wav = readFileSync(SPEECH);
  audioServer = createServer((_req, res) => res.writeHead(200, { "content-type": "audio/wav" }).end(wav));
  await new Promise<void>((r) => audioServer.listen(0, "127.0.0.1", r));
  audioUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/voice.wav`;
});
afterAll(async () => {
  await stack.stop();
  await gemini.close();
  await new Promise((r) => audioServer.close(r));
});

const common = () => ({
  GEMINI_API_KEY: GEMINI_KEY,
  GEMINI_BASE_URL: gemini.baseUrl,
  ALLOW_PRIVATE_URLS: "true",
  FAKE_FW_TEXT: "Please call me back about the invoice tomorrow.",
});

const queueCli = (args: string[], env: Record<string, string>) => execa("node", ["--import", "tsx", "scripts/queue.ts", ...args], { env, reject: false });

function expectFullOutput(out: Record<string, unknown>) {
  for (const k of [
    "segments",
    "detected_language",
    "transcription",
    "translation",
    "device",
    "model",
    "analysis",
    "timings",
    "compute_type",
    "fallback_reason",
    "audio_duration_s",
  ]) {
    expect(out, k).toHaveProperty(k);
  }
  expect(out.transcription).toBe("Please call me back about the invoice tomorrow.");
  expect(out.device).toBe("cpu");
  expect(out.compute_type).toBe("int8");
  expect(out.analysis).toEqual(SAMPLE_ANALYSIS);
  expect(out.audio_duration_s).toBeCloseTo(3.44, 1);
  const t = out.timings as Record<string, number>;
  for (const k of ["download_ms", "decode_ms", "transcribe_ms", "analyze_ms", "total_ms"]) expect(t[k], k).toBeGreaterThanOrEqual(0);
  expect(t.total_ms).toBeGreaterThanOrEqual(t.decode_ms! + t.transcribe_ms!);
}

describe("worker end to end", () => {
  it("queue path: queue push (file and URL) -> worker -> queue show, then SIGTERM exits 0", async () => {
    const env = { ...stack.env, QUEUE_PREFIX: `e2e-${process.pid}`, ...common() };
    const worker = startWorkerProcess(env);
    try {
      await worker.waitFor(/consuming the queue/);
      expect((await queueCli(["push", SPEECH, "--id", "q-file", "--options", '{"word_timestamps": true}'], env)).exitCode).toBe(0);
      expect((await queueCli(["push", audioUrl, "--id", "q-url"], env)).exitCode).toBe(0);
      let shown: { status: { state: string }; result: Record<string, unknown> } | undefined;
      await waitUntil(
        async () => {
          shown = JSON.parse((await queueCli(["show", "q-url", "--json"], env)).stdout) as typeof shown;
          return shown?.status.state === "done";
        },
        "q-url is done",
        60_000,
        200,
      );
      expectFullOutput(shown!.result);
      const file = JSON.parse((await queueCli(["show", "q-file", "--json"], env)).stdout) as { result: Record<string, unknown> };
      expectFullOutput(file.result);
      expect(Array.isArray(file.result.word_timestamps)).toBe(true);
      // What went to Gemini: the transcript.
      expect(JSON.stringify(gemini.requests.at(-1)?.body.contents)).toContain("invoice tomorrow");
    } finally {
      expect(await worker.stop()).toBe(0);
    }
    expect(worker.lines.join("\n")).not.toContain(GEMINI_KEY);
  });

  it("SIGTERM while Gemini analyses hands the job back (not stored without its analysis), exit 0", async () => {
    const env = { ...stack.env, QUEUE_PREFIX: `e2e-term-${process.pid}`, ...common(), SHUTDOWN_GRACE_MS: "300" };
    const worker = startWorkerProcess(env);
    await worker.waitFor(/consuming the queue/);
    const before = gemini.requests.length;
    gemini.script(reply.slow(20_000));
    expect((await queueCli(["push", SPEECH, "--id", "term-1"], env)).exitCode).toBe(0);
    await waitUntil(() => gemini.requests.length > before, "the analysis is under way", 60_000);
    expect(await worker.stop()).toBe(0);
    const shown = JSON.parse((await queueCli(["show", "term-1", "--json"], env)).stdout) as { status: { state: string; attempts: number }; result: unknown };
    expect(shown.status).toMatchObject({ state: "queued", attempts: 0 });
    expect(shown.result).toBeNull();
  });

  it("SIGTERM during start-up (before any work is taken) exits 0 at once", async () => {
    const worker = startWorkerProcess({ ...stack.env, QUEUE_PREFIX: `e2e-early-${process.pid}`, FAKE_FW_LOAD_MS: "0" });
    await worker.waitFor(/consuming that Upstash queue/);
    const t0 = Date.now();
    expect(await worker.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("local default: npm start with no settings starts its own stack; the queue CLI finds it", async () => {
    const cache = mkdtempSync(join(tmpdir(), "vw-local-"));
    const env = { XDG_CACHE_HOME: cache, LOCAL_REST_PORT: "0", ...common() };
    const worker = startWorkerProcess(env);
    try {
      await worker.waitFor(/consuming the queue/);
      expect(worker.lines.join("\n")).toMatch(/starting the local stack/);
      expect((await queueCli(["push", SPEECH, "--id", "local-1"], env)).exitCode).toBe(0);
      await waitUntil(
        async () => (JSON.parse((await queueCli(["show", "local-1", "--json"], env)).stdout) as { status: { state: string } }).status.state === "done",
        "local-1 is done",
        60_000,
        200,
      );
    } finally {
      expect(await worker.stop("SIGINT")).toBe(0); // a clean stop, whatever the signal
    }
    // The stack went away with the worker: the CLI no longer finds a queue.
    const after = await queueCli(["stats"], { XDG_CACHE_HOME: cache, PATH: process.env.PATH ?? "" });
    expect(after.stderr).toMatch(/queue_not_configured/);
  });
});

describe("RunPod path", () => {
  let dev: RunpodDevServer;
  beforeAll(async () => {
    dev = await startRunpodDevServer({ pingIntervalMs: 1000 });
  });
  afterAll(async () => {
    await dev.close();
  });

  it("runpod-sdk runSync -> dev server -> worker: every output field; a malformed job gets an error and the worker goes on; the heartbeat keeps its interval during a long transcription", async () => {
    const env = {
      ...dev.workerEnv("pod-e2e"),
      ...stack.env,
      QUEUE_PREFIX: `e2e-rp-${process.pid}`,
      ...common(),
      FAKE_FW_MS_PER_AUDIO_S: "1000", // ~3.4 s of "engine" time for the 3.4 s clip
    };
    const worker = startWorkerProcess(env);
    const endpoint = runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
    try {
      await worker.waitFor(/speech engine ready/);
      const bad = (await endpoint.runSync({ input: { audio: audioUrl, not_an_option: 1 } }, 60_000)) as { status: string; error?: string };
      expect(bad.status).toBe("FAILED");
      expect(JSON.parse(bad.error!)).toMatchObject({ error_type: "invalid_input" });
      expect(bad.error).toContain("not_an_option");

      const pingsBefore = dev.pingTimes("pod-e2e").length;
      const ok = (await endpoint.runSync({ input: { audio: audioUrl, job_id: "linked-1" } }, 90_000)) as { status: string; output: Record<string, unknown> };
      expect(ok.status).toBe("COMPLETED");
      expectFullOutput(ok.output);
      expect((ok.output.timings as { transcribe_ms: number }).transcribe_ms).toBeGreaterThan(2500);
      expect(dev.pingTimes("pod-e2e").length - pingsBefore).toBeGreaterThanOrEqual(2);
      expect(dev.heartbeatGaps("pod-e2e", 1.2)).toEqual([]);

      // job_id links the RunPod job to the Redis job store: the queue CLI shows its result.
      const shown = await queueCli(["show", "linked-1", "--json"], env);
      expect(shown.exitCode).toBe(0);
      const stored = JSON.parse(shown.stdout) as { status: null; result: Record<string, unknown> };
      expect(stored.status).toBeNull(); // no queue record...
      expect(stored.result.transcription).toBe(ok.output.transcription); // ...but the result is there
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });

  it("a drain job empties the Upstash queue through the same pipeline", async () => {
    const prefix = `e2e-drain-${process.pid}`;
    const env = { ...dev.workerEnv("pod-drain"), ...stack.env, QUEUE_PREFIX: prefix, ...common() };
    for (const id of ["d1", "d2", "d3"]) expect((await queueCli(["push", SPEECH, "--id", id], env)).exitCode).toBe(0);
    const worker = startWorkerProcess(env);
    const endpoint = runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
    try {
      await worker.waitFor(/speech engine ready/);
      const r = (await endpoint.runSync({ input: { queue: { drain: true, max_jobs: 10 } } }, 90_000)) as {
        status: string;
        output: { drained: Record<string, number> };
      };
      expect(r.status).toBe("COMPLETED");
      expect(r.output.drained.done).toBe(3);
      const stats = JSON.parse((await queueCli(["stats", "--json"], env)).stdout) as { queued: number; done_total: number };
      expect(stats).toMatchObject({ queued: 0, done_total: 3 });
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
