// The worker benchmark (not a test): what the worker costs around the engine, on the local
// stack with real parts: redis-server behind the Upstash-compatible REST server (which counts
// every billed command), real ffmpeg, the real worker process and its real sidecar on the
// faster_whisper test double with a known compute time per audio second, and a fake Gemini
// with a known delay. Known engine and model time is subtracted: the figures measure the worker.
//   npm run bench [-- --quick] [-- --json] [--engine-ms-per-audio-s 50] [--llm-delay-ms 50]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeLongSpeechOpus } from "../harness/audio-fixtures/generate.ts";
import { startFakeGemini } from "../harness/gemini-server.ts";
import { printTable } from "./table.ts";
import { machineInfo } from "./bench/machine.ts";
import { idleFigure, watchCounter } from "./bench/idle.ts";
import {
  decodeBench,
  overheadRun,
  startEngineAlone,
  startTimed,
  workerThroughputRun,
  type Clip,
  type EngineModel,
  type OverheadRun,
  type ReadySample,
} from "./bench/measure.ts";
import { rssRun, smallJobs } from "./bench/memory.ts";
import { newPrefix, startBenchStack } from "./bench/stack.ts";
import { median, round } from "./bench/stats.ts";
import { startWorkerProcess, type WorkerProcess } from "./bench/worker-process.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    "engine-ms-per-audio-s": { type: "string", default: "50" },
    "llm-delay-ms": { type: "string", default: "50" },
  },
});
const quick = values.quick;
const say = (s: string) => (values.json ? process.stderr : process.stdout).write(s);

/** The default IDLE_POLL_MAX_MS and WORKER_HEARTBEAT_MS: the idle bill is quoted at these. */
const DEFAULT_IDLE_MAX_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 30_000;

export const SETTINGS = {
  mode: quick ? "quick" : "full",
  engine_ms_per_audio_s: Number(values["engine-ms-per-audio-s"]),
  llm_delay_ms: Number(values["llm-delay-ms"]),
  clip_seconds: [6, 10, 15],
  runs: quick ? 1 : 3,
  overhead_jobs_per_run: quick ? 12 : 50,
  e2e_clips_per_run: quick ? 6 : 15,
  ready_starts: quick ? 1 : 3,
  decode_runs: quick ? 5 : 15,
  rss_warmup_jobs: quick ? 10 : 50,
  rss_jobs: quick ? 100 : 1000,
  rss_clip_seconds: 1,
  // Quick mode idles at a shorter maximum (same heartbeat ratio) and scales to the default.
  idle_poll_max_ms: quick ? 2000 : DEFAULT_IDLE_MAX_MS,
  idle_heartbeat_ms: quick ? 6000 : DEFAULT_HEARTBEAT_MS,
  worker: { CONCURRENCY: 1, LEASE_MS: 60_000, LOG_LEVEL: "info", DEVICE: "auto (preflight runs; no GPU here means CPU)" },
};

export const TARGETS = {
  overhead_ms_p50: { max: 10 },
  overhead_ms_p99: { max: 50 },
  e2e_vs_engine: { min: 0.95 },
  upstash_cmds_per_job: { max: 4 },
  upstash_cmds_per_idle_hour: { max: 400 },
  decode_60s_opus_ms: { max: 150 },
  ready_ms: {},
  rss_growth_pct_1000_jobs: { max: 5 },
} as const;
export type FigureName = keyof typeof TARGETS;

async function makeClips(dir: string, seconds: number[]): Promise<Clip[]> {
  const out: Clip[] = [];
  for (const s of seconds) {
    const file = join(dir, `speech-${s}s.ogg`);
    await makeLongSpeechOpus(file, s);
    out.push({ file, seconds: s, base64: (await readFile(file)).toString("base64") });
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const machine = await machineInfo();
  const dir = await mkdtemp(join(tmpdir(), "vw-bench-"));
  const engine: EngineModel = { msPerAudioS: SETTINGS.engine_ms_per_audio_s, text: "Please call me back about the invoice tomorrow." };
  const geminiKey = `AIzaBench-${Date.now()}-0123456789abcdefghij`;
  const stack = await startBenchStack();
  const gemini = await startFakeGemini({ apiKey: geminiKey });
  const workers: WorkerProcess[] = [];
  try {
    const clips = await makeClips(dir, SETTINGS.clip_seconds);
    const [small] = await makeClips(dir, [SETTINGS.rss_clip_seconds]);

    say("decode benchmark (scripts/bench-decode.ts)...\n");
    const decode = await decodeBench(SETTINGS.decode_runs);

    const prefix = newPrefix("bench");
    const workerEnv = {
      ...stack.workerEnv(),
      QUEUE_PREFIX: prefix,
      DEVICE: "auto",
      PROBE_CACHE_DIR: join(dir, "preflight-cache"),
      AUDIO_TMP_DIR: dir,
      LOG_LEVEL: "info",
      FAKE_FW_MS_PER_AUDIO_S: String(engine.msPerAudioS),
      FAKE_FW_TEXT: engine.text,
      GEMINI_API_KEY: geminiKey,
      GEMINI_BASE_URL: gemini.baseUrl,
      IDLE_POLL_MIN_MS: "50",
      IDLE_POLL_MAX_MS: "500",
    };
    say(`start to ready (${SETTINGS.ready_starts} starts)...\n`);
    const ready: ReadySample[] = [];
    let worker: WorkerProcess | null = null;
    for (let i = 0; i < SETTINGS.ready_starts; i++) {
      if (worker) await worker.stop();
      const started = await startTimed(workerEnv);
      worker = started.worker;
      workers.push(worker);
      ready.push(started.sample);
    }
    const w1 = worker!;

    // The idle worker: its own REST server and counter, left alone while the rest runs.
    const idleRest = await stack.extraRest();
    const idleWorker = startWorkerProcess({
      UPSTASH_REDIS_REST_URL: idleRest.url,
      UPSTASH_REDIS_REST_TOKEN: stack.token,
      QUEUE_PREFIX: newPrefix("bench-idle"),
      LOG_LEVEL: "info",
      IDLE_POLL_MAX_MS: String(SETTINGS.idle_poll_max_ms),
      WORKER_HEARTBEAT_MS: String(SETTINGS.idle_heartbeat_ms),
    });
    workers.push(idleWorker);
    await idleWorker.waitFor(/consuming the queue/, 120_000);
    const idleWatch = watchCounter(idleRest);

    say(`per-job overhead (${SETTINGS.runs} x ${SETTINGS.overhead_jobs_per_run} jobs)...\n`);
    await smallJobs(stack, prefix, clips[0]!, 3, "warm"); // model load, first ffmpeg runs
    const overhead: OverheadRun[] = [];
    for (let r = 0; r < SETTINGS.runs; r++) {
      overhead.push(await overheadRun(stack, prefix, clips, SETTINGS.overhead_jobs_per_run, engine, gemini, SETTINGS.llm_delay_ms, `oh${r}`));
    }

    say(`whole worker vs engine alone (${SETTINGS.runs} x ${SETTINGS.e2e_clips_per_run} clips)...\n`);
    const e2eClips = Array.from({ length: SETTINGS.e2e_clips_per_run }, (_, i) => clips[i % clips.length]!);
    const alone = await startEngineAlone(e2eClips, engine, dir);
    const e2e: Array<{ engine_ms: number; worker_ms: number; ratio: number; cold_ratio: number; engine_alone_overhead_ms_per_call: number }> = [];
    try {
      for (let r = 0; r < SETTINGS.runs; r++) {
        const perClip = await alone.run();
        const w = await workerThroughputRun(stack, prefix, e2eClips, `e2e${r}`);
        // Steady state: the worker's first completion to its last covers clips 2..N; so does the engine's sum.
        const engineMs = perClip.slice(1).reduce((a, b) => a + b, 0);
        const allMs = perClip.reduce((a, b) => a + b, 0);
        const floor = (allMs - alone.computeMs.reduce((a, b) => a + b, 0)) / perClip.length;
        e2e.push({
          engine_ms: round(engineMs),
          worker_ms: w.steadyMs,
          ratio: engineMs / w.steadyMs,
          cold_ratio: allMs / w.coldMs,
          engine_alone_overhead_ms_per_call: round(floor),
        });
      }
    } finally {
      await alone.stop();
    }

    say(`memory (${SETTINGS.rss_warmup_jobs} warm-up + ${SETTINGS.rss_jobs} small jobs)...\n`);
    await smallJobs(stack, prefix, small!, SETTINGS.rss_warmup_jobs, "rss-warm");
    const rss = await rssRun(stack, prefix, w1, small!, SETTINGS.rss_jobs, "rss");
    // The heap's saw-tooth (tens of MB) swamps two single readings: the figure is the fitted line's
    // rise over 1000 jobs (quick mode: extrapolated from fewer), relative to its start.
    const rssGrowthPct = ((rss.slopeKiBPerJob * 1000) / rss.interceptKiB) * 100;

    idleWatch.stop();
    const idle = idleFigure(idleWatch.times, SETTINGS.idle_poll_max_ms, DEFAULT_IDLE_MAX_MS);

    const figures: Record<FigureName, number> = {
      overhead_ms_p50: round(median(overhead.map((o) => o.p50))),
      overhead_ms_p99: round(median(overhead.map((o) => o.p99))),
      e2e_vs_engine: round(median(e2e.map((e) => e.ratio)), 3),
      upstash_cmds_per_job: round(median(overhead.map((o) => o.cmdsPerJob)), 2),
      upstash_cmds_per_idle_hour: Math.round(idle.perHour),
      decode_60s_opus_ms: decode.medianDecodeMs,
      ready_ms: Math.round(median(ready.map((r) => r.wallMs))),
      rss_growth_pct_1000_jobs: round(rssGrowthPct, 2),
    };
    const met = Object.fromEntries(
      (Object.keys(TARGETS) as FigureName[]).map((k) => {
        const t = TARGETS[k] as { max?: number; min?: number };
        const v = figures[k];
        return [k, t.max !== undefined ? v <= t.max : t.min !== undefined ? v >= t.min : null];
      }),
    );
    const details = {
      overhead_runs: overhead.map((o) => ({
        ...o,
        p50: round(o.p50),
        p99: round(o.p99),
        p50ExclLlmStep: round(o.p50ExclLlmStep),
        p99ExclLlmStep: round(o.p99ExclLlmStep),
        cmdsPerJob: round(o.cmdsPerJob, 2),
        requestsPerJob: round(o.requestsPerJob, 2),
        engineIpcMs: round(o.engineIpcMs),
        llmClientMs: round(o.llmClientMs),
      })),
      e2e_runs: e2e.map((e) => ({ ...e, ratio: round(e.ratio, 3), cold_ratio: round(e.cold_ratio, 3) })),
      e2e_note:
        "steady state: the worker's first completion to its last (clips 2..N) vs the engine alone on the same clips; cold_ratio includes filling the pipeline (first claim and first decode)",
      overhead_note:
        "per job in steady state: time between two completions minus the engine's known compute (FAKE_FW_MS_PER_AUDIO_S x audio seconds) and the fake Gemini's known delay; jobs with analysis",
      ready_runs: ready.map((r) => ({ wall_ms: Math.round(r.wallMs), logged_probe_and_sidecar_ms: r.loggedMs })),
      decode: decode,
      rss: {
        ...rss,
        slopeKiBPerJob: round(rss.slopeKiBPerJob, 3),
        interceptKiB: Math.round(rss.interceptKiB),
        two_readings_growth_pct: round(((rss.afterKiB - rss.beforeKiB) / rss.beforeKiB) * 100, 2),
        note: quick
          ? `quick mode: ${SETTINGS.rss_jobs} jobs; RSS fitted over them (least squares), extrapolated to 1000 jobs`
          : "1000 jobs; RSS fitted over them (least squares): its rise over the 1000 jobs relative to its start",
      },
      idle: {
        ...idle,
        cmdsPerPoll: round(idle.cmdsPerPoll, 2),
        perHour: round(idle.perHour, 1),
        quoted_at_max_ms: DEFAULT_IDLE_MAX_MS,
        note:
          SETTINGS.idle_poll_max_ms === DEFAULT_IDLE_MAX_MS
            ? "measured at the default 10 s maximum backoff"
            : `quick mode: measured at a ${SETTINGS.idle_poll_max_ms} ms maximum backoff and scaled to the default 10 s`,
      },
      elapsed_s: round((performance.now() - t0) / 1000, 1),
    };
    const out = { ...figures, targets: TARGETS, met, machine, settings: SETTINGS, details };

    if (values.json) {
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return;
    }
    say(`\nvoice-worker benchmark (${SETTINGS.mode} mode, ${details.elapsed_s} s)\n`);
    say(
      `machine: ${machine.cpu_model}, ${machine.cores} cores, ${machine.memory_gib} GiB, load ${machine.load_avg_1m}; node ${machine.node}, ffmpeg ${machine.ffmpeg}, python ${machine.python}, redis ${machine.redis_server}\n`,
    );
    say(
      `engine: faster_whisper test double, ${SETTINGS.engine_ms_per_audio_s} ms per audio second; Gemini: fake, ${SETTINGS.llm_delay_ms} ms per request; clips ${SETTINGS.clip_seconds.join("/")} s ogg/opus; medians of ${SETTINGS.runs} run(s)\n\n`,
    );
    printTable(
      (Object.keys(TARGETS) as FigureName[]).map((k) => {
        const t = TARGETS[k] as { max?: number; min?: number };
        return {
          figure: k,
          value: figures[k],
          target: t.max !== undefined ? `<= ${t.max}` : t.min !== undefined ? `>= ${t.min}` : "-",
          met: met[k] === null ? "-" : met[k] ? "yes" : "NO",
        };
      }),
      say,
    );
    say(
      `\noverhead parts (median): sidecar round trip beyond compute ${round(median(overhead.map((o) => o.engineIpcMs)))} ms (the same sidecar driven alone: ${round(median(e2e.map((e) => e.engine_alone_overhead_ms_per_call)))} ms), LLM client beyond the model ${round(median(overhead.map((o) => o.llmClientMs)))} ms; counting the whole analysis step as LLM time: p50 ${round(median(overhead.map((o) => o.p50ExclLlmStep)))} ms, p99 ${round(median(overhead.map((o) => o.p99ExclLlmStep)))} ms\n`,
    );
    say(`idle: ${idle.polls} polls, ${round(idle.cmdsPerPoll, 2)} commands per poll (${details.idle.note})\n`);
    say(`memory: ${details.rss.note}; worker RSS ${rss.beforeKiB} -> ${rss.afterKiB} KiB (two readings: ${details.rss.two_readings_growth_pct} %)\n`);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await gemini.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
