// runpod.toml, .runpod/hub.json and .runpod/tests.json: the formats RunPod documents, GPU and
// CUDA choices that match the image, and Hub test inputs this worker really accepts.
import { describe, expect, it } from "vitest";
import { parseJobInput } from "../../handler/pipeline/input.ts";
import { loadHub, loadHubTests, loadRunpodToml, packageJson, parseDockerfile, read } from "./files.ts";

/**
 * RunPod's serverless GPU pools and the GPU type ids in them (RunPod docs: references/gpu-types,
 * the Hub publishing guide; pool membership as RunPod's own Flash SDK lists it).
 */
const POOLS: Record<string, string[]> = {
  AMPERE_16: ["NVIDIA RTX A4000", "NVIDIA RTX A4500", "NVIDIA RTX 4000 Ada Generation", "NVIDIA RTX 2000 Ada Generation"],
  AMPERE_24: ["NVIDIA RTX A5000", "NVIDIA L4", "NVIDIA GeForce RTX 3090"],
  ADA_24: ["NVIDIA GeForce RTX 4090"],
  ADA_32_PRO: ["NVIDIA GeForce RTX 5090"],
  AMPERE_48: ["NVIDIA A40", "NVIDIA RTX A6000"],
  ADA_48_PRO: ["NVIDIA L40", "NVIDIA L40S", "NVIDIA RTX 6000 Ada Generation"],
  AMPERE_80: ["NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB"],
  ADA_80_PRO: ["NVIDIA H100 PCIe", "NVIDIA H100 80GB HBM3", "NVIDIA H100 NVL"],
  HOPPER_141: ["NVIDIA H200"],
  BLACKWELL_96: ["NVIDIA RTX PRO 6000 Blackwell Server Edition"],
  BLACKWELL_180: ["NVIDIA B200"],
};
const HUB_CATEGORIES = ["audio", "embedding", "language", "video", "image"];

const hub = loadHub();
const hubTests = loadHubTests();
const toml = loadRunpodToml();
const hubPools = hub.config.gpuIds.split(",").map((s) => s.trim());
const cudaOfImage = /^nvidia\/cuda:(\d+\.\d+)\./.exec(parseDockerfile(read("Dockerfile")).stages.find((s) => s.name === "gpu")!.base)![1]!;
const asNumber = (v: string) => Number(v);

describe(".runpod/hub.json", () => {
  it("has the fields the Hub requires", () => {
    expect(hub.title.length).toBeGreaterThan(0);
    expect(hub.description.length).toBeGreaterThan(20);
    expect(hub.type).toBe("serverless");
    expect(HUB_CATEGORIES).toContain(hub.category);
    expect(hub.config.runsOn).toBe("GPU");
    expect(hub.config.gpuCount).toBe(1);
    expect(Number.isInteger(hub.config.containerDiskInGb)).toBe(true);
    for (const e of hub.config.env) {
      expect(/^[A-Z][A-Z0-9_]*$/.test(e.key), e.key).toBe(true);
      expect((e.value === undefined) !== (e.input === undefined), `${e.key}: exactly one of value or input`).toBe(true);
      if (e.input) expect(["string", "number", "boolean", "huggingface"]).toContain(e.input.type);
    }
    expect(new Set(hub.config.env.map((e) => e.key)).size).toBe(hub.config.env.length);
  });

  it("asks for GPU pools that exist, and CUDA versions the image's driver floor allows", () => {
    expect(hubPools.filter((p) => !(p in POOLS))).toEqual([]);
    // The image is CUDA 12.8 (ctranslate2 4.6.3: driver >= 570): hosts must offer at least that.
    expect(cudaOfImage).toBe("12.8");
    expect(hub.config.allowedCudaVersions.length).toBeGreaterThan(0);
    for (const v of hub.config.allowedCudaVersions) {
      expect(v).toMatch(/^\d+\.\d+$/);
      expect(asNumber(v)).toBeGreaterThanOrEqual(asNumber(cudaOfImage));
    }
  });
});

describe(".runpod/tests.json", () => {
  it("tests on a GPU of one of hub.json's pools, with the same CUDA versions (else the Hub test never gets a worker)", () => {
    expect(hubPools.flatMap((p) => POOLS[p]!)).toContain(hubTests.config.gpuTypeId);
    expect(hubTests.config.gpuCount).toBe(hub.config.gpuCount);
    expect(hubTests.config.allowedCudaVersions).toEqual(hub.config.allowedCudaVersions);
  });

  it("every test input is a valid RunPod job input for this worker", () => {
    expect(hubTests.tests.length).toBeGreaterThanOrEqual(1);
    expect(new Set(hubTests.tests.map((t) => t.name)).size).toBe(hubTests.tests.length);
    for (const t of hubTests.tests) {
      expect(() => parseJobInput(t.input, "runpod"), t.name).not.toThrow();
      // Cold start: model load and the CUDA preflight's smoke transcription come first.
      expect(t.timeout, t.name).toBeGreaterThanOrEqual(120_000);
      if (typeof t.input.audio === "string") expect(new URL(t.input.audio).protocol).toBe("https:");
    }
  });
});

describe("runpod.toml", () => {
  it("has runpodctl's project fields, the package version as image tag, and the image's Python", () => {
    expect(toml.name).toBe("voice-worker");
    expect(toml.project.uuid).toMatch(/^[0-9a-f]{8}$/);
    expect(toml.project.base_image.endsWith(`:${packageJson().version}`)).toBe(true);
    expect(toml.project.gpu_count).toBe(1);
    expect(toml.project.volume_mount_path).toBe("/runpod-volume");
    expect(toml.project.container_disk_size_gb).toBe(hub.config.containerDiskInGb);
    expect(toml.endpoint).toMatchObject({ active_workers: 0, flashboot: true });
    // Ubuntu 24.04's python3, which the image's venv is built with.
    expect(read("Dockerfile")).toMatch(/FROM ubuntu:24\.04 AS sidecar-venv/);
    expect(toml.runtime.python_version).toBe("3.12");
  });

  it("lists only GPUs of hub.json's pools (one GPU choice for both ways of deploying)", () => {
    const allowed = new Set(hubPools.flatMap((p) => POOLS[p]!));
    expect(toml.project.gpu_types.length).toBeGreaterThan(0);
    expect(toml.project.gpu_types.filter((g) => !allowed.has(g))).toEqual([]);
  });
});
