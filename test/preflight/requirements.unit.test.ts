import { describe, expect, it } from "vitest";
import { compareVersions, driverSatisfies, requiredSonames, requirementsFor } from "../../handler/preflight/requirements.ts";
import { cudaComputeCandidates, cudaComputePlan, matchExpectedWords } from "../../handler/preflight/smoke.ts";

describe("requirementsFor: the CUDA stack of each ctranslate2 range", () => {
  it("3.x: CUDA 11 cuBLAS, cuDNN 8, driver >= 450.80.02", () => {
    for (const v of ["3.0.0", "3.24.0"]) {
      const r = requirementsFor(v);
      expect(r).toMatchObject({ range: "3.x", cudaMajor: 11, minDriver: "450.80.02" });
      expect(r.cublas).toEqual({ sonames: ["libcublas.so.11", "libcublasLt.so.11"], pipPackage: "nvidia-cublas-cu11" });
      expect(r.cudnn).toMatchObject({ major: 8, pipPackage: "nvidia-cudnn-cu11==8.*" });
      expect(r.cudnn?.sonames).toEqual(expect.arrayContaining(["libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8"]));
    }
  });

  it("4.0-4.4: CUDA 12 cuBLAS, cuDNN 8, driver >= 525.60.13", () => {
    for (const v of ["4.0.0", "4.3.1", "4.4.0"]) {
      const r = requirementsFor(v);
      expect(r).toMatchObject({ range: "4.0-4.4", cudaMajor: 12, minDriver: "525.60.13" });
      expect(r.cublas.sonames).toEqual(["libcublas.so.12", "libcublasLt.so.12"]);
      expect(r.cudnn).toMatchObject({ major: 8, pipPackage: "nvidia-cudnn-cu12==8.*" });
    }
  });

  it("4.5.0-4.6.2: CUDA 12 cuBLAS, cuDNN 9 (ops, cnn and the graph/engines libraries)", () => {
    for (const v of ["4.5.0", "4.6.0", "4.6.2"]) {
      const r = requirementsFor(v);
      expect(r).toMatchObject({ range: "4.5-4.6.2", cudaMajor: 12, minDriver: "525.60.13" });
      expect(r.cudnn?.major).toBe(9);
      expect(r.cudnn?.sonames).toEqual(
        expect.arrayContaining(["libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9"]),
      );
    }
  });

  it(">= 4.6.3: no cuDNN at all on Linux, but driver >= 570", () => {
    for (const v of ["4.6.3", "4.7.0", "4.10.2"]) {
      const r = requirementsFor(v);
      expect(r).toMatchObject({ range: ">=4.6.3", cudaMajor: 12, cudnn: null, minDriver: "570" });
      expect(requiredSonames(r)).toEqual(["libcublas.so.12", "libcublasLt.so.12"]);
    }
  });

  it("refuses versions it has no rules for, with a stable code", () => {
    for (const v of ["2.24.0", "5.0.0", "not-a-version"]) {
      expect(() => requirementsFor(v)).toThrow(expect.objectContaining({ code: "ctranslate2_unsupported" }));
    }
  });

  it("requiredSonames: cuBLAS first, then cuDNN", () => {
    expect(requiredSonames(requirementsFor("4.4.0"))).toEqual([
      "libcublas.so.12",
      "libcublasLt.so.12",
      "libcudnn.so.8",
      "libcudnn_ops_infer.so.8",
      "libcudnn_cnn_infer.so.8",
    ]);
  });
});

describe("driver versions", () => {
  it("compares numerically, part by part", () => {
    expect(compareVersions("580.159.04", "570")).toBe(1);
    expect(compareVersions("565.57.01", "570")).toBe(-1);
    expect(compareVersions("570", "570.0.0")).toBe(0);
    expect(compareVersions("525.60.13", "525.60.9")).toBe(1);
    expect(driverSatisfies("525.60.13", "525.60.13")).toBe(true);
    expect(driverSatisfies("525.60.11", "525.60.13")).toBe(false);
  });
});

describe("compute types and word matching", () => {
  it("ranks the CUDA types the GPU supports, float16 first", () => {
    expect(cudaComputeCandidates(["float32", "int8", "int8_float32", "float16", "int8_float16", "bfloat16"])).toEqual([
      "float16",
      "int8_float16",
      "bfloat16",
      "int8_float32",
      "int8",
      "float32",
    ]);
    expect(cudaComputeCandidates(["float32", "int8", "int8_float32"])).toEqual(["int8_float32", "int8", "float32"]);
    expect(cudaComputeCandidates(null)).toEqual(["float16"]);
  });

  it("auto tries the best type, then the best one without half precision; a fixed type alone", () => {
    expect(cudaComputePlan("auto", ["float32", "int8", "int8_float32", "float16", "int8_float16"])).toEqual(["float16", "int8_float32"]);
    expect(cudaComputePlan("auto", ["float32", "int8", "int8_float32"])).toEqual(["int8_float32"]);
    expect(cudaComputePlan("auto", ["float32"])).toEqual(["float32"]);
    expect(cudaComputePlan("int8_float16", ["float16"])).toEqual(["int8_float16"]);
  });

  it("matches expected words ignoring case and punctuation", () => {
    expect(matchExpectedWords("The quick brown fox.", " the QUICK, brown fox!")).toEqual({ hits: 4, total: 4, ratio: 1 });
    expect(matchExpectedWords("The quick brown fox jumps over the lazy dog.", "a quick fox").hits).toBe(2);
    expect(matchExpectedWords("The quick brown fox", "").ratio).toBe(0);
  });
});
