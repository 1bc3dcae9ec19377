// The worker on a simulated GPU host: fake nvidia-smi, the ctranslate2 4.6.3 double, and a
// venv whose pip NVIDIA folder holds a real libcublas.so.12 (built with gcc). The faster_whisper
// double really dlopens cuBLAS at its first CUDA pass, as CTranslate2 does, so the job only runs
// on CUDA if the sidecar was spawned with the LD_LIBRARY_PATH the preflight proved.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { delimiter, join } from "node:path";
import { basePython, CUBLAS12, LibStore, makeHost, makeRoot, readCalls, type Host } from "../preflight/host.ts";

let root: string;
let host: Host;
let audioServer: Server;
let audioUrl = "";
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
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await new Promise((r) => audioServer.close(r));
});

function runOneJob(extra: Record<string, string>) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(host.env)) if (v !== undefined) env[k] = v;
  return execa(process.execPath, ["--import", "tsx", "handler/main.ts", "--test_input", JSON.stringify({ input: { audio: audioUrl } })], {
    env: {
      ...env,
      PATH: `${join(host.dir, "bin")}${delimiter}${process.env.PATH ?? ""}`,
      HOME: host.dir,
      SIDECAR_PYTHON: host.python,
      DEVICE: "auto",
      WHISPER_MODEL: "tiny",
      MODEL_DIR: host.modelDir,
      PROBE_CACHE_DIR: host.cacheDir,
      LOG_FORMAT: "json",
      FAKE_FW_DLOPEN: "libcublas.so.12",
      ALLOW_PRIVATE_URLS: "true",
      ...extra,
    },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
}

describe("worker on a simulated GPU host", () => {
  it("runs the preflight, then transcribes on CUDA float16 with the pip cuBLAS on the sidecar's library path", async () => {
    const r = await runOneJob({});
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { status: string; output: Record<string, unknown> };
    expect(result.status, r.stderr).toBe("COMPLETED");
    expect(result.output).toMatchObject({ device: "cuda", compute_type: "float16", fallback_reason: null });
    const jobCalls = readCalls(host.callLog).filter((c) => (c.model as { device: string }).device === "cuda");
    expect(jobCalls.length).toBeGreaterThanOrEqual(2); // the preflight's smoke run, then the job, both on CUDA
    expect(r.exitCode).toBe(0);
  });

  it("a CUDA failure at run time still answers the job on CPU, says why, and forgets the cached verdict", async () => {
    // The preflight passed (cached from the test above); now cuBLAS breaks under the running worker.
    const r = await runOneJob({ FAKE_FW_FAULT: "cublas_error" });
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { status: string; output: Record<string, unknown> };
    expect(result.status, r.stderr).toBe("COMPLETED");
    expect(result.output.device).toBe("cpu");
    expect(result.output.compute_type).toBe("int8");
    expect(String(result.output.fallback_reason)).toMatch(/libcublas\.so\.12/);
    const cached = join(host.cacheDir, "probe.json");
    expect(existsSync(cached) ? readFileSync(cached, "utf8") : "").not.toMatch(/"code":\s*"ok"/); // the next start runs the preflight again
  });
});
