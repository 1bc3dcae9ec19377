// Which CUDA libraries and which driver a given ctranslate2 release needs (Linux wheels).
// Source: ../shared/notes/faster-whisper-and-cuda.md, and NVIDIA's minor-version-compatibility
// table for the driver floors of CUDA 11.x (>= 450.80.02) and 12.x (>= 525.60.13).
import { WorkerError } from "../errors.ts";

export type Ct2Range = "3.x" | "4.0-4.4" | "4.5-4.6.2" | ">=4.6.3";

export interface CudnnRequirement {
  major: 8 | 9;
  /** Sonames dlopen must find; the first is the dispatcher library that loads the others. */
  sonames: string[];
  /** pip package that ships them (into site-packages/nvidia/cudnn/lib). */
  pipPackage: string;
}

export interface CudaRequirements {
  ct2Version: string;
  range: Ct2Range;
  /** CUDA major the wheel was built with. */
  cudaMajor: 11 | 12;
  cublas: { sonames: string[]; pipPackage: string };
  /** null: this ctranslate2 is built without cuDNN (4.6.3 and later on Linux). */
  cudnn: CudnnRequirement | null;
  /** Lowest NVIDIA driver that runs this wheel's CUDA code. */
  minDriver: string;
  minDriverWhy: string;
}

/** Numeric, dot-separated comparison ("580.159.04" vs "570"); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(".").map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function driverSatisfies(driver: string, minDriver: string): boolean {
  return compareVersions(driver, minDriver) >= 0;
}

const CUDNN8: CudnnRequirement = {
  major: 8,
  sonames: ["libcudnn.so.8", "libcudnn_ops_infer.so.8", "libcudnn_cnn_infer.so.8"],
  pipPackage: "nvidia-cudnn-cu12==8.*",
};

// cuDNN 9 split the engines out of libcudnn_cnn; ctranslate2's convolutions need them too.
const CUDNN9: CudnnRequirement = {
  major: 9,
  sonames: [
    "libcudnn.so.9",
    "libcudnn_ops.so.9",
    "libcudnn_cnn.so.9",
    "libcudnn_graph.so.9",
    "libcudnn_engines_precompiled.so.9",
    "libcudnn_engines_runtime_compiled.so.9",
  ],
  pipPackage: "nvidia-cudnn-cu12==9.*",
};

const CUBLAS = (major: 11 | 12) => ({
  sonames: [`libcublas.so.${major}`, `libcublasLt.so.${major}`],
  pipPackage: `nvidia-cublas-cu${major}`,
});

/**
 * The requirements of one ctranslate2 version. Versions outside 3.x/4.x are refused: 5.x may
 * change the CUDA stack, and guessing would make the preflight's advice wrong.
 */
export function requirementsFor(ct2Version: string): CudaRequirements {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(ct2Version.trim());
  if (!m) throw unsupported(ct2Version, "is not a version number");
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const base = { ct2Version: ct2Version.trim() };
  if (major === 3) {
    return {
      ...base,
      range: "3.x",
      cudaMajor: 11,
      cublas: CUBLAS(11),
      cudnn: { ...CUDNN8, pipPackage: "nvidia-cudnn-cu11==8.*" },
      minDriver: "450.80.02",
      minDriverWhy: "CUDA 11.x",
    };
  }
  if (major !== 4) throw unsupported(ct2Version, "is outside the supported 3.x and 4.x releases (faster-whisper 1.2.1 needs ctranslate2>=4.0,<5)");
  if (minor <= 4) {
    return { ...base, range: "4.0-4.4", cudaMajor: 12, cublas: CUBLAS(12), cudnn: CUDNN8, minDriver: "525.60.13", minDriverWhy: "CUDA 12.x" };
  }
  if (minor === 5 || (minor === 6 && patch <= 2)) {
    return { ...base, range: "4.5-4.6.2", cudaMajor: 12, cublas: CUBLAS(12), cudnn: CUDNN9, minDriver: "525.60.13", minDriverWhy: "CUDA 12.x" };
  }
  return { ...base, range: ">=4.6.3", cudaMajor: 12, cublas: CUBLAS(12), cudnn: null, minDriver: "570", minDriverWhy: "built with CUDA 12.8" };
}

/** Every soname the preflight dlopens for this version, cuBLAS first. */
export function requiredSonames(req: CudaRequirements): string[] {
  return [...req.cublas.sonames, ...(req.cudnn?.sonames ?? [])];
}

function unsupported(version: string, why: string): WorkerError {
  return new WorkerError("ctranslate2_unsupported", `ctranslate2 ${version} ${why}.`, { retryable: false });
}
