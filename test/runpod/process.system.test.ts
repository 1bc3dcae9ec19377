// The real worker program (`npm start`) in RunPod mode, on the faster-whisper test double,
// against the fake platform: what only a whole process shows (signals, exit codes, start-up).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { until } from "./helpers.ts";

let audioServer: Server;
let audioUrl = "";
let dev: RunpodDevServer;

beforeAll(async () => {
  const wav = readFileSync("sidecar/smoke/speech.wav");
  audioServer = createServer((_req, res) => res.writeHead(200, { "content-type": "audio/wav" }).end(wav));
  await new Promise<void>((r) => audioServer.listen(0, "127.0.0.1", r));
  audioUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/voice.wav`;
  // 500 ms is below the worker's range: it used to refuse to start (exit 2) and crash-loop.
  dev = await startRunpodDevServer({ pingIntervalMs: 500, takeWaitMs: 1000, stopWaitMs: 1000 });
});
afterAll(async () => {
  await dev.close();
  await new Promise((r) => audioServer.close(r));
});

describe("the worker process in RunPod mode", () => {
  it("a streamed job ends with the full result; SIGTERM mid-job: takes nothing more, the job runs past SHUTDOWN_GRACE_MS, its result is posted, then exit 0", async () => {
    const worker = startWorkerProcess({
      ...dev.workerEnv("pod-term"),
      ALLOW_PRIVATE_URLS: "true",
      FAKE_FW_MS_PER_AUDIO_S: "1000", // ~3.4 s of "engine" time for the 3.4 s clip
      FAKE_FW_TEXT: "Please call me back about the invoice tomorrow.",
      SHUTDOWN_GRACE_MS: "200",
      RUNPOD_SPOOL_DIR: mkdtempSync(join(tmpdir(), "vw-spool-proc-")),
    });
    try {
      const clamped = JSON.parse(await worker.waitFor(/RUNPOD_PING_INTERVAL/, 60_000)) as { level: number; asked: number; usingMs: number };
      expect(clamped).toMatchObject({ level: 40, asked: 500, usingMs: 1000 });

      // A streamed job from the real pipeline: segments as chunks, the full result last.
      const streamed = dev.enqueue({ audio: audioUrl, stream: true });
      await until(() => dev.job(streamed.id)!.status === "COMPLETED", 30_000, "the streamed job");
      const list = dev.job(streamed.id)!.output as Array<Record<string, unknown>>;
      expect(list.length).toBeGreaterThanOrEqual(2);
      for (const chunk of list.slice(0, -1)) expect(Object.keys(chunk)).toEqual(["segment"]);
      expect(list.at(-1)).toMatchObject({ transcription: "Please call me back about the invoice tomorrow.", device: "cpu" });
      expect(dev.job(streamed.id)!.stream).toEqual(list); // what /stream readers got
      const job = dev.enqueue({ audio: audioUrl });
      await until(() => (dev.job(job.id)!.progress as { stage?: string } | undefined)?.stage === "transcribe", 30_000, "the transcription to start");
      const queued = dev.enqueue({ audio: audioUrl });
      const signalledAt = Date.now();
      worker.child.kill("SIGTERM");
      const { exitCode } = await worker.child;
      expect(exitCode).toBe(0);
      const done = dev.job(job.id)!;
      expect(done.completedAt! - signalledAt).toBeGreaterThan(200); // finished after SHUTDOWN_GRACE_MS ran out: not cut short
      expect(done.status).toBe("COMPLETED");
      expect(done.deliveries).toBe(1);
      expect((done.output as { transcription: string }).transcription).toBe("Please call me back about the invoice tomorrow.");
      expect(dev.job(queued.id)!.status).toBe("IN_QUEUE");
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 90_000);
});
