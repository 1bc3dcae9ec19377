// Tier 2: the CUDA smoke transcription in a child, against the faster_whisper double's real
// failure modes (abort, cuDNN loader abort, cuBLAS RuntimeError, old driver, refused compute
// type, empty/wrong text, hang, model not found), and the device decision each one leads to.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decideDevice } from "../../handler/preflight/device-policy.ts";
import { runPreflight, type PreflightReport } from "../../handler/preflight/preflight.ts";
import { CUBLAS12, CUDNN9, LibStore, makeHost, readCalls, REPO, type Host, type HostSpec, useHostWorkspace } from "./host.ts";

let root: string;
let store: LibStore;
let python: string;
useHostWorkspace((w) => ({ root, store, python } = w));

/** An H100 with driver 580 and everything ctranslate2 4.6.3 needs: only tier 2 can fail. */
function gpuHost(env: Record<string, string> = {}, spec: Partial<HostSpec> = {}): Host {
  return makeHost(root, store, python, { nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 }, env, ...spec });
}

async function autoDecision(r: PreflightReport) {
  return decideDevice({ device: "auto", cpuThreads: 4, preflight: async () => r });
}

/** Samples in the committed clip, from its RIFF header (16-bit mono: data bytes / 2). */
function clipSamples(): number {
  const wav = readFileSync(join(REPO, "sidecar", "smoke", "speech.wav"));
  let at = 12;
  while (at < wav.length - 8) {
    const id = wav.toString("ascii", at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === "data") return size / 2;
    at += 8 + size + (size % 2);
  }
  throw new Error("no data chunk");
}

describe("smoke transcription verdicts", () => {
  it("ok: the clip reaches the engine as 16 kHz float32 on CUDA in float16, and DEVICE=auto picks CUDA", async () => {
    const samples = clipSamples();
    const h = gpuHost({ FAKE_FW_EXPECT_SAMPLES: String(samples) });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "ok", ok: true, stage: "smoke", computeType: "float16", fix: null });
    expect(r.verdict.message).toContain("8/8 expected words");
    const calls = readCalls(h.callLog);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ device: "cuda", compute_type: "float16" });
    expect(JSON.stringify(calls[0])).toContain(String(samples));

    expect(await autoDecision(r)).toEqual({ device: "cuda", compute_type: "float16", cpu_threads: 4, fallback_reason: null, verdict: r.verdict });
    expect(await decideDevice({ device: "cuda", cpuThreads: 0, cores: 8, preflight: async () => r })).toMatchObject({ device: "cuda", cpu_threads: 8 });
  });

  it("cuda_abort: SIGABRT at the first encoder pass; the preflight survives and auto falls back to CPU int8", async () => {
    const h = gpuHost({ FAKE_FW_FAULT: "cuda_abort" });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "cuda_abort", stage: "smoke", ok: false });
    expect(r.facts.smoke[0]?.signal).toBe("SIGABRT");
    expect(r.verdict.message).toContain("SIGABRT");
    const d = await autoDecision(r);
    expect(d).toMatchObject({ device: "cpu", compute_type: "int8", cpu_threads: 4 });
    expect(d.fallback_reason).toMatch(/^cuda_abort: /);
    await expect(decideDevice({ device: "cuda", cpuThreads: 0, preflight: async () => r })).rejects.toMatchObject({ code: "cuda_unusable" });
  });

  it("cuDNN loader abort (ctranslate2 4.5, cuDNN 9 files present but unusable): cudnn_missing naming the soname", async () => {
    const h = makeHost(root, store, python, {
      nvidiaSmi: "h100-580",
      ct2Version: "4.5.0",
      pipLibs: { "nvidia/cublas/lib": CUBLAS12, "nvidia/cudnn/lib": CUDNN9 },
      env: { FAKE_FW_FAULT: "cudnn_error", FAKE_FW_CUDNN_MAJOR: "9" },
    });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "cudnn_missing", stage: "smoke", soname: "libcudnn_ops.so.9", cudnnMajor: 9 });
    expect(r.verdict.message).toContain("Unable to load any of {libcudnn_ops.so.9");
    expect(r.verdict.fix).toContain("'nvidia-cudnn-cu12==9.*'");
    expect((await autoDecision(r)).device).toBe("cpu");
  });

  it("cuBLAS RuntimeError at encode: cublas_missing", async () => {
    const h = gpuHost({ FAKE_FW_FAULT: "cublas_error" });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "cublas_missing", stage: "smoke", soname: "libcublas.so.12" });
    expect(r.verdict.message).toContain("Library libcublas.so.12 is not found or cannot be loaded");
    expect(r.verdict.fix).toContain("nvidia-cublas-cu12");
  });

  it("'CUDA driver version is insufficient': driver_too_old", async () => {
    const h = gpuHost({ FAKE_FW_FAULT: "driver_too_old" });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "driver_too_old", stage: "smoke" });
    expect(r.verdict.message).toContain("insufficient");
  });

  it("float16 refused: auto retries once with int8_float32; a fixed CUDA_COMPUTE_TYPE gives compute_type_unsupported", async () => {
    const auto = gpuHost({ FAKE_FW_FAULT: "compute_type_unsupported" });
    const r1 = await runPreflight(auto.options());
    expect(r1.verdict).toMatchObject({ code: "ok", computeType: "int8_float32" });
    expect(r1.verdict.message).toContain("float16");
    expect(readCalls(auto.callLog).map((c) => c.compute_type)).toEqual(["int8_float32"]);
    expect(await autoDecision(r1)).toMatchObject({ device: "cuda", compute_type: "int8_float32" });

    const fixed = gpuHost({ FAKE_FW_FAULT: "compute_type_unsupported" });
    const r2 = await runPreflight(fixed.options({ computeType: "float16" }));
    expect(r2.verdict).toMatchObject({ code: "compute_type_unsupported", stage: "smoke" });
    expect(r2.verdict.message).toContain("Requested float16 compute type");
    expect(r2.verdict.fix).toContain("CUDA_COMPUTE_TYPE=auto");
    expect(r2.facts.smoke).toHaveLength(1);
    expect(await autoDecision(r2)).toMatchObject({ device: "cpu", compute_type: "int8" });
  });

  it("a compute capability 6.1 GPU starts with int8_float32 (it has no float16)", async () => {
    const h = gpuHost({}, { cudaCc: "6.1" });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "ok", computeType: "int8_float32" });
  });

  it("empty text, or text without the clip's words: empty_output", async () => {
    const empty = gpuHost({ FAKE_FW_FAULT: "empty" });
    const r1 = await runPreflight(empty.options());
    expect(r1.verdict).toMatchObject({ code: "empty_output", stage: "smoke" });
    expect(r1.verdict.message).toContain("empty text");

    const wrong = gpuHost({ FAKE_FW_TEXT: "Thank you for watching." });
    const r2 = await runPreflight(wrong.options());
    expect(r2.verdict.code).toBe("empty_output");
    expect(r2.verdict.message).toContain("0 of the 8 expected words");
    expect((await autoDecision(r2)).fallback_reason).toMatch(/^empty_output: /);

    // A few misheard words still pass (>= 60% of the words).
    const close = gpuHost({ FAKE_FW_TEXT: "The quick brown fox jumped over a lazy dog" });
    expect((await runPreflight(close.options())).verdict.code).toBe("ok");
  });

  it("a hung transcription is killed: timeout at the smoke stage", async () => {
    const h = gpuHost({ FAKE_FW_FAULT: "hang" });
    const r = await runPreflight(h.options({ smokeTimeoutMs: 3000 }));
    expect(r.verdict).toMatchObject({ code: "timeout", stage: "smoke" });
    expect(r.facts.smoke[0]).toMatchObject({ timedOut: true, signal: "SIGKILL" });
  });

  it("model not found offline: model_missing", async () => {
    const h = gpuHost({ FAKE_FW_FAULT: "load_error" });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "model_missing", stage: "smoke" });
    expect(r.verdict.fix).toContain("npm run setup");

    // MODEL_DOWNLOAD=never: the smoke test does not download either (the model is not in MODEL_DIR).
    const offline = gpuHost();
    const r2 = await runPreflight(offline.options({ localFilesOnly: true }));
    expect(r2.verdict.code).toBe("model_missing");
    expect(r2.verdict.message).toContain("Cannot find an appropriate cached snapshot");
    // Allowed to download (the double "downloads" into MODEL_DIR), the same host passes.
    expect((await runPreflight(offline.options({ fresh: true }))).verdict.code).toBe("ok");
  });
});
