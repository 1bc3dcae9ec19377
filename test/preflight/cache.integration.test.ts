// The smoke verdict is cached under a key of driver, ctranslate2 version, GPU UUID, library path
// (plus model and CUDA_COMPUTE_TYPE); any change of key runs the preflight again. Tiers 0-1 always run.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { forgetCachedVerdict, preflightCachePath, readCachedVerdict, sameKey, writeCachedVerdict, type CacheKey } from "../../handler/preflight/cache.ts";
import { runPreflight } from "../../handler/preflight/preflight.ts";
import { verdict } from "../../handler/preflight/verdict.ts";
import { CUBLAS12, CUDNN9, LibStore, makeHost, readCalls, type Host, type HostSpec, useHostWorkspace } from "./host.ts";

let root: string;
let store: LibStore;
let python: string;
useHostWorkspace((w) => ({ root, store, python } = w));

function gpuHost(spec: Partial<HostSpec> = {}): Host {
  return makeHost(root, store, python, { nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 }, ...spec });
}
const smokeRuns = (h: Host) => readCalls(h.callLog).length;

describe("verdict cache", () => {
  it("a second preflight of the same host reuses the verdict; --fresh runs the smoke test again", async () => {
    const h = gpuHost();
    const first = await runPreflight(h.options());
    expect(first).toMatchObject({ cached: false, verdict: { code: "ok" } });
    expect(existsSync(join(h.cacheDir, "probe.json"))).toBe(true);

    const second = await runPreflight(h.options());
    expect(second).toMatchObject({ cached: true, verdict: first.verdict, cacheKey: first.cacheKey });
    expect(smokeRuns(h)).toBe(1);

    await runPreflight(h.options({ fresh: true }));
    expect(smokeRuns(h)).toBe(2);

    // What the sidecar client does when a CUDA sidecar the preflight cleared aborts at run time.
    forgetCachedVerdict(join(h.cacheDir, "probe.json"));
    expect((await runPreflight(h.options())).cached).toBe(false);
    expect(smokeRuns(h)).toBe(3);
  });

  it("caches failures too, until the key changes: a new ctranslate2, another model, another compute type", async () => {
    const h = gpuHost({ env: { FAKE_FW_FAULT: "cuda_abort" } });
    expect((await runPreflight(h.options())).verdict.code).toBe("cuda_abort");
    h.env.FAKE_FW_FAULT = "";
    expect(await runPreflight(h.options())).toMatchObject({ cached: true, verdict: { code: "cuda_abort" } });

    h.env.FAKE_CT2_VERSION = "4.7.0";
    expect(await runPreflight(h.options())).toMatchObject({ cached: false, verdict: { code: "ok" } });
    expect(await runPreflight(h.options({ model: "base" }))).toMatchObject({ cached: false });
    expect(await runPreflight(h.options({ computeType: "int8_float16" }))).toMatchObject({ cached: false, verdict: { computeType: "int8_float16" } });
    expect(smokeRuns(h)).toBe(4); // the aborted run, then one per new key; the cached one ran nothing
  });

  it("a new pip library folder changes LD_LIBRARY_PATH and runs the preflight again", async () => {
    const h = gpuHost();
    await runPreflight(h.options());
    mkdirSync(join(h.sitePackages, "nvidia", "cuda_runtime", "lib"), { recursive: true });
    copyFileSync(store.get("libcudart.so.12"), join(h.sitePackages, "nvidia", "cuda_runtime", "lib", "libcudart.so.12"));
    const r = await runPreflight(h.options());
    expect(r.cached).toBe(false);
    expect(r.cacheKey?.ldLibraryPath).toContain("cuda_runtime");
    expect(smokeRuns(h)).toBe(2);
  });

  it("another driver and GPU (nvidia-smi answers differently) runs the preflight again", async () => {
    const h = gpuHost({ ct2Version: "4.5.0", pipLibs: { "nvidia/cublas/lib": CUBLAS12, "nvidia/cudnn/lib": CUDNN9 } });
    const a = await runPreflight(h.options());
    h.env.FAKE_NVSMI_SCENARIO = "h100-550";
    const b = await runPreflight(h.options());
    expect(b.cached).toBe(false);
    expect(b.cacheKey?.driverVersion).toBe("550.90.07");
    expect(b.cacheKey?.gpuUuid).not.toBe(a.cacheKey?.gpuUuid);
  });

  it("libraries are checked on every start: a cached ok does not hide a cuBLAS removed since", async () => {
    const h = gpuHost();
    expect((await runPreflight(h.options())).verdict.code).toBe("ok");
    rmSync(join(h.sitePackages, "nvidia", "cublas", "lib", "libcublasLt.so.12"));
    const r = await runPreflight(h.options());
    expect(r).toMatchObject({ cached: false, verdict: { code: "cublas_missing", soname: "libcublasLt.so.12" } });
  });

  it("timeouts are not cached, a corrupt file is ignored and rewritten, useCache=false writes nothing", async () => {
    const hung = gpuHost({ env: { FAKE_FW_FAULT: "hang" } });
    expect((await runPreflight(hung.options({ smokeTimeoutMs: 3000 }))).verdict.code).toBe("timeout");
    expect(existsSync(join(hung.cacheDir, "probe.json"))).toBe(false);

    const h = gpuHost();
    mkdirSync(h.cacheDir, { recursive: true });
    writeFileSync(join(h.cacheDir, "probe.json"), "{not json");
    expect((await runPreflight(h.options())).cached).toBe(false);
    expect(JSON.parse(readFileSync(join(h.cacheDir, "probe.json"), "utf8"))).toMatchObject({ version: 1, verdict: { code: "ok" } });

    const none = gpuHost();
    await runPreflight(none.options({ useCache: false }));
    expect(existsSync(join(none.cacheDir, "probe.json"))).toBe(false);
  });
});

describe("cache file and key", () => {
  const key: CacheKey = { driverVersion: "580.159.04", ctranslate2: "4.6.3", gpuUuid: "GPU-x", ldLibraryPath: "/a", model: "turbo", computeType: "auto" };

  it("lives under PROBE_CACHE_DIR, else $XDG_CACHE_HOME/voice-worker, else ~/.cache/voice-worker", () => {
    expect(preflightCachePath({}, "/var/cache/vw")).toBe("/var/cache/vw/probe.json");
    expect(preflightCachePath({ XDG_CACHE_HOME: "/x" })).toBe("/x/voice-worker/probe.json");
    expect(preflightCachePath({ HOME: "/home/u" })).toBe("/home/u/.cache/voice-worker/probe.json");
  });

  it("every key field matters", () => {
    for (const field of Object.keys(key) as Array<keyof CacheKey>) {
      expect(sameKey(key, { ...key, [field]: "changed" })).toBe(false);
    }
    expect(sameKey(key, { ...key })).toBe(true);
  });

  it("round-trips a verdict; an unknown code in the file is ignored", () => {
    const path = join(root, "unit", "probe.json");
    const v = verdict("cudnn_missing", "libraries", "m", "f", { soname: "libcudnn_ops.so.9", cudnnMajor: 9 });
    writeCachedVerdict(path, key, v);
    expect(readCachedVerdict(path, key)).toEqual(v);
    expect(readCachedVerdict(path, { ...key, gpuUuid: "GPU-y" })).toBeNull();
    writeCachedVerdict(path, key, { ...v, code: "made_up" as never });
    expect(readCachedVerdict(path, key)).toBeNull();
  });
});
