// Tiers 0 and 1 against simulated hosts: fake nvidia-smi (fixtures), the ctranslate2 double per
// version range, and real shared objects (gcc -shared, real sonames) in a real venv.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WorkerError } from "../../handler/errors.ts";
import { decideDevice } from "../../handler/preflight/device-policy.ts";
import { runPreflight } from "../../handler/preflight/preflight.ts";
import { CUBLAS11, CUBLAS12, CUDNN8, CUDNN9, FIXTURES, LibStore, makeHost, readCalls, type Host, type HostSpec, useHostWorkspace } from "./host.ts";

let root: string;
let store: LibStore;
let python: string;
useHostWorkspace((w) => ({ root, store, python } = w));

function host(spec: HostSpec): Host {
  return makeHost(root, store, python, spec);
}

const H100 = "h100-580";

describe("tier 0: GPU and ctranslate2", () => {
  it("no nvidia-smi and no CUDA device: no_gpu; auto falls back to CPU int8, cuda refuses to start", async () => {
    const h = host({ nvidiaSmi: null, ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "no_gpu", ok: false, stage: "nvidia-smi" });
    expect(r.verdict.message).toContain("not installed");
    expect(r.verdict.fix).toMatch(/--gpus all.*DEVICE=cpu/);

    const auto = await decideDevice({ device: "auto", cpuThreads: 0, cores: 6, preflight: async () => r });
    expect(auto).toMatchObject({ device: "cpu", compute_type: "int8", cpu_threads: 6 });
    expect(auto.fallback_reason).toMatch(/^no_gpu: No NVIDIA GPU/);

    const err = await decideDevice({ device: "cuda", cpuThreads: 3, preflight: async () => r }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: "cuda_unusable", retryable: false });
    expect((err as WorkerError).message).toContain("no_gpu");
    expect((err as WorkerError).message).toContain("Fix: Install the NVIDIA driver");
  });

  it("driver that cannot be reached: no_gpu quoting nvidia-smi's own message", async () => {
    const h = host({ nvidiaSmi: "no-driver", ct2Version: "4.6.3" });
    const r = await runPreflight(h.options());
    expect(r.verdict.code).toBe("no_gpu");
    expect(r.verdict.message).toContain("couldn't communicate with the NVIDIA driver");
    expect(r.facts.nvidiaSmi).toMatchObject({ status: "failed", exitCode: 9 });
  });

  it("nvidia-smi that never answers is killed: timeout at the nvidia-smi stage", async () => {
    const h = host({ nvidiaSmi: "hang", ct2Version: "4.6.3" });
    const r = await runPreflight(h.options({ timeoutMs: 3000 }));
    expect(r.verdict).toMatchObject({ code: "timeout", stage: "nvidia-smi" });
    expect(r.verdict.message).toContain("3000 ms");
    expect(r.verdict.fix).toContain("DEVICE=cpu");
  });

  it("reads driver, GPU, UUID and memory from the H100's CSV answer", async () => {
    const h = host({ nvidiaSmi: H100, ct2Version: "4.6.3" });
    const r = await runPreflight(h.options());
    const scenario = JSON.parse(readFileSync(join(FIXTURES, "scenarios", `${H100}.json`), "utf8")) as { gpus: Array<{ uuid: string }> };
    expect(r.facts.gpu).toEqual({
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      uuid: scenario.gpus[0]?.uuid,
      driverVersion: "580.159.04",
      memoryTotalMiB: 81559,
      memoryUsedMiB: 0,
      utilizationPct: 0,
    });
    expect(r.facts.ctranslate2).toMatchObject({ ctranslate2: "4.6.3", cudaDeviceCount: 1 });
    expect(r.facts.ctranslate2?.cudaComputeTypes).toContain("float16");
  });

  it("no nvidia-smi binary but ctranslate2 counts a device (a container without the utility): carries on", async () => {
    const h = host({ nvidiaSmi: null, ct2Version: "4.6.3", cudaDevices: 1, pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await runPreflight(h.options());
    expect(r.facts.nvidiaSmi).toMatchObject({ status: "missing" });
    expect(r.verdict.code).toBe("ok");
    expect(r.cacheKey).toMatchObject({ driverVersion: null, gpuUuid: null });
  });

  it("ctranslate2 not installed in the sidecar Python: ctranslate2_missing with the setup command", async () => {
    const h = host({ nvidiaSmi: H100, ct2Version: null });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "ctranslate2_missing", stage: "ctranslate2" });
    expect(r.verdict.message).toContain("No module named 'ctranslate2'");
    expect(r.verdict.fix).toContain("npm run setup");
  });

  it("GPU visible to nvidia-smi but not to ctranslate2: no_gpu naming the cause", async () => {
    const hidden = host({ nvidiaSmi: H100, ct2Version: "4.6.3", cudaDevices: 0, env: { CUDA_VISIBLE_DEVICES: "" } });
    const r1 = await runPreflight(hidden.options());
    expect(r1.verdict).toMatchObject({ code: "no_gpu", stage: "ctranslate2" });
    expect(r1.verdict.message).toContain('CUDA_VISIBLE_DEVICES=""');

    const cpuBuild = host({ nvidiaSmi: H100, ct2Version: "4.6.3", env: { FAKE_CT2_WITH_CUDA: "0" } });
    const r2 = await runPreflight(cpuBuild.options());
    expect(r2.verdict.code).toBe("no_gpu");
    expect(r2.verdict.message).toContain("no CUDA support");
  });
});

describe("driver floor per ctranslate2 range", () => {
  it(">= 4.6.3 on a 550 driver: driver_too_old, fix offers a newer driver or ctranslate2 4.5-4.6.2 with cuDNN 9", async () => {
    const h = host({ nvidiaSmi: "h100-550", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "driver_too_old", stage: "nvidia-smi" });
    expect(r.verdict.message).toContain("550.90.07");
    expect(r.verdict.message).toContain(">= 570");
    expect(r.verdict.fix).toContain(">= 570");
    expect(r.verdict.fix).toContain(`${h.python} -m pip install 'ctranslate2>=4.5,<4.6.3'`);
    expect(r.verdict.fix).toContain("nvidia-cudnn-cu12==9.*");
  });

  it("4.5 on the same 550 driver passes the driver check (CUDA 12 needs >= 525.60.13)", async () => {
    const h = host({ nvidiaSmi: "h100-550", ct2Version: "4.5.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await runPreflight(h.options());
    expect(r.verdict.code).toBe("cudnn_missing");
  });

  it("4.4 on a 470 driver: driver_too_old (CUDA 12); 3.x with CUDA 11 libraries runs there", async () => {
    const old = host({ nvidiaSmi: "t4-470", ct2Version: "4.4.0" });
    const r1 = await runPreflight(old.options());
    expect(r1.verdict.code).toBe("driver_too_old");
    expect(r1.verdict.message).toContain(">= 525.60.13");

    const v3 = host({ nvidiaSmi: "t4-470", ct2Version: "3.24.0", cudaCc: "7.5", pipLibs: { "nvidia/cublas/lib": CUBLAS11, "nvidia/cudnn/lib": CUDNN8 } });
    const r2 = await runPreflight(v3.options());
    expect(r2.verdict).toMatchObject({ code: "ok", computeType: "float16" });
    expect(r2.facts.libraries?.libraries.map((l) => l.soname)).toEqual([...CUBLAS11, ...CUDNN8]);
  });
});

describe("tier 1: the sonames the installed ctranslate2 needs, dlopened in a child", () => {
  it("cuBLAS 12 absent: cublas_missing with the dlerror text and the pip fix", async () => {
    const h = host({ nvidiaSmi: H100, ct2Version: "4.6.3" });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "cublas_missing", stage: "libraries", soname: "libcublas.so.12" });
    expect(r.verdict.message).toContain("libcublas.so.12: cannot open shared object file");
    expect(r.verdict.message).not.toContain("CUDA-13-only");
    expect(r.verdict.fix).toBe(`${h.python} -m pip install nvidia-cublas-cu12`);
    expect(readCalls(h.callLog)).toHaveLength(0); // tier 2 never ran
  });

  it("CUDA-13-only host (the H100 layout): says so, and that the CUDA 12 wheel installs beside it", async () => {
    const layout = JSON.parse(readFileSync(join(FIXTURES, "layouts", "h100-cu130.json"), "utf8")) as { site_packages: Record<string, string[]> };
    const h = host({ nvidiaSmi: H100, ct2Version: "4.6.3", pipLibs: layout.site_packages });
    const r = await runPreflight(h.options());
    expect(r.verdict.code).toBe("cublas_missing");
    expect(r.verdict.message).toContain("CUDA-13-only host");
    expect(r.verdict.message).toContain(join(h.sitePackages, "nvidia/cu13/lib/libcublas.so.13"));
    expect(r.verdict.fix).toContain("nvidia-cublas-cu12");
    expect(r.facts.libDirs).toContain(join(h.sitePackages, "nvidia/cu13/lib"));
  });

  it("4.0-4.4 without cuDNN 8: cudnn_missing naming the soname and major 8", async () => {
    const h = host({ nvidiaSmi: H100, ct2Version: "4.4.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "cudnn_missing", stage: "libraries", soname: "libcudnn.so.8", cudnnMajor: 8 });
    expect(r.verdict.message).toContain("libcudnn_ops_infer.so.8");
    expect(r.verdict.message).toContain("libcudnn_cnn_infer.so.8");
    expect(r.verdict.fix).toContain("'nvidia-cudnn-cu12==8.*'");
    // Driver 580 >= 570: moving to a ctranslate2 without cuDNN is offered too.
    expect(r.verdict.fix).toContain("'ctranslate2>=4.6.3,<5'");
  });

  it("4.5-4.6.2 with one cuDNN 9 library missing: names exactly that one", async () => {
    const h = host({
      nvidiaSmi: H100,
      ct2Version: "4.6.2",
      pipLibs: { "nvidia/cublas/lib": CUBLAS12, "nvidia/cudnn/lib": CUDNN9.filter((s) => s !== "libcudnn_cnn.so.9") },
    });
    const r = await runPreflight(h.options());
    expect(r.verdict).toMatchObject({ code: "cudnn_missing", soname: "libcudnn_cnn.so.9", cudnnMajor: 9 });
    expect(r.verdict.message).toMatch(/cuDNN 9 is missing: libcudnn_cnn\.so\.9 cannot be loaded/);
    expect(r.facts.libraries?.libraries.find((l) => l.soname === "libcudnn_ops.so.9")).toMatchObject({
      ok: true,
      path: join(h.sitePackages, "nvidia/cudnn/lib/libcudnn_ops.so.9"),
    });
  });

  it(">= 4.6.3 needs no cuDNN: cuBLAS 12 alone passes, and the smoke test runs", async () => {
    const h = host({ nvidiaSmi: H100, ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await runPreflight(h.options());
    expect(r.facts.libraries?.libraries.map((l) => l.soname)).toEqual(CUBLAS12);
    expect(r.verdict).toMatchObject({ code: "ok", computeType: "float16" });
  });

  it("libraries found through the host's own LD_LIBRARY_PATH count too (kept after the pip folders)", async () => {
    const h = host({ nvidiaSmi: H100, ct2Version: "4.5.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const systemLibs = join(h.dir, "usr-lib");
    mkdirSync(systemLibs);
    for (const s of CUDNN9) copyFileSync(store.get(s), join(systemLibs, s));
    const r = await runPreflight(h.options({ env: { ...h.env, LD_LIBRARY_PATH: systemLibs } }));
    expect(r.facts.ldLibraryPath).toBe(`${join(h.sitePackages, "nvidia/cublas/lib")}:${systemLibs}`);
    expect(r.verdict.code).toBe("ok");
  });
});
