// Tier 2: load the model on CUDA and transcribe the committed speech clip in a fresh child, then
// classify how it ended. Only a separate process survives cuDNN's abort() and a hung kernel.
import { lastJson, runChild, tail } from "./child.ts";
import { PROBE_SCRIPTS_DIR, type ChildEnvOptions } from "./python-tiers.ts";
import { driverSatisfies, type CudaRequirements } from "./requirements.ts";
import { CPU_FALLBACK_HINT, cudnnFix, driverFix, pipInstall, verdict, type Verdict } from "./verdict.ts";

/** Best first. float16 is the GPU default; int8_float32 is what compute capability 6.1 can do. */
export const CUDA_COMPUTE_PREFERENCE = ["float16", "int8_float16", "bfloat16", "int8_float32", "int8", "float32"] as const;

/** Share of the clip's words the transcript must contain (small models drop or misspell a few). */
export const MIN_WORD_MATCH = 0.6;

export function cudaComputeCandidates(supported: string[] | null): string[] {
  if (!supported) return ["float16"];
  const ranked = CUDA_COMPUTE_PREFERENCE.filter((t) => supported.includes(t));
  return ranked.length > 0 ? ranked : ["float32"];
}

/**
 * The compute types the smoke test tries, in order. A fixed CUDA_COMPUTE_TYPE is tried alone.
 * With "auto": the best supported type, then, if the GPU refuses it, the best one without a
 * half-precision part (int8_float32 / int8 / float32): a GPU that refuses float16 refuses
 * int8_float16 for the same reason, so that would be a wasted model load.
 */
export function cudaComputePlan(setting: string, supported: string[] | null): string[] {
  if (setting !== "auto") return [setting];
  const ranked = cudaComputeCandidates(supported);
  const first = ranked[0] ?? "float16";
  const fullPrecision = ranked.find((t) => !t.includes("float16")) ?? "int8_float32";
  return fullPrecision === first ? [first] : [first, fullPrecision];
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter(Boolean);
}

/** How many distinct words of `expected` appear in `text`. */
export function matchExpectedWords(expected: string, text: string): { hits: number; total: number; ratio: number } {
  const want = [...new Set(words(expected))];
  const got = new Set(words(text));
  const hits = want.filter((w) => got.has(w)).length;
  return { hits, total: want.length, ratio: want.length === 0 ? 1 : hits / want.length };
}

export interface SmokeRequest extends ChildEnvOptions {
  model: string;
  computeType: string;
  clip: string;
  downloadRoot?: string;
  /** MODEL_DOWNLOAD=never: load from the cache only, as the sidecar will. */
  localFilesOnly?: boolean;
  deviceIndex?: number;
}

export interface SmokeOutcome {
  computeType: string;
  /** Last phase the child announced: import, load, transcribe. */
  phase: string | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  timeoutMs: number;
  text: string | null;
  error: { type: string; message: string } | null;
  stderrTail: string;
  ms: number;
}

interface SmokeLine {
  event: "phase" | "result" | "error";
  phase?: string;
  text?: string;
  error_type?: string;
  message?: string;
}

export async function runSmoke(req: SmokeRequest): Promise<SmokeOutcome> {
  const args = [`${PROBE_SCRIPTS_DIR}smoke.py`, "--model", req.model, "--compute-type", req.computeType, "--wav", req.clip];
  if (req.downloadRoot) args.push("--download-root", req.downloadRoot);
  if (req.localFilesOnly) args.push("--local-files-only");
  if (req.deviceIndex !== undefined) args.push("--device-index", String(req.deviceIndex));
  const r = await runChild(req.python, args, { env: req.env, timeoutMs: req.timeoutMs });
  const phase = lastJson<SmokeLine>(r.stdout, (v) => v.event === "phase" || (v.event === "error" && typeof v.phase === "string"));
  const result = lastJson<SmokeLine>(r.stdout, (v) => v.event === "result");
  const error = lastJson<SmokeLine>(r.stdout, (v) => v.event === "error");
  return {
    computeType: req.computeType,
    phase: phase?.phase ?? null,
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    timeoutMs: req.timeoutMs,
    text: result && typeof result.text === "string" ? result.text : null,
    error: error ? { type: error.error_type ?? "Error", message: error.message ?? "" } : r.spawnError ? { type: "SpawnError", message: r.spawnError } : null,
    stderrTail: tail(r.stderr, 800),
    ms: r.ms,
  };
}

export interface ClassifyContext {
  req: CudaRequirements;
  /** Driver from nvidia-smi, when it answered. */
  driver: string | null;
  python: string;
  model: string;
  expectedText: string;
}

const DRIVER_PATTERN = /PTX|driver version is insufficient|cudaErrorUnsupportedPtxVersion|cudaErrorInsufficientDriver/i;
const CUBLAS_SONAME = /libcublas(?:Lt)?\.so\.\d+/;
const CUDNN_SONAME = /libcudnn[\w]*\.so\.\d+/;
const MODEL_ERRORS = new Set([
  "LocalEntryNotFoundError",
  "RepositoryNotFoundError",
  "EntryNotFoundError",
  "RevisionNotFoundError",
  "HfHubHTTPError",
  "FileNotFoundError",
]);

export function classifySmoke(o: SmokeOutcome, ctx: ClassifyContext): Verdict {
  const said = [o.error ? `${o.error.type}: ${o.error.message}` : "", o.stderrTail].filter(Boolean).join("\n");
  const firstLine = (s: string) =>
    s
      .split("\n")
      .find((l) => l.trim())
      ?.trim() ?? "";
  const cpu = CPU_FALLBACK_HINT;

  if (o.timedOut) {
    const s = Math.round(o.timeoutMs / 1000);
    return o.phase === "transcribe"
      ? verdict(
          "timeout",
          "smoke",
          `The CUDA smoke transcription of a 3 s clip did not finish within ${s} s (a hung CUDA kernel or driver).`,
          `Check the GPU with \`nvidia-smi\` (reset or reboot a wedged GPU), ${cpu}.`,
        )
      : verdict(
          "timeout",
          "smoke",
          `Loading ${ctx.model} on CUDA did not finish within ${s} s (phase: ${o.phase ?? "start"}; a model download or a hung driver).`,
          `Pre-download the model (\`npm run setup\`) or raise PROBE_SMOKE_TIMEOUT_MS, ${cpu}.`,
        );
  }
  if (o.signal === "SIGABRT" || o.exitCode === 134) {
    // The native loaders name the library on stderr just before abort(): name it back.
    const detail = firstLine(o.stderrTail) || firstLine(said);
    const aborted = `The smoke transcription aborted (SIGABRT) in its first CUDA pass${detail ? `: ${detail}` : ""}`;
    const cudnn = CUDNN_SONAME.exec(said)?.[0];
    if (cudnn) {
      const major = Number(/\.so\.(\d+)/.exec(cudnn)?.[1]);
      return verdict(
        "cudnn_missing",
        "smoke",
        `${aborted}. cuDNN ${major} (${cudnn}) cannot be loaded; every CUDA transcription would abort the same way.`,
        cudnnFix(ctx.req, ctx.driver, ctx.python),
        { soname: cudnn, cudnnMajor: major },
      );
    }
    const cublas = CUBLAS_SONAME.exec(said)?.[0];
    if (cublas) {
      return verdict("cublas_missing", "smoke", `${aborted}. cuBLAS (${cublas}) cannot be loaded.`, pipInstall(ctx.python, [ctx.req.cublas.pipPackage]), {
        soname: cublas,
      });
    }
    const fix = ctx.req.cudnn
      ? `${cudnnFix(ctx.req, ctx.driver, ctx.python)} (a missing cuDNN is the usual cause)`
      : `reinstall the CUDA libraries (\`npm run setup -- --gpu\`)`;
    return verdict("cuda_abort", "smoke", `${aborted}. A process that loads this model on CUDA dies the same way.`, `${fix}, ${cpu}.`);
  }
  if (o.signal) {
    return verdict(
      "smoke_failed",
      "smoke",
      `The smoke transcription died with ${o.signal}${said ? `: ${firstLine(said)}` : ""}.`,
      `Run \`npm run preflight\` again to see whether it repeats (SIGKILL is often the kernel's OOM killer), ${cpu}.`,
    );
  }
  if (o.exitCode === 0 && o.text !== null) {
    const m = matchExpectedWords(ctx.expectedText, o.text);
    if (o.text.trim() === "") {
      return verdict(
        "empty_output",
        "smoke",
        `The CUDA smoke transcription of a clip of real speech returned empty text (typical of a wheel newer than the driver).`,
        driverHint(ctx),
      );
    }
    if (m.ratio < MIN_WORD_MATCH) {
      return verdict(
        "empty_output",
        "smoke",
        `The CUDA smoke transcription returned "${o.text.slice(0, 120)}", which has ${m.hits} of the ${m.total} expected words.`,
        driverHint(ctx),
      );
    }
    return verdict(
      "ok",
      "smoke",
      `CUDA works: ${ctx.model} (${o.computeType}) transcribed the smoke clip in ${o.ms} ms with ${m.hits}/${m.total} expected words.`,
      null,
      { computeType: o.computeType },
    );
  }
  // The child reported an exception (or printed nothing we understand).
  if (DRIVER_PATTERN.test(said)) {
    return verdict("driver_too_old", "smoke", `CUDA refused to run: ${firstLine(said)}.`, driverFix(ctx.req, ctx.driver ?? "unknown", ctx.python));
  }
  const cublas = CUBLAS_SONAME.exec(said)?.[0];
  if (cublas || /cublas/i.test(said)) {
    return verdict(
      "cublas_missing",
      "smoke",
      `cuBLAS failed in the smoke transcription: ${firstLine(said)}.`,
      pipInstall(ctx.python, [ctx.req.cublas.pipPackage]),
      cublas ? { soname: cublas } : {},
    );
  }
  const cudnn = CUDNN_SONAME.exec(said)?.[0];
  if (cudnn || /cudnn/i.test(said)) {
    return verdict("cudnn_missing", "smoke", `cuDNN failed in the smoke transcription: ${firstLine(said)}.`, cudnnFix(ctx.req, ctx.driver, ctx.python), {
      ...(cudnn ? { soname: cudnn } : {}),
      ...(ctx.req.cudnn ? { cudnnMajor: ctx.req.cudnn.major } : {}),
    });
  }
  if (/compute type/i.test(said)) {
    return verdict(
      "compute_type_unsupported",
      "smoke",
      `This GPU cannot run ${ctx.model} with compute type ${o.computeType}: ${firstLine(said)}.`,
      `Set CUDA_COMPUTE_TYPE=auto (it falls back to int8_float32, which compute capability 6.1 GPUs run), ${cpu}.`,
    );
  }
  if (o.phase === "load" && o.error && (MODEL_ERRORS.has(o.error.type) || /model|snapshot|huggingface|local_files_only/i.test(o.error.message))) {
    return verdict(
      "model_missing",
      "smoke",
      `The model ${ctx.model} could not be loaded: ${firstLine(said)}.`,
      "Download it with `npm run setup` (or set MODEL_DIR to a folder that has it, or WHISPER_MODEL/PROBE_MODEL to a local model directory).",
    );
  }
  return verdict(
    "smoke_failed",
    "smoke",
    `The CUDA smoke transcription failed${o.phase ? ` while in ${o.phase}` : ""}: ${firstLine(said) || `exit ${o.exitCode}`}.`,
    `Read the error above (run \`npm run preflight\` to repeat it), ${cpu}.`,
  );
}

function driverHint(ctx: ClassifyContext): string {
  if (ctx.driver && driverSatisfies(ctx.driver, ctx.req.minDriver)) {
    return `Driver ${ctx.driver} meets ctranslate2 ${ctx.req.ct2Version}'s floor (>= ${ctx.req.minDriver}): update it to the newest of its branch or reinstall the sidecar (\`npm run setup -- --gpu\`), ${CPU_FALLBACK_HINT}.`;
  }
  return driverFix(ctx.req, ctx.driver ?? "unknown", ctx.python);
}
