import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log/logger.ts";
import { runTestModeJob } from "./run-job.ts";
import type { JobRunner } from "../runner.ts";

export { serveApi, type TestModeApi, type ServeApiOptions } from "./serve-api.ts";
export { runTestModeJob, type TestModeJobResult } from "./run-job.ts";

export interface TestInputOptions {
  log: Logger;
  /** Where the result line goes (stdout by default). */
  out?: (text: string) => void;
  /** Where `test_input.json` is looked for (the working directory by default). */
  cwd?: string;
  signal?: AbortSignal;
}

/**
 * `--test_input '<json>'` (or `./test_input.json` when no JSON is given): runs the job
 * `{"input": ...}` (an `id` is made up when absent), prints `{id, status, output|error}` as
 * JSON, and returns the exit code: 0 when the job completed, 1 otherwise.
 */
export async function runTestInput(runner: JobRunner, json: string | undefined, opts: TestInputOptions): Promise<0 | 1> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  let text = json;
  if (text === undefined) {
    const file = join(opts.cwd ?? process.cwd(), "test_input.json");
    if (!existsSync(file)) {
      opts.log.error({ file }, "no --test_input given and no test_input.json found");
      return 1;
    }
    text = readFileSync(file, "utf8");
  }
  let job: unknown;
  try {
    job = JSON.parse(text);
  } catch (err) {
    opts.log.error({ err }, "the test input is not valid JSON");
    return 1;
  }
  if (typeof job !== "object" || job === null || Array.isArray(job) || (job as { input?: unknown }).input == null) {
    opts.log.error('the test input needs an "input" key, as in {"input": {...}}');
    return 1;
  }
  const given = (job as { id?: unknown }).id;
  const id = typeof given === "string" && given !== "" ? given : `test-${randomUUID()}`;
  const result = await runTestModeJob(
    runner,
    { id, input: (job as { input: unknown }).input },
    {
      log: opts.log,
      signal: opts.signal,
      onStream: (chunk) => opts.log.info({ chunk }, "stream chunk"),
    },
  );
  out(`${JSON.stringify(result)}\n`);
  return result.status === "COMPLETED" ? 0 : 1;
}

export type TestMode = { kind: "test_input"; json?: string } | { kind: "serve_api"; port: number; host: string };

/**
 * RunPod's test modes, with the flags users know from its SDK: `--test_input '<json>'` (alone: read
 * ./test_input.json) and `--serve-api` / `--rp_serve_api` with `--port` / `--rp_api_port`
 * (default 8000) and `--host` / `--rp_api_host` (default 127.0.0.1). Null when neither is given.
 */
export function parseTestModeArgs(argv: readonly string[]): TestMode | null {
  const value = (names: string[]): { present: boolean; value?: string } => {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      for (const n of names) {
        if (a === n) {
          const next = argv[i + 1];
          return { present: true, value: next !== undefined && !next.startsWith("--") ? next : undefined };
        }
        if (a.startsWith(`${n}=`)) return { present: true, value: a.slice(n.length + 1) };
      }
    }
    return { present: false };
  };
  const test = value(["--test_input", "--test-input"]);
  if (test.present) return { kind: "test_input", json: test.value };
  if (!value(["--serve-api", "--rp_serve_api"]).present) return null;
  const portText = value(["--port", "--rp_api_port"]).value ?? "8000";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got "${portText}"`);
  return { kind: "serve_api", port, host: value(["--host", "--rp_api_host"]).value ?? "127.0.0.1" };
}
