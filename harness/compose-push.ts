// npm run compose:push -- [FILE] [--timeout-s 300] [--runpod BASE_URL --api-key KEY]
// Pushes one voice message, waits for its result and prints it (JSON) on stdout. Exit 0 when
// the job finished (done / COMPLETED), 1 when it failed or the time ran out, 2 on misuse.
//
// Queue (default): exactly `npm run queue -- push FILE --id ID`, then `npm run queue -- show ID
//   --json` until the job is done, failed or dead: the same CLI, settings and code a user runs.
// RunPod (--runpod http://127.0.0.1:8077/v2/dev-endpoint): `POST /run` with audio_base64, then
//   `GET /status/{id}` until a final status, as RunPod's own clients do.
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { execa } from "execa";

export const SAMPLE_VOICE_MESSAGE = "sidecar/smoke/speech.wav";
const QUEUE_CLI = fileURLToPath(new URL("../scripts/queue.ts", import.meta.url));
const POLL_MS = 500;

export interface PushOptions {
  file: string;
  timeoutMs: number;
  runpod?: { baseUrl: string; apiKey: string };
  /** Environment of the queue CLI runs (the Upstash settings); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export interface PushOutcome {
  id: string;
  ok: boolean;
  /** The final status record: queue `{status, result}`, or RunPod's `{id, status, output|error}`. */
  final: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function queueCli(args: string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number) {
  // The program behind `npm run queue`, without npm's banner on stdout.
  return execa(process.execPath, ["--import", "tsx", QUEUE_CLI, ...args], { env, reject: false, timeout: timeoutMs, stdin: "ignore" });
}

async function pushToQueue(o: PushOptions, deadline: number): Promise<PushOutcome> {
  const id = `compose-${randomUUID()}`;
  const pushed = await queueCli(["push", o.file, "--id", id, "--json"], o.env, Math.max(1000, deadline - Date.now()));
  if (pushed.exitCode !== 0) throw new Error(`queue push failed (exit ${pushed.exitCode}): ${String(pushed.stderr).trim()}`);
  let last: unknown = null;
  while (Date.now() < deadline) {
    const shown = await queueCli(["show", id, "--json"], o.env, Math.max(1000, deadline - Date.now()));
    if (shown.exitCode === 0) {
      last = JSON.parse(String(shown.stdout)) as { status: { state: string } };
      const state = (last as { status: { state: string } }).status.state;
      if (state === "done") return { id, ok: true, final: last };
      if (state === "failed" || state === "dead") return { id, ok: false, final: last };
    }
    await sleep(POLL_MS);
  }
  return { id, ok: false, final: last };
}

async function pushToRunpod(o: PushOptions & { runpod: NonNullable<PushOptions["runpod"]> }, deadline: number): Promise<PushOutcome> {
  const base = o.runpod.baseUrl.replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${o.runpod.apiKey}`, "content-type": "application/json" };
  const audio = (await readFile(o.file)).toString("base64");
  const call = async (path: string, init: RequestInit) => {
    const res = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(Math.max(1000, Math.min(30_000, deadline - Date.now()))) });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const queued = await call("/run", { method: "POST", body: JSON.stringify({ input: { audio_base64: audio } }) });
  const id = String(queued.id);
  let last: Record<string, unknown> = queued;
  while (Date.now() < deadline) {
    last = await call(`/status/${encodeURIComponent(id)}`, { method: "GET" });
    if (last.status === "COMPLETED") return { id, ok: true, final: last };
    if (last.status === "FAILED" || last.status === "CANCELLED" || last.status === "TIMED_OUT") return { id, ok: false, final: last };
    await sleep(POLL_MS);
  }
  return { id, ok: false, final: last };
}

export async function pushAndWait(o: PushOptions): Promise<PushOutcome> {
  const deadline = Date.now() + o.timeoutMs;
  return o.runpod ? pushToRunpod({ ...o, runpod: o.runpod }, deadline) : pushToQueue(o, deadline);
}

class UsageError extends Error {}

function parse(argv: string[]): PushOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { "timeout-s": { type: "string", default: "300" }, runpod: { type: "string" }, "api-key": { type: "string" } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError("give at most one file");
  const timeoutS = Number(v["timeout-s"]);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError("--timeout-s must be a positive number");
  if (v.runpod !== undefined && !v["api-key"]) throw new UsageError("--runpod needs --api-key");
  return {
    file: positionals[0] ?? SAMPLE_VOICE_MESSAGE,
    timeoutMs: timeoutS * 1000,
    ...(v.runpod !== undefined ? { runpod: { baseUrl: v.runpod, apiKey: v["api-key"]! } } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  const opts = parse(argv);
  const outcome = await pushAndWait(opts);
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  if (!outcome.ok) process.stderr.write(`job ${outcome.id} did not finish successfully within ${opts.timeoutMs / 1000} s\n`);
  return outcome.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof UsageError) process.stderr.write("usage: npm run compose:push -- [FILE] [--timeout-s 300] [--runpod BASE_URL --api-key KEY]\n");
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
