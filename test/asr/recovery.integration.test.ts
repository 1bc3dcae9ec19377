// Runtime recovery with the real sidecar process: CUDA failures mid-job move the engine to CPU
// and retry the job once; a killed sidecar is restarted and the job gets a retryable error; a
// hang is killed at its deadline. The test process itself must never see a stray error.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeHarness, rejection, tone, type Harness } from "./helpers.ts";

const stray: unknown[] = [];
const onStray = (e: unknown) => void stray.push(e);
beforeAll(() => {
  process.on("unhandledRejection", onStray);
  process.on("uncaughtException", onStray);
});
afterAll(() => {
  process.off("unhandledRejection", onStray);
  process.off("uncaughtException", onStray);
  expect(stray).toEqual([]); // nothing escaped to the process: it would have died in production
});

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

const cudaFailures: string[] = [];
function cuda(fault: string, env: Record<string, string> = {}): Harness {
  const h = makeHarness({
    env: { FAKE_FW_FAULT: fault, ...env },
    engine: { device: "cuda", computeType: "float16", onCudaFailure: (r) => void cudaFailures.push(r) },
  });
  harnesses.push(h);
  return h;
}

describe("CUDA failure during a job -> CPU int8, job retried once", () => {
  it("survives a SIGABRT on the first CUDA encode (language detection inside transcribe())", async () => {
    const h = cuda("cuda_abort");
    const started = await h.engine.start();
    expect(started).toMatchObject({ device: "cuda", compute_type: "float16", fallback_reason: null });

    const r = await h.engine.transcribe({ requestId: "a1", pcm: tone(6), durationS: 6, options: {} });
    expect(r).toMatchObject({ device: "cpu", compute_type: "int8", attempts: 2 });
    expect(r.fallback_reason).toMatch(/^cuda_abort: .*SIGABRT.*CUDA/);
    expect(r.plain_text).toContain("Segment 1 of 2");
    const calls = h.calls();
    expect(calls.map((c) => c.device)).toEqual(["cuda", "cpu"]);
    expect(calls[0]!.pid).not.toBe(calls[1]!.pid);
    expect(calls[1]!.model).toMatchObject({ device: "cpu", compute_type: "int8", cpu_threads: 2 });
    expect(h.engine.info).toMatchObject({ device: "cpu", compute_type: "int8", fallback_reason: r.fallback_reason });
    expect(cudaFailures).toContain(r.fallback_reason); // the runtime forgets the preflight's cached verdict on this

    // CUDA stays condemned for this process: the next job goes straight to CPU.
    const next = await h.engine.transcribe({ requestId: "a2", pcm: tone(2), durationS: 2, options: { language: "en" } });
    expect(next).toMatchObject({ device: "cpu", attempts: 1, fallback_reason: r.fallback_reason });
    expect(h.calls().filter((c) => c.device === "cuda")).toHaveLength(1);
  });

  it("names the missing cuDNN library when the abort comes at the first segment", async () => {
    const h = cuda("cudnn_error");
    const r = await h.engine.transcribe({ requestId: "c1", pcm: tone(3), durationS: 3, options: { language: "en" } });
    expect(r.device).toBe("cpu");
    expect(r.fallback_reason).toContain("libcudnn_ops.so.9");
  });

  it("falls back on a catchable cuBLAS error (the sidecar reports cuda_error)", async () => {
    const h = cuda("cublas_error");
    const r = await h.engine.transcribe({ requestId: "b1", pcm: tone(3), durationS: 3, options: {} });
    expect(r).toMatchObject({ device: "cpu", compute_type: "int8", attempts: 2 });
    expect(r.fallback_reason).toBe("cuda_error: RuntimeError: Library libcublas.so.12 is not found or cannot be loaded");
  });

  it("falls back when the GPU rejects the compute type at model load", async () => {
    const h = cuda("compute_type_unsupported");
    const r = await h.engine.transcribe({ requestId: "t1", pcm: tone(3), durationS: 3, options: {} });
    expect(r.device).toBe("cpu");
    expect(r.fallback_reason).toMatch(/^compute_type_unsupported: .*Requested float16 compute type/);
    expect(h.calls().map((c) => c.device)).toEqual(["cpu"]);
  });

  it("keeps the preflight's fallback reason when the engine starts on CPU", async () => {
    const h = makeHarness({ engine: { fallbackReason: "cudnn_missing: libcudnn_ops.so.9 (cuDNN 9) not found" } });
    harnesses.push(h);
    const r = await h.engine.transcribe({ requestId: "p1", pcm: tone(2), durationS: 2, options: {} });
    expect(r).toMatchObject({ device: "cpu", fallback_reason: "cudnn_missing: libcudnn_ops.so.9 (cuDNN 9) not found" });
  });
});

describe("a dead or stuck sidecar", () => {
  // Segments come per 30 s window: a kill at the first progress lands in the second window.
  const slow = { FAKE_FW_SEGMENT_S: "5", FAKE_FW_MS_PER_AUDIO_S: "30" };

  it("SIGKILL mid-job: the job fails with a retryable sidecar_crashed, the sidecar is restarted", async () => {
    const h = makeHarness({ env: slow });
    harnesses.push(h);
    const { pid } = await h.engine.start();
    const err = await rejection(
      h.engine.transcribe({ requestId: "k1", pcm: tone(70), durationS: 70, options: {}, onProgress: () => process.kill(pid!, "SIGKILL") }),
    );
    expect(err).toMatchObject({ code: "sidecar_crashed", retryable: true });
    expect(err.details).toMatchObject({ signal: "SIGKILL" });
    const next = await h.engine.transcribe({ requestId: "k2", pcm: tone(2), durationS: 2, options: {} });
    expect(next.device).toBe("cpu");
    expect(h.engine.info.pid).not.toBe(pid);
    expect(h.calls().at(-1)!.pid).toBe(h.engine.info.pid);
  });

  it("SIGABRT of a CPU sidecar is a crash, not a CUDA fallback", async () => {
    const h = makeHarness({ env: slow });
    harnesses.push(h);
    const { pid } = await h.engine.start();
    const err = await rejection(
      h.engine.transcribe({ requestId: "x1", pcm: tone(70), durationS: 70, options: {}, onProgress: () => process.kill(pid!, "SIGABRT") }),
    );
    expect(err.code).toBe("sidecar_crashed");
    expect(h.engine.info).toMatchObject({ device: "cpu", fallback_reason: null });
  });

  it("a hang is killed at the deadline and reported as a retryable transcribe_timeout", async () => {
    const h = makeHarness({ engine: { timeouts: { startMs: 30_000, loadMs: 30_000, baseMs: 3000, cancelGraceMs: 3000 } } });
    harnesses.push(h);
    h.setFault("hang");
    const { pid } = await h.engine.start();
    const { limitMs } = h.engine.plan(h.engine.validate({}), 3);
    expect(limitMs).toBeLessThan(20_000); // from the cost model: base 3 s + the model's estimate
    const err = await rejection(h.engine.transcribe({ requestId: "h1", pcm: tone(3), durationS: 3, options: {} }));
    expect(err).toMatchObject({ code: "transcribe_timeout", retryable: true });
    expect(err.message).toContain(`${limitMs} ms`);

    h.setFault("");
    const next = await h.engine.transcribe({ requestId: "h2", pcm: tone(3), durationS: 3, options: {} });
    expect(next.segments).toHaveLength(1);
    expect(h.engine.info.pid).not.toBe(pid);
  });

  it("a sidecar that cannot start gives a retryable sidecar_start_failed naming the interpreter", async () => {
    const h = makeHarness({ engine: { python: "/nonexistent/python3" } });
    harnesses.push(h);
    const err = await rejection(h.engine.start());
    expect(err).toMatchObject({ code: "sidecar_start_failed", retryable: true });
    expect(err.message).toContain("/nonexistent/python3");
  });

  it("reports engine_unavailable when faster-whisper cannot be imported", async () => {
    const h = makeHarness({ env: { PYTHONPATH: "/nonexistent" } });
    harnesses.push(h);
    const err = await rejection(h.engine.transcribe({ requestId: "e", pcm: tone(1), durationS: 1, options: {} }));
    expect(err.code).toBe("engine_unavailable");
    expect(err.message).toContain("No module named 'faster_whisper'");
  });
});
