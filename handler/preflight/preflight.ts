// The CUDA preflight. Tier 0: nvidia-smi and what ctranslate2 sees. Tier 1: dlopen the
// sonames the installed ctranslate2 needs. Tier 2: a CUDA smoke transcription of real speech.
// Tiers 0 and 1 run every time (under a second); tier 2's verdict is cached.
import { readFileSync } from "node:fs";
import { WorkerError } from "../errors.ts";
import { preflightCachePath, readCachedVerdict, writeCachedVerdict, type CacheKey } from "./cache.ts";
import { sidecarLibraryEnv } from "./library-path.ts";
import { queryNvidiaSmi, visibleGpu, type GpuInfo, type NvidiaSmiResult } from "./nvidia-smi.ts";
import { checkLibraries, ctranslate2Facts, SMOKE_CLIP, SMOKE_TEXT, type Ct2Facts, type LibraryReport } from "./python-tiers.ts";
import { driverSatisfies, requiredSonames, requirementsFor, type CudaRequirements } from "./requirements.ts";
import { classifySmoke, cudaComputePlan, runSmoke, type SmokeOutcome } from "./smoke.ts";
import { CPU_FALLBACK_HINT, cudnnFix, driverFix, pipInstall, verdict, type Verdict } from "./verdict.ts";

export interface PreflightOptions {
  /** The sidecar's interpreter (resolveSidecarPython). */
  python: string;
  /** Base environment of every child; LD_LIBRARY_PATH is built on top of it. */
  env: Record<string, string | undefined>;
  /** Model of the smoke transcription (PROBE_MODEL, else WHISPER_MODEL). */
  model: string;
  /** CUDA_COMPUTE_TYPE: "auto" (best supported, one fallback) or a fixed type. */
  computeType?: string;
  /** MODEL_DIR: download root of the model. */
  modelDir?: string;
  /** MODEL_DOWNLOAD=never: the smoke test loads the model from MODEL_DIR only, like the sidecar. */
  localFilesOnly?: boolean;
  nvidiaSmiBin: string;
  /** Limit of each tier 0/1 child (PROBE_TIMEOUT_MS). */
  timeoutMs: number;
  /** Limit of the smoke child (PROBE_SMOKE_TIMEOUT_MS). */
  smokeTimeoutMs: number;
  /** PROBE_CACHE_DIR; unset: the XDG cache folder. */
  cacheDir?: string;
  /** false: neither read nor write the cache. */
  useCache?: boolean;
  /** true: ignore a cached verdict (the new one is still written). */
  fresh?: boolean;
  clip?: string;
  expectedText?: string;
}

export interface PreflightFacts {
  python: string;
  ldLibraryPath: string;
  libDirs: string[];
  nvidiaSmi: NvidiaSmiResult | null;
  gpu: GpuInfo | null;
  ctranslate2: Ct2Facts | null;
  requirements: CudaRequirements | null;
  libraries: LibraryReport | null;
  smoke: SmokeOutcome[];
}

export interface PreflightReport {
  verdict: Verdict;
  /** The verdict came from the cache (tier 2 skipped). */
  cached: boolean;
  cacheKey: CacheKey | null;
  cachePath: string | null;
  facts: PreflightFacts;
  ms: number;
}

// Verdicts that a retry could change without a change of key are not cached.
const NOT_CACHED = new Set(["timeout", "smoke_failed", "model_missing"]);

export async function runPreflight(opts: PreflightOptions): Promise<PreflightReport> {
  const started = Date.now();
  const facts: PreflightFacts = {
    python: opts.python,
    ldLibraryPath: opts.env.LD_LIBRARY_PATH ?? "",
    libDirs: [],
    nvidiaSmi: null,
    gpu: null,
    ctranslate2: null,
    requirements: null,
    libraries: null,
    smoke: [],
  };
  const report = (v: Verdict, extra: Partial<PreflightReport> = {}): PreflightReport => ({
    verdict: v,
    cached: false,
    cacheKey: null,
    cachePath: null,
    facts,
    ms: Date.now() - started,
    ...extra,
  });
  const py = opts.python;
  const cpu = CPU_FALLBACK_HINT;

  let childEnv: Record<string, string | undefined>;
  try {
    const lib = await sidecarLibraryEnv(py, opts.env, { timeoutMs: opts.timeoutMs });
    facts.ldLibraryPath = lib.LD_LIBRARY_PATH;
    facts.libDirs = lib.libDirs;
    childEnv = { ...opts.env, LD_LIBRARY_PATH: lib.LD_LIBRARY_PATH || undefined };
  } catch (err) {
    const message = err instanceof WorkerError ? err.message : String(err);
    return report(verdict("ctranslate2_missing", "ctranslate2", message, "Run `npm run setup` to create the sidecar environment, or set SIDECAR_PYTHON."));
  }

  // Tier 0: both questions at once; neither touches cuBLAS or cuDNN.
  const [smi, ct2] = await Promise.all([
    queryNvidiaSmi({ bin: opts.nvidiaSmiBin, env: opts.env, timeoutMs: opts.timeoutMs }),
    ctranslate2Facts({ python: py, env: childEnv, timeoutMs: opts.timeoutMs }),
  ]);
  facts.nvidiaSmi = smi;
  if (smi.status === "timeout") {
    return report(
      verdict(
        "timeout",
        "nvidia-smi",
        `${smi.bin} did not answer within ${smi.timeoutMs} ms: the NVIDIA driver is hung.`,
        `Reset the GPU (\`nvidia-smi --gpu-reset\`) or reboot the host, ${cpu}.`,
      ),
    );
  }
  const gpu = smi.status === "ok" ? (visibleGpu(smi.gpus, opts.env.CUDA_VISIBLE_DEVICES) ?? null) : null;
  facts.gpu = gpu;
  const driver = smi.status === "ok" ? smi.driverVersion : null;

  if (ct2.status === "timeout") {
    return report(
      verdict(
        "timeout",
        "ctranslate2",
        `\`import ctranslate2\` in ${py} did not finish within ${ct2.timeoutMs} ms.`,
        `Check the sidecar environment (\`${py} -c "import ctranslate2"\`), or raise PROBE_TIMEOUT_MS.`,
      ),
    );
  }
  if (ct2.status === "python_failed") {
    return report(
      verdict(
        "ctranslate2_missing",
        "ctranslate2",
        `The sidecar Python could not run: ${ct2.message}.`,
        "Run `npm run setup`, or set SIDECAR_PYTHON to a Python >= 3.9 with faster-whisper installed.",
      ),
    );
  }
  const f = ct2.facts;
  facts.ctranslate2 = f;
  if (!f.ctranslate2) {
    return report(
      verdict(
        "ctranslate2_missing",
        "ctranslate2",
        `ctranslate2 is not importable by ${py} (${f.importError ?? "no __version__"}); faster-whisper cannot run on any device.`,
        `Run \`npm run setup\` (or ${pipInstall(py, ["faster-whisper==1.2.1"])}).`,
      ),
    );
  }
  let req: CudaRequirements;
  try {
    req = requirementsFor(f.ctranslate2);
  } catch (err) {
    return report(verdict("ctranslate2_missing", "ctranslate2", err instanceof Error ? err.message : String(err), pipInstall(py, ["ctranslate2>=4.6.3,<5"])));
  }
  facts.requirements = req;

  if (driver && !driverSatisfies(driver, req.minDriver)) {
    return report(
      verdict(
        "driver_too_old",
        "nvidia-smi",
        `NVIDIA driver ${driver} is older than ctranslate2 ${req.ct2Version} needs (>= ${req.minDriver}, ${req.minDriverWhy}).`,
        driverFix(req, driver, py),
      ),
    );
  }
  if (f.cudaDeviceCount === 0) return report(noGpu(smi, gpu, f, opts.env));
  if (f.cudaComputeTypesError && /insufficient|PTX/i.test(f.cudaComputeTypesError)) {
    return report(verdict("driver_too_old", "ctranslate2", `CUDA refused the driver: ${f.cudaComputeTypesError}.`, driverFix(req, driver ?? "unknown", py)));
  }

  // Tier 1: the exact sonames, in a fresh process with the sidecar's LD_LIBRARY_PATH.
  const libs = await checkLibraries(requiredSonames(req), { python: py, env: childEnv, timeoutMs: opts.timeoutMs });
  if (libs.status === "timeout") {
    return report(
      verdict(
        "timeout",
        "libraries",
        `Loading the CUDA libraries did not finish within ${libs.timeoutMs} ms.`,
        `Raise PROBE_TIMEOUT_MS (slow network filesystem?), ${cpu}.`,
      ),
    );
  }
  if (libs.status === "crashed") {
    return report(
      verdict(
        libs.signal === "SIGABRT" ? "cuda_abort" : "smoke_failed",
        "libraries",
        `A CUDA library crashed while loading: ${libs.message}.`,
        `Reinstall the CUDA libraries (\`npm run setup\`), ${cpu}.`,
      ),
    );
  }
  facts.libraries = libs.report;
  const libVerdict = libraryVerdict(libs.report, req, driver, py);
  if (libVerdict) return report(libVerdict);

  // Tier 2, unless a verdict for exactly this host state is cached.
  const key: CacheKey = {
    driverVersion: driver,
    ctranslate2: req.ct2Version,
    gpuUuid: gpu?.uuid ?? null,
    ldLibraryPath: facts.ldLibraryPath,
    model: opts.model,
    computeType: opts.computeType ?? "auto",
  };
  const cachePath = opts.useCache === false ? null : preflightCachePath(opts.env, opts.cacheDir);
  if (cachePath && !opts.fresh) {
    const hit = readCachedVerdict(cachePath, key);
    if (hit) return report(hit, { cached: true, cacheKey: key, cachePath });
  }
  const v = await smokeTier(opts, childEnv, req, driver, f, facts);
  if (cachePath && !NOT_CACHED.has(v.code)) writeCachedVerdict(cachePath, key, v);
  return report(v, { cacheKey: key, cachePath });
}

async function smokeTier(
  opts: PreflightOptions,
  env: Record<string, string | undefined>,
  req: CudaRequirements,
  driver: string | null,
  f: Ct2Facts,
  facts: PreflightFacts,
): Promise<Verdict> {
  const expectedText = opts.expectedText ?? readFileSync(SMOKE_TEXT, "utf8");
  const plan = cudaComputePlan(opts.computeType ?? "auto", f.cudaComputeTypes);
  const ctx = { req, driver, python: opts.python, model: opts.model, expectedText };
  let v: Verdict | null = null;
  let refused: Verdict | null = null;
  // The best type first; if the GPU rejects it at load, one more try with the next best.
  for (const computeType of plan) {
    const outcome = await runSmoke({
      python: opts.python,
      env,
      timeoutMs: opts.smokeTimeoutMs,
      model: opts.model,
      computeType,
      clip: opts.clip ?? SMOKE_CLIP,
      downloadRoot: opts.modelDir,
      localFilesOnly: opts.localFilesOnly,
    });
    facts.smoke.push(outcome);
    v = classifySmoke(outcome, ctx);
    if (v.ok && refused) v = { ...v, message: `${v.message} (${refused.message})` };
    if (v.code !== "compute_type_unsupported") break;
    refused = v;
  }
  return v ?? verdict("smoke_failed", "smoke", "No compute type to try.", CPU_FALLBACK_HINT);
}

function libraryVerdict(r: LibraryReport, req: CudaRequirements, driver: string | null, py: string): Verdict | null {
  const failed = r.libraries.filter((l) => !l.ok);
  const first = failed[0];
  if (!first) return null;
  const list = failed.map((l) => l.soname).join(", ");
  const dlerror = first.error ? ` (${first.error})` : "";
  if (first.soname.startsWith("libcublas")) {
    const cuda13 = r.cuda13.ok
      ? ` This is a CUDA-13-only host: libcublas.so.13 is there${r.cuda13.path ? ` (${r.cuda13.path})` : ""}, but ctranslate2 ${req.ct2Version} needs CUDA ${req.cudaMajor}'s ${req.cublas.sonames[0]}; ctranslate2 4.x does not support CUDA 13.`
      : "";
    return verdict(
      "cublas_missing",
      "libraries",
      `cuBLAS for CUDA ${req.cudaMajor} is missing: ${list} cannot be loaded${dlerror}.${cuda13}`,
      `${pipInstall(py, [req.cublas.pipPackage])}${r.cuda13.ok ? " (it installs next to the CUDA 13 libraries; the driver runs both)" : ""}`,
      { soname: first.soname },
    );
  }
  const major = req.cudnn?.major;
  return verdict(
    "cudnn_missing",
    "libraries",
    `cuDNN ${major} is missing: ${list} cannot be loaded${dlerror}; ctranslate2 ${req.ct2Version} needs cuDNN ${major} and aborts (SIGABRT) at its first transcription without it.`,
    cudnnFix(req, driver, py),
    { soname: first.soname, ...(major ? { cudnnMajor: major } : {}) },
  );
}

function noGpu(smi: NvidiaSmiResult, gpu: GpuInfo | null, f: Ct2Facts, env: Record<string, string | undefined>): Verdict {
  const fix = "Install the NVIDIA driver (in Docker: `docker run --gpus all` with the NVIDIA Container Toolkit), or set DEVICE=cpu";
  if (smi.status === "missing") {
    return verdict("no_gpu", "nvidia-smi", `No NVIDIA GPU: \`${smi.bin}\` is not installed and ctranslate2 counts 0 CUDA devices.`, `${fix}.`);
  }
  if (smi.status === "failed" || !gpu) {
    const said = smi.status === "failed" ? smi.output.split("\n")[0] : "no GPU listed";
    return verdict("no_gpu", "nvidia-smi", `No usable NVIDIA GPU: nvidia-smi failed (${said}) and ctranslate2 counts 0 CUDA devices.`, `${fix}.`);
  }
  const cvd = env.CUDA_VISIBLE_DEVICES;
  const why =
    cvd !== undefined && (cvd.trim() === "" || cvd.trim() === "-1" || cvd.trim() === "NoDevFiles")
      ? `CUDA_VISIBLE_DEVICES=${JSON.stringify(cvd)} hides it`
      : f.cudaComputeTypesError && /not compiled with CUDA/i.test(f.cudaComputeTypesError)
        ? "this ctranslate2 build has no CUDA support"
        : "the CUDA runtime cannot open the device (CPU-only ctranslate2 build, or a driver/container mismatch)";
  return verdict(
    "no_gpu",
    "ctranslate2",
    `nvidia-smi shows ${gpu.name} (driver ${gpu.driverVersion}) but ctranslate2 ${f.ctranslate2} counts 0 CUDA devices: ${why}.`,
    `Unset CUDA_VISIBLE_DEVICES or install the CUDA build of ctranslate2 (\`npm run setup -- --gpu\`), or set DEVICE=cpu.`,
  );
}
