// Steps 1-3 and the version matrix of step 6 on simulated GPU hosts: a fake nvidia-smi
// (fixtures), the ctranslate2 double at a chosen version, real gcc-built sonames in a venv.
import { describe, expect, it } from "vitest";
import { CUBLAS12, CUDNN8, CUDNN9, LibStore, useHostWorkspace } from "../preflight/host.ts";
import { CUDA13_LAYOUT, makeDiagHost, step, type DiagHost, type DiagHostSpec } from "./helpers.ts";

let root: string;
let store: LibStore;
let python: string;
useHostWorkspace((w) => ({ root, store, python } = w));

const host = (spec: DiagHostSpec): DiagHost => makeDiagHost(root, store, python, spec);
const GPU_STEPS = ["gpu", "cuda-libraries", "cudnn"] as const;
const INSTALLED = { "faster-whisper": "1.2.1", ctranslate2: "4.6.3", av: "14.4.0", onnxruntime: "1.22.1" };

describe("step 1: GPU & CUDA", () => {
  it("no nvidia-smi: warn (CPU fallback) with the driver fix; a fail with --require-gpu or DEVICE=cuda", async () => {
    const h = host({ nvidiaSmi: null, ct2Version: "4.6.3", cudaDevices: 0 });
    const r = step(await h.diagnose({ only: ["gpu"] }), "gpu");
    expect(r.status).toBe("warn");
    expect(r.detail).toContain("`nvidia-smi` is not installed");
    expect(r.detail).toContain("runs on the CPU");
    expect(r.fix).toContain("Install the NVIDIA driver");
    expect(r.fix).toContain("DEVICE=cpu");

    const required = step(await h.diagnose({ only: ["gpu"], flags: { requireGpu: true } }), "gpu");
    expect(required.status).toBe("fail");
    expect(required.fix).toContain("Install the NVIDIA driver");
    expect(step(await h.diagnose({ only: ["gpu"], env: { DEVICE: "cuda" } }), "gpu").status).toBe("fail");
    expect(step(await h.diagnose({ only: ["gpu"], env: { DEVICE: "cpu" } }), "gpu").status).toBe("pass");
  });

  it("an H100 with driver 580: GPU, driver, memory and the CUDA device count ctranslate2 sees", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = step(await h.diagnose({ only: ["gpu"] }), "gpu");
    expect(r).toMatchObject({ status: "pass", fix: null });
    expect(r.detail).toContain("NVIDIA H100 80GB HBM3, driver 580.159.04, 81559 MiB");
    expect(r.detail).toContain("ctranslate2 4.6.3 sees 1 CUDA device(s)");
  });

  it("nvidia-smi shows a GPU but ctranslate2 counts none because CUDA_VISIBLE_DEVICES hides it", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", cudaDevices: 0, env: { CUDA_VISIBLE_DEVICES: "" } });
    const r = step(await h.diagnose({ only: ["gpu"] }), "gpu");
    expect(r.status).toBe("warn");
    expect(r.detail).toContain('CUDA_VISIBLE_DEVICES="" hides it');
    expect(r.fix).toContain("Unset CUDA_VISIBLE_DEVICES");
  });

  it("a hung nvidia-smi is killed at the deadline and reported, not waited for", async () => {
    const h = host({ nvidiaSmi: "hang", ct2Version: "4.6.3" });
    const r = step(await h.diagnose({ only: ["gpu"], env: { DIAGNOSE_TIMEOUT_MS: "2000" } }), "gpu");
    expect(r.status).toBe("fail");
    expect(r.detail).toMatch(/did not answer within \d+ ms: the NVIDIA driver is hung/);
    expect(r.fix).toContain("nvidia-smi --gpu-reset");
  });
});

describe("steps 2 and 3: the CUDA libraries the installed ctranslate2 needs", () => {
  it("cuBLAS 12 missing (ctranslate2 4.6.3 on an H100): step 2 fails with the pip package", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3" });
    const s = await h.diagnose({ only: [...GPU_STEPS] });
    const r = step(s, "cuda-libraries");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("ctranslate2 4.6.3 needs CUDA 12's cuBLAS: libcublas.so.12, libcublasLt.so.12 cannot be loaded");
    expect(r.fix).toBe(`${h.python} -m pip install nvidia-cublas-cu12`);
    expect(step(s, "cudnn")).toMatchObject({ status: "pass" });
    expect(step(s, "cudnn").detail).toContain("built without cuDNN; driver 580.159.04 >= 570");
  });

  it("cuBLAS 12 present: step 2 says where it was found", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = step(await h.diagnose({ only: ["cuda-libraries"] }), "cuda-libraries");
    expect(r.status).toBe("pass");
    expect(r.detail).toContain(`libcublas.so.12 (${h.sitePackages}/nvidia/cublas/lib/libcublas.so.12)`);
  });

  it("a CUDA-13-only host (the lent H100's layout): step 2 fails and calls it out", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: CUDA13_LAYOUT });
    const r = step(await h.diagnose({ only: ["cuda-libraries"] }), "cuda-libraries");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("CUDA-13-only host: libcublas.so.13 is there");
    expect(r.detail).toContain("ctranslate2 4.x cannot use CUDA 13");
    expect(r.fix).toContain("-m pip install nvidia-cublas-cu12 (it installs next to the CUDA 13 libraries");
  });

  it("cuDNN 8 missing with ctranslate2 4.4: step 3 fails naming cuDNN 8's sonames and its pip package", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.4.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const s = await h.diagnose({ only: [...GPU_STEPS] });
    expect(step(s, "cuda-libraries").status).toBe("pass");
    const r = step(s, "cudnn");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("ctranslate2 4.4.0 needs cuDNN 8: libcudnn.so.8, libcudnn_ops_infer.so.8, libcudnn_cnn_infer.so.8 cannot be loaded");
    expect(r.fix).toContain(`${h.python} -m pip install 'nvidia-cudnn-cu12==8.*'`);
    // Driver 580 also runs 4.6.3, which needs no cuDNN at all: offered as the alternative.
    expect(r.fix).toContain("'ctranslate2>=4.6.3,<5'");
  });

  it("cuDNN 9 missing with ctranslate2 4.5: step 3 fails with cuDNN 9; present, it passes with paths", async () => {
    const missing = host({ nvidiaSmi: "h100-580", ct2Version: "4.5.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = step(await missing.diagnose({ only: ["cudnn"] }), "cudnn");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("ctranslate2 4.5.0 needs cuDNN 9: libcudnn.so.9, libcudnn_ops.so.9");
    expect(r.detail).toContain("aborts (SIGABRT)");
    expect(r.fix).toContain("'nvidia-cudnn-cu12==9.*'");

    const present = host({ nvidiaSmi: "h100-580", ct2Version: "4.5.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12, "nvidia/cudnn/lib": CUDNN9 } });
    const ok = step(await present.diagnose({ only: ["cudnn"] }), "cudnn");
    expect(ok.status).toBe("pass");
    expect(ok.detail).toContain(`libcudnn_ops.so.9 (${present.sitePackages}/nvidia/cudnn/lib/libcudnn_ops.so.9)`);
  });

  it("cuDNN 8 present for 4.4 passes; the same host without a GPU does not need any of it", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.4.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12, "nvidia/cudnn/lib": CUDNN8 } });
    expect(step(await h.diagnose({ only: ["cudnn"] }), "cudnn").status).toBe("pass");
    const cpu = host({ nvidiaSmi: null, ct2Version: "4.4.0", cudaDevices: 0 });
    const s = await cpu.diagnose({ only: [...GPU_STEPS] });
    expect(step(s, "cuda-libraries")).toMatchObject({ status: "pass", fix: null });
    expect(step(s, "cuda-libraries").detail).toContain("not needed without a GPU");
    expect(step(s, "cudnn").detail).toContain("not needed without a GPU");
  });

  it("driver 550 too old for ctranslate2 4.6.3: step 3 and step 6 fail with the driver fix", async () => {
    const h = host({ nvidiaSmi: "h100-550", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 }, dists: INSTALLED });
    const s = await h.diagnose({ only: ["gpu", "cudnn", "python-packages"] });
    expect(step(s, "gpu").status).toBe("pass");
    const cudnn = step(s, "cudnn");
    expect(cudnn.status).toBe("fail");
    expect(cudnn.detail).toContain("needs driver >= 570 (built with CUDA 12.8) and this host has 550.90.07");
    expect(cudnn.fix).toContain("upgrade the NVIDIA driver to >= 570");
    // The other way out: a ctranslate2 for older drivers, which then needs cuDNN 9.
    expect(cudnn.fix).toContain("'ctranslate2>=4.5,<4.6.3' nvidia-cublas-cu12 'nvidia-cudnn-cu12==9.*'");
    const pk = step(s, "python-packages");
    expect(pk.status).toBe("fail");
    expect(pk.detail).toContain("ctranslate2 4.6.3 needs NVIDIA driver >= 570 (built with CUDA 12.8); this host has 550.90.07");
    expect(pk.fix).toContain("upgrade the NVIDIA driver to >= 570");
  });

  it("a complete GPU host passes steps 1, 2, 3 and 6", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 }, dists: INSTALLED });
    const s = await h.diagnose({ only: [...GPU_STEPS, "python-packages"] });
    for (const r of s) expect(r, `${r.id}: ${r.detail}`).toMatchObject({ status: "pass", fix: null });
    expect(step(s, "python-packages").detail).toContain("faster-whisper 1.2.1; ctranslate2 4.6.3 (driver 580.159.04 >= 570)");
  });
});

describe("--deep: the preflight's CUDA smoke transcription in step 1", () => {
  const deepEnv = (h: DiagHost) => ({ WHISPER_MODEL: "tiny", MODEL_DIR: h.modelDir, PROBE_CACHE_DIR: h.cacheDir });

  it("a working GPU: step 1 passes with the smoke test's words", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = step(await h.diagnose({ only: ["gpu"], flags: { deep: true }, env: deepEnv(h) }), "gpu");
    expect(r.status).toBe("pass");
    expect(r.detail).toMatch(/CUDA works: tiny \(float16\) transcribed the smoke clip in \d+ ms with 8\/8 expected words/);
  });

  it("a GPU whose first CUDA pass aborts: step 1 fails with the preflight's verdict and fix", async () => {
    const h = host({ nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 }, env: { FAKE_FW_FAULT: "cuda_abort" } });
    const r = step(await h.diagnose({ only: ["gpu"], flags: { deep: true }, env: deepEnv(h) }), "gpu");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("CUDA smoke test: cuda_abort: The smoke transcription aborted (SIGABRT)");
    expect(r.fix).toContain("DEVICE=cpu");
  });
});
