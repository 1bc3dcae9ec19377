// Tier 0 (ctranslate2 facts) and tier 1 (dlopen of the needed sonames), each in a fresh Python
// child with the sidecar's environment. The Python side lives in sidecar/preflight/.
import { fileURLToPath } from "node:url";
import { lastJson, runChild, tail } from "./child.ts";

export const PROBE_SCRIPTS_DIR = fileURLToPath(new URL("../../sidecar/preflight/", import.meta.url));
export const SMOKE_CLIP = fileURLToPath(new URL("../../sidecar/smoke/speech.wav", import.meta.url));
export const SMOKE_TEXT = fileURLToPath(new URL("../../sidecar/smoke/speech.txt", import.meta.url));

export interface ChildEnvOptions {
  python: string;
  /** The complete spawn environment (LD_LIBRARY_PATH already built). */
  env: Record<string, string | undefined>;
  timeoutMs: number;
}

export interface Ct2Facts {
  python: string;
  pythonExecutable: string;
  ctranslate2: string | null;
  ctranslate2Path: string | null;
  importError: string | null;
  cudaDeviceCount: number;
  /** get_supported_compute_types("cuda"), when a device is counted. */
  cudaComputeTypes: string[] | null;
  cudaComputeTypesError: string | null;
}

export type Ct2FactsResult =
  { status: "ok"; facts: Ct2Facts; ms: number } | { status: "python_failed"; message: string } | { status: "timeout"; timeoutMs: number };

interface RawFacts {
  python: string;
  python_executable: string;
  ctranslate2: string | null;
  ctranslate2_path: string | null;
  import_error: string | null;
  cuda_device_count: number;
  cuda_compute_types: string[] | null;
  cuda_compute_types_error: string | null;
}

export async function ctranslate2Facts(opts: ChildEnvOptions): Promise<Ct2FactsResult> {
  const r = await runChild(opts.python, [`${PROBE_SCRIPTS_DIR}ct2_facts.py`], { env: opts.env, timeoutMs: opts.timeoutMs });
  if (r.timedOut) return { status: "timeout", timeoutMs: opts.timeoutMs };
  const raw = lastJson<RawFacts>(r.stdout, (v) => "cuda_device_count" in v);
  if (!raw) {
    const why = r.spawnError ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
    return { status: "python_failed", message: `${opts.python}: ${why}${r.stderr ? `: ${tail(r.stderr, 400)}` : ""}` };
  }
  const crashed = r.exitCode !== 0 ? `ct2_facts.py died (${r.signal ?? `exit ${r.exitCode}`})${r.stderr ? `: ${tail(r.stderr, 300)}` : ""}` : null;
  return {
    status: "ok",
    ms: r.ms,
    facts: {
      python: raw.python,
      pythonExecutable: raw.python_executable,
      ctranslate2: raw.ctranslate2,
      ctranslate2Path: raw.ctranslate2_path,
      importError: raw.import_error,
      cudaDeviceCount: raw.cuda_device_count,
      cudaComputeTypes: raw.cuda_compute_types,
      cudaComputeTypesError: raw.cuda_compute_types_error ?? crashed,
    },
  };
}

export interface LibraryCheck {
  soname: string;
  ok: boolean;
  /** Where the dynamic loader found it. */
  path: string | null;
  /** dlerror() text when it failed. */
  error: string | null;
}

export interface LibraryReport {
  libraries: LibraryCheck[];
  /** libcublas.so.13 loads: the host has CUDA 13's cuBLAS (ctranslate2 4.x cannot use it). */
  cuda13: LibraryCheck;
}

export type LibraryResult =
  | { status: "ok"; report: LibraryReport; ms: number }
  /** The checker died: a library's initialiser aborted or crashed while loading. */
  | { status: "crashed"; message: string; signal: string | null }
  | { status: "timeout"; timeoutMs: number };

export async function checkLibraries(sonames: string[], opts: ChildEnvOptions): Promise<LibraryResult> {
  const r = await runChild(opts.python, [`${PROBE_SCRIPTS_DIR}dlopen_check.py`, ...sonames], { env: opts.env, timeoutMs: opts.timeoutMs });
  if (r.timedOut) return { status: "timeout", timeoutMs: opts.timeoutMs };
  const report = lastJson<LibraryReport>(r.stdout, (v) => Array.isArray(v.libraries));
  if (r.exitCode !== 0 || !report) {
    const why = r.spawnError ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
    return { status: "crashed", signal: r.signal, message: `loading ${sonames.join(", ")} failed: ${why}${r.stderr ? `: ${tail(r.stderr, 400)}` : ""}` };
  }
  return { status: "ok", report, ms: r.ms };
}
