// Steps 5 (the sidecar's interpreter) and 6 (its packages and their fit with this host).
import { join } from "node:path";
import { driverSatisfies, requirementsFor } from "../../handler/preflight/requirements.ts";
import { driverFix, pipInstall } from "../../handler/preflight/verdict.ts";
import { pinnedVersion, type HostFacts, type PackageInfo } from "../facts.ts";
import { combine, fail, pass, warn, type Check } from "../types.ts";

const SETUP = "Run `npm run setup` (it creates sidecar/.venv with the pinned packages)";

function interpreterFix(f: HostFacts): string {
  return f.config.SIDECAR_PYTHON
    ? `Set SIDECAR_PYTHON to a Python >= 3.9 (it is ${f.config.SIDECAR_PYTHON}), or unset it and run \`npm run setup\``
    : "Install Python >= 3.9 with venv support (`sudo apt-get install python3 python3-venv`), then run `npm run setup`; or set SIDECAR_PYTHON";
}

export async function pythonStep(f: HostFacts): Promise<Check> {
  const v = await f.pythonVersion();
  const which = f.config.SIDECAR_PYTHON ? `SIDECAR_PYTHON=${f.python}` : f.python;
  if (v.status === "missing") return fail(`no sidecar Python: ${which} not found`, interpreterFix(f));
  if (v.status === "failed") return fail(`the sidecar Python ${which} does not run: ${v.message}`, interpreterFix(f));
  if (!(await f.pythonUsable())) return fail(`${which} is Python ${v.version}; faster-whisper needs >= 3.9`, interpreterFix(f));
  const env = await f.pythonEnv();
  if ("error" in env) return fail(`${which} (Python ${v.version}) could not describe itself: ${env.error}`, interpreterFix(f));
  const what = `${which} (Python ${env.version}, ${env.executable})`;
  if (env.venv) {
    const shared = env.system_site_packages ? " that also sees the system's packages" : "";
    return pass(`${what}: isolated venv at ${env.prefix}${shared}`);
  }
  const managed = env.externally_managed ? " (a distribution's externally-managed Python)" : "";
  return warn(
    `${what}: not a virtual environment${managed}; the sidecar shares packages with everything else`,
    f.config.SIDECAR_PYTHON ? "Point SIDECAR_PYTHON at a venv's python, or unset it and run `npm run setup`" : SETUP,
  );
}

const label = (name: string, p: PackageInfo) => `${name} ${p.version ?? (p.importable ? "(version unknown: no package metadata)" : "missing")}`;

export async function packagesStep(f: HostFacts): Promise<Check> {
  if (!(await f.pythonUsable())) return fail("cannot check: no usable sidecar Python (step 5)", interpreterFix(f));
  const [pk, gpu] = await Promise.all([f.packages(), f.gpu()]);
  if ("error" in pk) return fail(`cannot list the sidecar's packages: ${pk.error}`, interpreterFix(f));
  const reqFile = join(f.repoRoot, "sidecar", "requirements.txt");
  const parts: Check[] = [];
  const fw = pk.faster_whisper;
  const ct2 = pk.ctranslate2;
  const install = `${SETUP}, or ${pipInstall(f.python, ["-r", reqFile])}`;

  if (!fw.importable) parts.push(fail(`faster-whisper is not installed in ${f.python}`, install));
  else if (fw.location?.includes("/test/doubles/")) {
    parts.push(fail(`faster_whisper is the project's TEST DOUBLE (${fw.location}), not the engine`, "Remove test/doubles from PYTHONPATH"));
  } else {
    const pin = pinnedVersion(reqFile, "faster-whisper");
    parts.push(fw.version && pin && fw.version !== pin ? warn(`${label("faster-whisper", fw)} (pinned: ${pin})`, install) : pass(label("faster-whisper", fw)));
  }

  // The version that decides the CUDA stack: the metadata's, else what `import ctranslate2` said.
  const ct2Facts = await f.ct2();
  const ct2Version = ct2.version ?? (ct2Facts.status === "ok" ? ct2Facts.facts.ctranslate2 : null);
  if (!ct2.importable) parts.push(fail("ctranslate2 is not installed (faster-whisper cannot import)", install));
  else if (!ct2Version) parts.push(warn(label("ctranslate2", ct2), install));
  else parts.push(ct2Fit(f, ct2Version, gpu.driver, gpu.present));

  if (!pk.numpy.importable) parts.push(fail("numpy is missing (the sidecar needs it)", install));
  else parts.push(pass(label("numpy", pk.numpy)));
  if (!pk.av.importable) parts.push(fail("av (PyAV) is missing: faster-whisper imports it at start", install));
  else parts.push(pass(label("av", pk.av)));
  if (!pk.onnxruntime.importable) parts.push(warn("onnxruntime is missing: VAD (vad_filter) fails", install));
  else parts.push(pass(label("onnxruntime", pk.onnxruntime)));
  if (pk.torch.importable) {
    const torch = pk.torch.version ? `torch ${pk.torch.version}` : "torch";
    parts.push(
      warn(
        `${torch} is installed too: ctranslate2 imports it, so the sidecar starts in 3-5 s instead of 0.4 s`,
        `Run \`npm run setup\` and use its isolated sidecar/.venv, or \`${f.python} -m pip uninstall torch\``,
      ),
    );
  }
  return combine(parts);
}

/** ctranslate2 against the version matrix: a 4.x release, and a driver at or above its floor. */
function ct2Fit(f: HostFacts, version: string, driver: string | null, gpuPresent: boolean): Check {
  let req;
  try {
    req = requirementsFor(version);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err), pipInstall(f.python, ["ctranslate2>=4.6.3,<5"]));
  }
  const name = `ctranslate2 ${version}`;
  if (f.config.DEVICE === "cpu" || !gpuPresent || !driver) return pass(name);
  if (!driverSatisfies(driver, req.minDriver)) {
    return fail(`${name} needs NVIDIA driver >= ${req.minDriver} (${req.minDriverWhy}); this host has ${driver}`, driverFix(req, driver, f.python));
  }
  return pass(`${name} (driver ${driver} >= ${req.minDriver})`);
}
