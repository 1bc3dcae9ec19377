// `npm run preflight [-- --json] [--fresh] [--no-cache]`: can this host transcribe on CUDA?
// (`npm run probe` is an alias kept for existing users.)
// Exit 0: verdict ok (usable GPU). 1: any other verdict. 2: usage or configuration error.
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../handler/config/load.ts";
import { toErrorInfo } from "../handler/errors.ts";
import { preflightOptionsFromConfig } from "../handler/preflight/config.ts";
import { decideDevice, type DeviceDecision } from "../handler/preflight/device-policy.ts";
import { runPreflight, type PreflightReport } from "../handler/preflight/preflight.ts";
import { usageError as exitUsage } from "./usage.ts";

const USAGE = `Usage: npm run preflight [-- --json] [--fresh] [--no-cache]
  --json      print the verdict as one JSON object
  --fresh     ignore a cached verdict (re-run the CUDA smoke transcription)
  --no-cache  neither read nor write the verdict cache
Exit status: 0 CUDA usable (verdict ok), 1 not usable, 2 usage or configuration error.`;

function usageError(message: string): never {
  return exitUsage(USAGE, message);
}

async function main(): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: process.argv.slice(2),
      options: {
        json: { type: "boolean", default: false },
        fresh: { type: "boolean", default: false },
        "no-cache": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let options;
  let config;
  try {
    config = loadConfig(process.env, ".env");
    options = preflightOptionsFromConfig(config, process.env, { fresh: flags.fresh, useCache: !flags["no-cache"] });
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }

  const report = await runPreflight(options);
  let decision: DeviceDecision | null = null;
  let decisionError: { code: string; message: string } | null = null;
  try {
    decision = await decideDevice({ device: config.DEVICE, cpuThreads: config.CPU_THREADS, preflight: async () => report });
  } catch (err) {
    decisionError = toErrorInfo(err);
  }

  if (flags.json) process.stdout.write(`${JSON.stringify(toJson(report, config.DEVICE, decision, decisionError))}\n`);
  else process.stdout.write(human(report, config.DEVICE, decision, decisionError));
  return report.verdict.ok ? 0 : 1;
}

function toJson(r: PreflightReport, device: string, decision: DeviceDecision | null, decisionError: { code: string; message: string } | null) {
  const v = r.verdict;
  return {
    ok: v.ok,
    verdict: v.code,
    stage: v.stage,
    message: v.message,
    fix: v.fix,
    compute_type: v.computeType,
    ...(v.soname ? { soname: v.soname } : {}),
    ...(v.cudnnMajor ? { cudnn_major: v.cudnnMajor } : {}),
    cached: r.cached,
    ms: r.ms,
    device_setting: device,
    decision: decision && {
      device: decision.device,
      compute_type: decision.compute_type,
      cpu_threads: decision.cpu_threads,
      fallback_reason: decision.fallback_reason,
    },
    decision_error: decisionError,
    facts: r.facts,
  };
}

function human(r: PreflightReport, device: string, decision: DeviceDecision | null, decisionError: { code: string; message: string } | null): string {
  const v = r.verdict;
  const f = r.facts;
  const lines = [`CUDA preflight: ${v.code}${r.cached ? " (cached)" : ""}`, `  ${v.message}`];
  if (v.fix) lines.push(`  Fix: ${v.fix}`);
  if (f.gpu) {
    const g = f.gpu;
    lines.push(
      `  GPU: ${g.name}, driver ${g.driverVersion}, ${g.memoryTotalMiB ?? "?"} MiB (${g.memoryUsedMiB ?? "?"} used), ${g.utilizationPct ?? "?"}% busy, ${g.uuid}`,
    );
  }
  if (f.ctranslate2?.ctranslate2 && f.requirements) {
    const q = f.requirements;
    const cudnn = q.cudnn ? `cuDNN ${q.cudnn.major} (${q.cudnn.sonames.join(", ")})` : "no cuDNN";
    lines.push(
      `  ctranslate2 ${q.ct2Version} (${q.range}): needs ${q.cublas.sonames.join(", ")}, ${cudnn}, driver >= ${q.minDriver}; sees ${f.ctranslate2.cudaDeviceCount} CUDA device(s)`,
    );
  }
  for (const l of f.libraries?.libraries ?? []) lines.push(`    ${l.ok ? "found  " : "MISSING"} ${l.soname}${l.path ? ` -> ${l.path}` : ""}`);
  lines.push(`  Python: ${f.python}; LD_LIBRARY_PATH for the sidecar: ${f.ldLibraryPath || "(empty)"}`);
  if (decision) lines.push(`  With DEVICE=${device} the worker runs on ${decision.device} (${decision.compute_type}, ${decision.cpu_threads} CPU threads).`);
  if (decisionError) lines.push(`  With DEVICE=${device} the worker refuses to start (${decisionError.code}).`);
  return `${lines.join("\n")}\n`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`preflight failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
