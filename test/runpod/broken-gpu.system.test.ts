// RunPod's refresh_worker for a broken host: the worker process on a simulated GPU host (fake
// nvidia-smi, the ctranslate2 4.6.3 double, a pip cuBLAS), whose CUDA stack breaks after the
// preflight passed. The job still completes on CPU; its result asks for a fresh worker (stopPod).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { delimiter, join } from "node:path";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { basePython, CUBLAS12, LibStore, makeHost, makeRoot, type Host } from "../preflight/host.ts";
import { until, workerRequests } from "./helpers.ts";

let root: string;
let host: Host;
let audioServer: Server;
let audioUrl = "";
let dev: RunpodDevServer;

beforeAll(async () => {
  root = makeRoot();
  host = makeHost(root, new LibStore(root), basePython(), {
    nvidiaSmi: "h100-580",
    ct2Version: "4.6.3",
    cudaDevices: 1,
    pipLibs: { "nvidia/cublas/lib": CUBLAS12 },
  });
  const wav = readFileSync("sidecar/smoke/speech.wav");
  audioServer = createServer((_req, res) => res.writeHead(200).end(wav));
  await new Promise<void>((r) => audioServer.listen(0, "127.0.0.1", r));
  audioUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/voice.wav`;
  dev = await startRunpodDevServer({ pingIntervalMs: 1000, takeWaitMs: 1000, stopWaitMs: 1000 });
});
afterAll(async () => {
  await dev.close();
  await new Promise((r) => audioServer.close(r));
  rmSync(root, { recursive: true, force: true });
});

/** The worker in RunPod mode on the GPU host; CUDA breaks once `faultFile` holds a fault. */
function startGpuWorker(podId: string, faultFile: string, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(host.env)) if (v !== undefined) env[k] = v;
  return startWorkerProcess({
    ...env,
    ...dev.workerEnv(podId),
    PATH: `${join(host.dir, "bin")}${delimiter}${process.env.PATH ?? ""}`,
    HOME: host.dir,
    SIDECAR_PYTHON: host.python,
    DEVICE: "auto",
    WHISPER_MODEL: "tiny",
    MODEL_DIR: host.modelDir,
    PROBE_CACHE_DIR: join(host.dir, `cache-${podId}`),
    FAKE_FW_DLOPEN: "libcublas.so.12",
    FAKE_FW_FAULT_FILE: faultFile,
    ALLOW_PRIVATE_URLS: "true",
    RUNPOD_SPOOL_DIR: join(host.dir, `spool-${podId}`),
    ...extra,
  });
}

describe("stopPod when the GPU stack breaks at run time", () => {
  it("the job falls back to CPU and completes; its result carries stopPod; the worker takes nothing more and exits 0", async () => {
    const faultFile = join(host.dir, "fault-on");
    const worker = startGpuWorker("pod-gpu-1", faultFile);
    try {
      const ready = JSON.parse(await worker.waitFor(/speech engine ready/, 60_000)) as { device: string };
      expect(ready.device).toBe("cuda"); // the preflight passed: this host looked sound
      writeFileSync(faultFile, "cublas_error"); // ...and now its cuBLAS breaks under the running worker
      const job = dev.enqueue({ audio: audioUrl });
      await until(() => dev.job(job.id)!.status === "COMPLETED", 60_000, "the job");
      const done = dev.job(job.id)!;
      expect(done.stopPod).toBe(true);
      expect(done.output).toMatchObject({ device: "cpu", compute_type: "int8" });
      expect(String((done.output as { fallback_reason: string }).fallback_reason)).toMatch(/libcublas\.so\.12/);
      const final = workerRequests(dev, "job-done").find((r) => r.path.endsWith(`/${job.id}`) && !r.body.includes('"IN_PROGRESS"'))!;
      expect(JSON.parse(final.body)).toMatchObject({ stopPod: true });

      const queued = dev.enqueue({ audio: audioUrl });
      const { exitCode } = await worker.child; // it ends by itself: the platform replaces it
      expect(exitCode).toBe(0);
      expect(dev.job(queued.id)!.status).toBe("IN_QUEUE"); // left for a sound worker
      expect(worker.lines.some((l) => l.includes("asked RunPod for a fresh worker"))).toBe(true);
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 120_000);

  it("RUNPOD_REFRESH_ON_BROKEN_GPU=false: no stopPod, the worker goes on taking jobs on CPU", async () => {
    const faultFile = join(host.dir, "fault-off");
    const worker = startGpuWorker("pod-gpu-2", faultFile, { RUNPOD_REFRESH_ON_BROKEN_GPU: "false" });
    try {
      await worker.waitFor(/speech engine ready/, 60_000);
      writeFileSync(faultFile, "cublas_error");
      const first = dev.enqueue({ audio: audioUrl });
      await until(() => dev.job(first.id)!.status === "COMPLETED", 60_000, "the first job");
      const second = dev.enqueue({ audio: audioUrl });
      await until(() => dev.job(second.id)!.status === "COMPLETED", 60_000, "the second job");
      for (const j of [first, second]) {
        expect(dev.job(j.id)!.stopPod).toBeUndefined();
        expect(dev.job(j.id)!.output).toMatchObject({ device: "cpu" });
      }
      expect(await worker.stop()).toBe(0);
    } finally {
      worker.child.kill("SIGKILL");
    }
  }, 120_000);
});
