import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOnPath, parseGpuCsv, queryNvidiaSmi, visibleGpu } from "../../handler/preflight/nvidia-smi.ts";
import { basePython, FIXTURES } from "./host.ts";

let dir: string;
let bin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vw-nvsmi-"));
  const python = basePython();
  writeFileSync(join(dir, "nvidia-smi"), `#!/bin/sh\nexec '${python}' '${join(FIXTURES, "nvidia-smi")}' "$@"\n`);
  chmodSync(join(dir, "nvidia-smi"), 0o755);
  bin = dir;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseGpuCsv", () => {
  it("parses several GPUs, names with spaces, and [N/A] cells of a MIG slice", () => {
    const csv = [
      "570.133.20, NVIDIA A100-SXM4-80GB, GPU-11111111-2222-3333-4444-555555555555, 81920, 1024, [N/A]",
      "570.133.20, NVIDIA GeForce RTX 4090, GPU-66666666-7777-8888-9999-000000000000, 24564, [Not Supported], 37",
      "",
    ].join("\n");
    const gpus = parseGpuCsv(csv);
    expect(gpus).toHaveLength(2);
    expect(gpus[0]).toMatchObject({ index: 0, name: "NVIDIA A100-SXM4-80GB", memoryTotalMiB: 81920, memoryUsedMiB: 1024, utilizationPct: null });
    expect(gpus[1]).toMatchObject({ index: 1, name: "NVIDIA GeForce RTX 4090", memoryUsedMiB: null, utilizationPct: 37 });
  });

  it("ignores the driver's failure text", () => {
    expect(
      parseGpuCsv(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n",
      ),
    ).toEqual([]);
  });

  it("visibleGpu follows CUDA_VISIBLE_DEVICES by index or UUID", () => {
    const gpus = parseGpuCsv("580.1, A, GPU-aaaa, 1, 0, 0\n580.1, B, GPU-bbbb, 1, 0, 0\n");
    expect(visibleGpu(gpus, undefined)?.name).toBe("A");
    expect(visibleGpu(gpus, "1,0")?.name).toBe("B");
    expect(visibleGpu(gpus, "GPU-bbbb")?.name).toBe("B");
    expect(visibleGpu(gpus, "7")).toBeUndefined();
  });
});

describe("queryNvidiaSmi against the fake binary", () => {
  it("finds it on the given PATH only", () => {
    expect(findOnPath("nvidia-smi", { PATH: bin })).toBe(join(bin, "nvidia-smi"));
    expect(findOnPath("nvidia-smi", { PATH: join(dir, "nowhere") })).toBeNull();
  });

  it("the H100 with driver 580", async () => {
    const r = await queryNvidiaSmi({ bin: "nvidia-smi", env: { PATH: bin, FAKE_NVSMI_SCENARIO: "h100-580" }, timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: "ok", driverVersion: "580.159.04" });
    if (r.status === "ok") expect(r.gpus[0]).toMatchObject({ name: "NVIDIA H100 80GB HBM3", memoryTotalMiB: 81559 });
  });

  it("missing, failing (exit 9) and hanging", async () => {
    expect(await queryNvidiaSmi({ bin: "nvidia-smi", env: { PATH: join(dir, "none") }, timeoutMs: 20_000 })).toEqual({ status: "missing", bin: "nvidia-smi" });
    const failed = await queryNvidiaSmi({ bin: "nvidia-smi", env: { PATH: bin, FAKE_NVSMI_SCENARIO: "no-driver" }, timeoutMs: 20_000 });
    expect(failed).toMatchObject({ status: "failed", exitCode: 9 });
    if (failed.status === "failed") expect(failed.output).toContain("couldn't communicate with the NVIDIA driver");
    const hung = await queryNvidiaSmi({ bin: "nvidia-smi", env: { PATH: bin, FAKE_NVSMI_SCENARIO: "hang" }, timeoutMs: 1500 });
    expect(hung).toMatchObject({ status: "timeout", timeoutMs: 1500 });
  });

  it("an absolute NVIDIA_SMI_BIN is used as given", async () => {
    const r = await queryNvidiaSmi({ bin: join(bin, "nvidia-smi"), env: { PATH: "", FAKE_NVSMI_SCENARIO: "t4-470" }, timeoutMs: 20_000 });
    expect(r).toMatchObject({ status: "ok", driverVersion: "470.182.03" });
  });
});
