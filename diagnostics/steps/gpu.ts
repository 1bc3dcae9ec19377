// Step 1: GPU & CUDA. nvidia-smi (driver, GPU, memory) and how many CUDA devices the sidecar's
// ctranslate2 counts; with --deep also the preflight's CUDA smoke transcription (tier 2).
import { preflightOptionsFromConfig } from "../../handler/preflight/config.ts";
import { runPreflight } from "../../handler/preflight/preflight.ts";
import type { HostFacts } from "../facts.ts";
import { fail, pass, warn, type Check } from "../types.ts";

const INSTALL_DRIVER = "Install the NVIDIA driver (in Docker: `docker run --gpus all` with the NVIDIA Container Toolkit)";

export async function gpuStep(f: HostFacts): Promise<Check> {
  const [state, ct2] = await Promise.all([f.gpu(), f.ct2()]);
  const { smi, gpu } = state;
  const noGpu = (detail: string, fix: string): Check => (f.requireGpu ? fail(detail, fix) : warn(`${detail}; the worker runs on the CPU (int8)`, fix));
  const cpuFix = f.requireGpu
    ? `${INSTALL_DRIVER}, or drop --require-gpu / DEVICE=cuda to run on the CPU`
    : `${INSTALL_DRIVER} for GPU speed, or set DEVICE=cpu to run on the CPU on purpose`;

  if (f.config.DEVICE === "cpu" && !f.flags.requireGpu) {
    return pass(`DEVICE=cpu: the worker does not use a GPU${gpu ? ` (${gpu.name} present, driver ${gpu.driverVersion})` : ""}`);
  }
  if (f.config.DEVICE === "cpu") {
    return fail(`--require-gpu, but DEVICE=cpu keeps the worker off the GPU`, "Set DEVICE=auto (or DEVICE=cuda)");
  }
  if (smi.status === "timeout") {
    return fail(
      `${smi.bin} did not answer within ${smi.timeoutMs} ms: the NVIDIA driver is hung`,
      "Reset the GPU (`nvidia-smi --gpu-reset`) or reboot the host, or set DEVICE=cpu",
    );
  }

  const ct2Installed = ct2.status === "ok" && ct2.facts.ctranslate2 ? ct2.facts : null;
  const ct2Says = ct2Installed
    ? `ctranslate2 ${ct2Installed.ctranslate2} sees ${ct2Installed.cudaDeviceCount} CUDA device(s)`
    : "ctranslate2 not installed (step 6), CUDA device count unknown";

  let check: Check;
  if (smi.status === "missing") {
    check =
      ct2Installed && ct2Installed.cudaDeviceCount > 0
        ? pass(`no ${smi.bin} on PATH (driver version unknown), but ${ct2Says}`)
        : noGpu(`No NVIDIA GPU: \`${smi.bin}\` is not installed${ct2Installed ? ` and ${ct2Says}` : ""}`, cpuFix);
  } else if (smi.status === "failed") {
    const said =
      smi.output
        .split("\n")
        .find((l) => l.trim())
        ?.trim() ?? `exit ${smi.exitCode}`;
    check = noGpu(`No usable NVIDIA GPU: nvidia-smi failed (${said})`, `${INSTALL_DRIVER} or repair it (nvidia-smi must answer), or set DEVICE=cpu`);
  } else if (!gpu) {
    check = noGpu(
      `nvidia-smi lists ${smi.gpus.length} GPU(s), but CUDA_VISIBLE_DEVICES=${JSON.stringify(f.env.CUDA_VISIBLE_DEVICES ?? "")} names none of them`,
      "Set CUDA_VISIBLE_DEVICES to an index or UUID from `nvidia-smi -L`, or unset it",
    );
  } else {
    const mem = gpu.memoryTotalMiB !== null ? `, ${gpu.memoryTotalMiB} MiB${gpu.memoryUsedMiB !== null ? ` (${gpu.memoryUsedMiB} used)` : ""}` : "";
    const facts = `${gpu.name}, driver ${gpu.driverVersion}${mem}`;
    if (ct2Installed && ct2Installed.cudaDeviceCount === 0) {
      const cvd = f.env.CUDA_VISIBLE_DEVICES?.trim();
      const why =
        cvd !== undefined && (cvd === "" || cvd === "-1" || cvd === "NoDevFiles")
          ? `CUDA_VISIBLE_DEVICES=${JSON.stringify(f.env.CUDA_VISIBLE_DEVICES)} hides it`
          : ct2Installed.cudaComputeTypesError && /not compiled with CUDA/i.test(ct2Installed.cudaComputeTypesError)
            ? "this ctranslate2 build has no CUDA support"
            : "the CUDA runtime cannot open the device (a driver/container mismatch?)";
      check = noGpu(
        `${facts}; but ${ct2Says}: ${why}`,
        "Unset CUDA_VISIBLE_DEVICES, or install the CUDA build of ctranslate2 (`npm run setup -- --gpu`), or set DEVICE=cpu",
      );
    } else {
      check = pass(`${facts}; ${ct2Says}`);
    }
  }

  if (f.flags.deep && check.status === "pass") return deepSmoke(f, check);
  if (f.flags.deep) return { ...check, detail: `${check.detail}; CUDA smoke transcription not run (no usable GPU)` };
  return check;
}

/** --deep: the preflight's tier 2, fresh (its verdict is written to the preflight cache as usual). */
async function deepSmoke(f: HostFacts, check: Check): Promise<Check> {
  const report = await runPreflight(preflightOptionsFromConfig(f.config, f.env, { python: f.python, fresh: true }));
  const v = report.verdict;
  if (v.ok) return pass(`${check.detail}; ${v.message}`);
  return fail(`${check.detail}; CUDA smoke test: ${v.code}: ${v.message}`, v.fix ?? "Run `npm run preflight` for details, or set DEVICE=cpu");
}
