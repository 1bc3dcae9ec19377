// The LD_LIBRARY_PATH every CUDA-touching child gets: the `lib` folders of the pip NVIDIA
// packages (nvidia-cublas-cu12 -> site-packages/nvidia/cublas/lib, nvidia-cudnn-cu12 ->
// nvidia/cudnn/lib, CUDA 13 wheels -> nvidia/cu13/lib) of the sidecar's interpreter, ahead of
// whatever the host already set. glibc reads LD_LIBRARY_PATH only when a process starts, so
// it must be in the spawn environment; setting os.environ inside Python is too late.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { WorkerError } from "../errors.ts";
import { lastJson, runChild, tail } from "./child.ts";

const SITE_SCRIPT =
  "import json, site, sys\n" +
  "paths = list(site.getsitepackages()) if hasattr(site, 'getsitepackages') else []\n" +
  "if site.ENABLE_USER_SITE: paths.append(site.getusersitepackages())\n" +
  "print(json.dumps({'site_packages': paths, 'executable': sys.executable}))\n";

/** The site-packages folders of `python`, asked of that interpreter in a child process. */
export async function sitePackagesOf(python: string, opts: { env: Record<string, string | undefined>; timeoutMs: number }): Promise<string[]> {
  const r = await runChild(python, ["-c", SITE_SCRIPT], opts);
  const out = lastJson<{ site_packages: string[] }>(r.stdout);
  if (r.exitCode !== 0 || !out) {
    const why = r.spawnError ?? (r.timedOut ? `no answer within ${opts.timeoutMs} ms` : tail(r.stderr, 300) || `exit ${r.exitCode}`);
    throw new WorkerError(
      "sidecar_python_unusable",
      `The sidecar Python ${python} could not be asked for its site-packages: ${why}. Run \`npm run setup\` or set SIDECAR_PYTHON.`,
      {
        retryable: false,
      },
    );
  }
  return out.site_packages;
}

/** `<site-packages>/nvidia/<package>/lib` folders that exist, in a stable order, without duplicates. */
export function nvidiaLibDirs(sitePackages: string[]): string[] {
  const dirs: string[] = [];
  for (const sp of sitePackages) {
    const root = join(sp, "nvidia");
    if (!isDir(root)) continue;
    for (const pkg of readdirSync(root).sort()) {
      const lib = join(root, pkg, "lib");
      if (isDir(lib) && !dirs.includes(lib)) dirs.push(lib);
    }
  }
  return dirs;
}

/** `dirs` first (they win over system copies of another CUDA version), then the existing value. */
export function buildLdLibraryPath(dirs: string[], existing: string | undefined): string {
  const rest = (existing ?? "").split(":").filter((d) => d !== "" && !dirs.includes(d));
  return [...dirs, ...rest].join(":");
}

export interface SidecarLibraryEnv {
  /** The value to put in the child's spawn environment ("" when there is nothing to add). */
  LD_LIBRARY_PATH: string;
  /** The pip NVIDIA lib folders found. */
  libDirs: string[];
}

/** What the sidecar (and every preflight child) gets as LD_LIBRARY_PATH for interpreter `python`. */
export async function sidecarLibraryEnv(python: string, baseEnv: Record<string, string | undefined>, opts: { timeoutMs: number }): Promise<SidecarLibraryEnv> {
  const sitePackages = await sitePackagesOf(python, { env: baseEnv, timeoutMs: opts.timeoutMs });
  const libDirs = nvidiaLibDirs(sitePackages);
  return { LD_LIBRARY_PATH: buildLdLibraryPath(libDirs, baseEnv.LD_LIBRARY_PATH), libDirs };
}

/** One rule for the sidecar interpreter, wherever it is needed (the sidecar, the preflight, diagnose). */
export { resolveSidecarPython } from "../asr/python.ts";

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
