// `npm start`: picks a mode and says why, checks the device (CUDA preflight), starts the sidecar, and runs.
//   RunPod mode:  RUNPOD_WEBHOOK_GET_JOB is set.
//   Queue mode:   UPSTASH_REDIS_REST_URL is set.
//   Local default: neither; the local stack (redis-server + REST server) is started and consumed.
//   --test_input '<json>' (or ./test_input.json) and --serve-api [--port]: RunPod's test modes.
import { existsSync } from "node:fs";
import { loadConfigOrExit } from "./config/load.ts";
import { Secret } from "./config/secret.ts";
import { createLogger } from "./log/logger.ts";
import { WorkerError } from "./errors.ts";
import { openQueue, resolveConnection } from "./queue/index.ts";
import { runRunpodWorker } from "./runpod/worker.ts";
import { parseTestModeArgs, runTestInput, serveApi } from "./runpod/test-modes/index.ts";
import { startLocalStack } from "./local-stack/stack.ts";
import { removeLocalStackInfo, writeLocalStackInfo } from "./local-stack/stack-file.ts";
import { selectMode } from "./worker/mode.ts";
import { serveLocalDashboard } from "./dashboard/index.ts";
import { startRuntime } from "./worker/runtime.ts";
import { brokenGpu, pipelineRunner, type RunnerHooks } from "./worker/runner.ts";
import { consumerFor, runQueueMode } from "./worker/queue-mode.ts";
import { VERSION } from "./worker/version.ts";
import type { Config } from "./config/schema.ts";
import type { Logger } from "./log/logger.ts";

const cfg = loadConfigOrExit();
const log = createLogger({ level: cfg.LOG_LEVEL, format: cfg.LOG_FORMAT });

let testMode: ReturnType<typeof parseTestModeArgs>;
try {
  testMode = parseTestModeArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\nusage: npm start [-- --test_input '<json>' | --serve-api [--port N] [--host H]]\n`);
  process.exit(2);
}
const mode = selectMode(cfg);
if (!testMode && mode.kind !== "runpod" && existsSync("test_input.json")) testMode = { kind: "test_input" };

const stop = new AbortController();
let ready = false;
let signals = 0;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    signals++;
    // Nothing is in flight before the first job can be taken (preflight, sidecar start): leave at
    // once; children are killed on exit. A second Ctrl-C leaves now too.
    if (!ready) {
      log.info({ signal: sig }, "stopping before any work was taken");
      process.exit(0);
    }
    if (signals > 1) process.exit(130);
    log.info({ signal: sig }, "stopping: no new jobs; running ones may finish");
    stop.abort();
  });
}

/** RunPod runner hooks that need the Upstash queue: drain jobs, results under job_id, undeliverable results. */
function redisHooks(
  c: Config,
  l: Logger,
  runtime: Awaited<ReturnType<typeof startRuntime>>,
): RunnerHooks & { onUndeliverable?: (id: string, body: unknown) => Promise<void> } {
  if (!c.UPSTASH_REDIS_REST_URL) return {};
  const queue = openQueue(c, resolveConnection(c));
  const keep = (key: string, value: unknown) => queue.redis.set(`${queue.prefix}${key}`, JSON.stringify(value), { ex: c.RESULT_TTL_S }).then(() => undefined);
  let drainer: ReturnType<typeof consumerFor> | null = null; // one registry entry for every drain job
  return {
    drain: async (limits, signal, stopping) => {
      drainer ??= consumerFor(c, runtime, l, queue, "runpod-drain");
      const { consumer } = drainer;
      // A job-stop hands the queue job in hand back; a shutdown only stops claiming (the job in
      // hand finishes, as every RunPod job does on SIGTERM).
      const onAbort = () => consumer.abortCurrent();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        const deadline = limits.max_seconds === undefined ? undefined : Date.now() + limits.max_seconds * 1000;
        const counts = await consumer.run(AbortSignal.any([signal, stopping]), { untilEmpty: true, maxJobs: limits.max_jobs, deadline });
        return { drained: counts };
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
    storeResult: (jobId, output) => keep(`result:${jobId}`, output),
    // Results the RunPod worker gives up on (refused, too big for its spool, or left in it at the end).
    onUndeliverable: async (jobId, body) => {
      await keep(`runpod-undelivered:${jobId}`, body);
      l.error({ jobId, key: `${queue.prefix}runpod-undelivered:${jobId}` }, "RunPod result kept in Redis after its post failed");
    },
  };
}

async function main(): Promise<number> {
  log.info({ version: VERSION, mode: testMode ? testMode.kind : mode.kind }, testMode ? `RunPod test mode: ${testMode.kind}` : mode.reason);
  const runtime = await startRuntime(cfg, log);
  ready = true;
  try {
    if (testMode?.kind === "test_input") return await runTestInput(pipelineRunner(runtime.deps), testMode.json, { log, signal: stop.signal });
    if (testMode?.kind === "serve_api") {
      const api = await serveApi(pipelineRunner(runtime.deps), { port: testMode.port, host: testMode.host, log, concurrency: cfg.CONCURRENCY });
      log.info({ url: api.url }, "RunPod test API listening");
      await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
      await api.close();
      return 0;
    }
    if (mode.kind === "runpod") {
      const hooks = redisHooks(cfg, log, runtime);
      const summary = await runRunpodWorker(cfg, pipelineRunner(runtime.deps, hooks), {
        log,
        signal: stop.signal,
        onUndeliverable: hooks.onUndeliverable,
        hostBroken: brokenGpu(runtime),
      });
      log.info({ summary }, "RunPod worker stopped");
      return 0;
    }
    if (mode.kind === "queue") {
      await runQueueMode(cfg, runtime, log, resolveConnection(cfg), stop.signal, "queue");
      return 0;
    }
    const stack = await startLocalStack({ redisBin: cfg.REDIS_SERVER_BIN, restPort: cfg.LOCAL_REST_PORT });
    writeLocalStackInfo({ ...stack.env, pid: process.pid });
    log.info({ UPSTASH_REDIS_REST_URL: stack.env.UPSTASH_REDIS_REST_URL }, "local stack started; push work with `npm run queue -- push <file>`");
    const conn = { url: stack.env.UPSTASH_REDIS_REST_URL, token: new Secret(stack.env.UPSTASH_REDIS_REST_TOKEN), timeoutMs: cfg.REDIS_COMMAND_TIMEOUT_MS };
    const dashboard = await serveLocalDashboard(cfg, conn, log).catch(async (err: unknown) => {
      removeLocalStackInfo();
      await stack.stop();
      throw err;
    });
    try {
      await runQueueMode(cfg, runtime, log, conn, stop.signal, "local");
    } finally {
      await dashboard?.close();
      removeLocalStackInfo();
      await stack.stop();
    }
    return 0;
  } finally {
    await runtime.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.fatal({ err }, "worker failed to start or crashed");
    process.exit(err instanceof WorkerError && !err.retryable ? 2 : 1);
  },
);
