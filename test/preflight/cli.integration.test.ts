// `npm run preflight [-- --json]` as a user runs it: a real process, the settings from the env.
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { CUBLAS12, LibStore, makeHost, REPO, type Host, useHostWorkspace } from "./host.ts";

let root: string;
let store: LibStore;
let python: string;
useHostWorkspace((w) => ({ root, store, python } = w));

const TSX = join(REPO, "node_modules", "tsx", "dist", "cli.mjs");

function preflightCli(h: Host, args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [TSX, join(REPO, "scripts", "preflight.ts"), ...args], {
    cwd: h.dir,
    env: { ...h.env, SIDECAR_PYTHON: h.python, WHISPER_MODEL: "tiny", MODEL_DIR: h.modelDir, PROBE_CACHE_DIR: h.cacheDir, ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

describe("npm run preflight", () => {
  it("--json on a working GPU: exit 0, verdict ok, and the device DEVICE=auto would use", async () => {
    const h = makeHost(root, store, python, { nvidiaSmi: "h100-580", ct2Version: "4.6.3", pipLibs: { "nvidia/cublas/lib": CUBLAS12 } });
    const r = await preflightCli(h, ["--json"], { CPU_THREADS: "3" });
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      ok: true,
      verdict: "ok",
      stage: "smoke",
      fix: null,
      compute_type: "float16",
      cached: false,
      device_setting: "auto",
      decision: { device: "cuda", compute_type: "float16", cpu_threads: 3, fallback_reason: null },
      decision_error: null,
    });
    expect(out.facts).toMatchObject({ gpu: { name: "NVIDIA H100 80GB HBM3", driverVersion: "580.159.04" } });

    // The second run is answered from the cache.
    const again = await preflightCli(h, ["--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, cached: true });
  });

  it("--json on a host without cuBLAS 12: exit 1, the soname, the fix, and the CPU fallback", async () => {
    const h = makeHost(root, store, python, { nvidiaSmi: "h100-580", ct2Version: "4.6.3" });
    const r = await preflightCli(h, ["--json"]);
    expect(r.exitCode).toBe(1);
    const out = JSON.parse(r.stdout) as { decision: { fallback_reason: string } } & Record<string, unknown>;
    expect(out).toMatchObject({
      ok: false,
      verdict: "cublas_missing",
      soname: "libcublas.so.12",
      fix: `${h.python} -m pip install nvidia-cublas-cu12`,
      decision: { device: "cpu", compute_type: "int8" },
    });
    expect(out.decision.fallback_reason).toMatch(/^cublas_missing: /);
  });

  it("human output; with DEVICE=cuda on a host without GPU the worker would refuse to start", async () => {
    const h = makeHost(root, store, python, { nvidiaSmi: null, ct2Version: "4.6.3" });
    const r = await preflightCli(h, [], { DEVICE: "cuda" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("CUDA preflight: no_gpu");
    expect(r.stdout).toContain("Fix: Install the NVIDIA driver");
    expect(r.stdout).toContain("With DEVICE=cuda the worker refuses to start (cuda_unusable)");
    const json = JSON.parse((await preflightCli(h, ["--json"], { DEVICE: "cuda" })).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ verdict: "no_gpu", decision: null, decision_error: { code: "cuda_unusable" } });
  });

  it("usage and configuration errors exit 2", async () => {
    const h = makeHost(root, store, python, { nvidiaSmi: null, ct2Version: null });
    const bad = await preflightCli(h, ["--jsn"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("Usage: npm run preflight");
    const cfg = await preflightCli(h, ["--json"], { PROBE_TIMEOUT_MS: "soon" });
    expect(cfg.exitCode).toBe(2);
    expect(cfg.stderr).toContain("PROBE_TIMEOUT_MS must be a number");
  });
});
