// `npm run diagnose [-- --json] [--require-gpu] [--quick] [--deep]`: the 8-step environment check.
// Exit 0: no step failed (warnings allowed). 1: a step failed. 2: usage or configuration error.
import { parseArgs } from "node:util";
import { ConfigError } from "../handler/config/load.ts";
import { loadDiagnoseConfig } from "../diagnostics/config.ts";
import { formatStep, formatSummary, toJson, useColour } from "../diagnostics/report.ts";
import { runDiagnose } from "../diagnostics/run.ts";
import { usageError as exitUsage } from "./usage.ts";

const USAGE = `Usage: npm run diagnose [-- --json] [--require-gpu] [--quick] [--deep]
  --json         print {"ok", "steps": [{"id","name","status","detail","fix","ms"}]}
  --require-gpu  no usable GPU is a failure (DEVICE=cuda implies it)
  --quick        no network: skip the Upstash round trip and the Gemini call (health checks)
  --deep         add the CUDA smoke transcription of the preflight (loads the model on the GPU)
Exit status: 0 nothing failed, 1 a step failed, 2 usage or configuration error.`;

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
        "require-gpu": { type: "boolean", default: false },
        quick: { type: "boolean", default: false },
        deep: { type: "boolean", default: false },
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
  if (flags.quick && flags.deep) usageError("--quick and --deep exclude each other");

  let config;
  try {
    config = loadDiagnoseConfig(process.env, ".env");
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }

  const started = Date.now();
  const colour = useColour(process.stdout, process.env);
  const report = await runDiagnose(
    { config, env: process.env, flags: { requireGpu: flags["require-gpu"], quick: flags.quick, deep: flags.deep } },
    { onStep: flags.json ? undefined : (r) => process.stdout.write(formatStep(r, colour)) },
  );
  process.stdout.write(flags.json ? `${toJson(report)}\n` : formatSummary(report, Date.now() - started));
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`diagnose failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
