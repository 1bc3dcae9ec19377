// Steps 2 (cuBLAS) and 3 (cuDNN): exactly the sonames the installed ctranslate2 needs (else the
// pinned one setup would install), dlopen'ed in a fresh child with the sidecar's
// LD_LIBRARY_PATH, by the preflight's tier 1. Driver >= 570 for ctranslate2 >= 4.6.3 is step 3's.
import type { LibraryCheck } from "../../handler/preflight/python-tiers.ts";
import { driverSatisfies, type CudaRequirements } from "../../handler/preflight/requirements.ts";
import { cudnnFix, driverFix, pipInstall } from "../../handler/preflight/verdict.ts";
import type { Ct2Target, GpuState, HostFacts } from "../facts.ts";
import { fail, pass, warn, type Check } from "../types.ts";

type Context = { req: CudaRequirements; target: Ct2Target; gpu: GpuState; libs: LibraryCheck[]; cuda13: LibraryCheck | null };

/** What steps 2 and 3 share; a Check instead when the question cannot be asked or does not apply. */
async function context(f: HostFacts): Promise<Context | Check> {
  if (f.config.DEVICE === "cpu" && !f.flags.requireGpu) return pass("not needed: DEVICE=cpu");
  const [gpu, r] = await Promise.all([f.gpu(), f.requirements()]);
  const needed = gpu.present || f.requireGpu;
  if (!r) {
    return needed
      ? warn("cannot tell which CUDA libraries are needed: no ctranslate2 installed or pinned (step 6)", "Run `npm run setup -- --gpu`")
      : pass("not needed: no GPU, and no ctranslate2 installed (step 6)");
  }
  if ("error" in r) return needed ? fail(r.error, pipInstall(f.python, ["ctranslate2>=4.6.3,<5"])) : pass(`not needed without a GPU (${r.error})`);
  const libs = await f.libraries();
  if (libs.status === "unavailable") {
    return needed
      ? warn(`cannot check: ${libs.message} (step 5)`, "Run `npm run setup`, or set SIDECAR_PYTHON to a Python >= 3.9")
      : pass("not needed: no GPU");
  }
  if (libs.status === "timeout")
    return fail(
      `loading the CUDA libraries did not finish within ${libs.timeoutMs} ms`,
      "Raise DIAGNOSE_TIMEOUT_MS (slow network filesystem?), or set DEVICE=cpu",
    );
  if (libs.status === "crashed")
    return fail(`a CUDA library crashed while loading: ${libs.message}`, "Reinstall the CUDA libraries (`npm run setup -- --gpu`), or set DEVICE=cpu");
  return { req: r.req, target: r.target, gpu, libs: libs.report.libraries, cuda13: libs.report.cuda13 };
}

const found = (l: LibraryCheck) => `${l.soname}${l.path ? ` (${l.path})` : ""}`;
const ct2Name = (c: Context) => `ctranslate2 ${c.target.version}${c.target.source === "pinned" ? " (pinned, not installed)" : ""}`;

/** A missing library matters when a GPU is there (or demanded) and ctranslate2 is installed. */
function missingCheck(c: Context, f: HostFacts, detail: string, fix: string): Check {
  if (!c.gpu.present && !f.requireGpu) return pass(`not needed without a GPU; ${detail}`);
  if (c.target.source === "pinned") return warn(detail, "Run `npm run setup -- --gpu` (it installs ctranslate2 and these libraries)");
  return fail(detail, fix);
}

export async function cudaLibrariesStep(f: HostFacts): Promise<Check> {
  const c = await context(f);
  if (!("req" in c)) return c;
  const sonames = new Set(c.req.cublas.sonames);
  const cublas = c.libs.filter((l) => sonames.has(l.soname));
  const missing = cublas.filter((l) => !l.ok);
  if (missing.length === 0) return pass(`cuBLAS ${c.req.cudaMajor} for ${ct2Name(c)}: ${cublas.map(found).join(", ")}`);
  const cuda13 = c.cuda13?.ok
    ? `; this is a CUDA-13-only host: libcublas.so.13 is there${c.cuda13.path ? ` (${c.cuda13.path})` : ""}, but ctranslate2 4.x cannot use CUDA 13`
    : "";
  const detail = `${ct2Name(c)} needs CUDA ${c.req.cudaMajor}'s cuBLAS: ${missing.map((l) => l.soname).join(", ")} cannot be loaded${cuda13}`;
  const fix = `${pipInstall(f.python, [c.req.cublas.pipPackage])}${c.cuda13?.ok ? " (it installs next to the CUDA 13 libraries; the driver runs both)" : ""}`;
  return missingCheck(c, f, detail, fix);
}

export async function cudnnStep(f: HostFacts): Promise<Check> {
  const c = await context(f);
  if (!("req" in c)) return c;
  const driver = c.gpu.driver;
  if (!c.req.cudnn) {
    const none = `not needed: ${ct2Name(c)} is built without cuDNN`;
    if (!driver) return pass(`${none}; it needs driver >= ${c.req.minDriver} (driver version unknown${c.gpu.present ? "" : ": no GPU"})`);
    if (driverSatisfies(driver, c.req.minDriver)) return pass(`${none}; driver ${driver} >= ${c.req.minDriver}`);
    const detail = `${none}, but it needs driver >= ${c.req.minDriver} (${c.req.minDriverWhy}) and this host has ${driver}`;
    return c.target.source === "pinned" ? warn(detail, driverFix(c.req, driver, f.python)) : fail(detail, driverFix(c.req, driver, f.python));
  }
  const major = c.req.cudnn.major;
  const sonames = new Set(c.req.cudnn.sonames);
  const libs = c.libs.filter((l) => sonames.has(l.soname));
  const missing = libs.filter((l) => !l.ok);
  if (missing.length === 0) return pass(`cuDNN ${major} for ${ct2Name(c)}: ${libs.map(found).join(", ")}`);
  const detail = `${ct2Name(c)} needs cuDNN ${major}: ${missing.map((l) => l.soname).join(", ")} cannot be loaded; without it every CUDA transcription aborts (SIGABRT)`;
  return missingCheck(c, f, detail, cudnnFix(c.req, driver, f.python));
}
