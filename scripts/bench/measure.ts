// The benchmark's timing measurements (memory.ts and idle.ts hold the others). Each takes what
// it needs (a running worker, the stack, the clips) and returns plain numbers; bench.ts orders them.
import { execa } from "execa";
import { join } from "node:path";
import { loadConfig } from "../../handler/config/load.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { createSpeechEngine } from "../../handler/asr/index.ts";
import { loadVoiceMessage, type DecodedAudio } from "../../handler/audio/index.ts";
import type { FakeGemini } from "../../harness/gemini-server.ts";
import { reply } from "../../harness/gemini-server.ts";
import { runBatch, type FinishedJob } from "./jobs.ts";
import type { BenchStack } from "./stack.ts";
import { median, quantile } from "./stats.ts";
import { DOUBLE_ENV, REPO_ROOT, startWorkerProcess, type WorkerProcess } from "./worker-process.ts";

export interface Clip {
  file: string;
  seconds: number;
  base64: string;
}

export interface EngineModel {
  /** The test double's known compute time (FAKE_FW_MS_PER_AUDIO_S). */
  msPerAudioS: number;
  text: string;
}

// ----- start-up ------------------------------------------------------------------------------

export interface ReadySample {
  /** Spawn of the worker process to "consuming the queue" (node, config, preflight, sidecar start). */
  wallMs: number;
  /** The worker's own figure: preflight and sidecar start (its `ready_ms` log field). */
  loggedMs: number;
}

/** Starts a worker and times it to ready. The model loads at the first job, so it is not in here. */
export async function startTimed(env: Record<string, string>): Promise<{ worker: WorkerProcess; sample: ReadySample }> {
  const worker = startWorkerProcess(env);
  const line = await worker.waitFor(/consuming the queue/, 120_000);
  // pino's `time` is when the line was written, before it crossed the pipe.
  const wallMs = (JSON.parse(line) as { time: number }).time - worker.spawnedAtEpochMs;
  const engineLine = await worker.waitFor(/speech engine ready/, 1000);
  const loggedMs = Number((JSON.parse(engineLine) as { ready_ms?: number }).ready_ms ?? Number.NaN);
  return { worker, sample: { wallMs, loggedMs } };
}

// ----- decode ------------------------------------------------------------------------------------

/** scripts/bench-decode.ts (the audio stage's benchmark), run as it is. */
export async function decodeBench(runs: number): Promise<{ medianDecodeMs: number; medianProbeMs: number; audioSeconds: number }> {
  const r = await execa("node", ["--import", "tsx", join(REPO_ROOT, "scripts", "bench-decode.ts"), "--json", "--runs", String(runs)], {
    cwd: REPO_ROOT,
    stdin: "ignore",
    timeout: 300_000,
  });
  const last = r.stdout.trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(last) as { medianDecodeMs: number; medianProbeMs: number; audioSeconds: number };
}

// ----- per-job overhead ---------------------------------------------------------------------

export interface OverheadRun {
  jobs: number;
  p50: number;
  p99: number;
  /** The same with the whole measured analysis step (Gemini client included) taken as LLM time. */
  p50ExclLlmStep: number;
  p99ExclLlmStep: number;
  /** Commands counted at the workers' REST server per job (enqueue, claim, complete, polls). */
  cmdsPerJob: number;
  requestsPerJob: number;
  /** Medians of the parts: sidecar round trip beyond the engine's compute, LLM client beyond the model's delay. */
  engineIpcMs: number;
  llmClientMs: number;
  failed: number;
}

const engineMs = (job: FinishedJob, engine: EngineModel) => Number(job.result?.audio_duration_s ?? 0) * engine.msPerAudioS;

/**
 * Jobs back to back through the worker. In steady state the next job is prepared while this
 * one runs, so the time between two completions is what one job costs the worker; minus the
 * engine's known compute time and the fake model's known delay, it is the worker's overhead
 * (queue round trips, waiting for audio, sidecar transfer, LLM client, result storage).
 */
export async function overheadRun(
  stack: BenchStack,
  prefix: string,
  clips: Clip[],
  n: number,
  engine: EngineModel,
  gemini: FakeGemini,
  llmDelayMs: number,
  tag: string,
): Promise<OverheadRun> {
  const queue = stack.queue(prefix);
  const admin = stack.admin(prefix);
  gemini.script(...Array.from({ length: n }, () => reply.slow(llmDelayMs)));
  const jobs = Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, payload: { input: { audio_base64: clips[i % clips.length]!.base64 } } }));
  const before = stack.rest.counter.snapshot();
  const done = await runBatch(queue, admin, jobs, { timeoutMs: 60_000 + n * 10_000 });
  const after = stack.rest.counter.snapshot();
  const ok = done.filter((j) => j.status?.state === "done").sort((a, b) => a.status!.finished_at! - b.status!.finished_at!);
  const overheads: number[] = [];
  const exclStep: number[] = [];
  for (let i = 1; i < ok.length; i++) {
    const cycle = ok[i]!.status!.finished_at! - ok[i - 1]!.status!.finished_at!;
    overheads.push(cycle - engineMs(ok[i]!, engine) - llmDelayMs);
    exclStep.push(cycle - engineMs(ok[i]!, engine) - (ok[i]!.result!.timings as { analyze_ms: number }).analyze_ms);
  }
  const timings = ok.map((j) => j.result!.timings as Record<string, number>);
  const reqs = (s: typeof before) => Object.values(s.requests).reduce((a, b) => a + b, 0);
  return {
    jobs: n,
    p50: quantile(overheads, 0.5),
    p99: quantile(overheads, 0.99),
    p50ExclLlmStep: quantile(exclStep, 0.5),
    p99ExclLlmStep: quantile(exclStep, 0.99),
    cmdsPerJob: (after.total - before.total) / n,
    requestsPerJob: (reqs(after) - reqs(before)) / n,
    engineIpcMs: median(ok.map((j, i) => timings[i]!.transcribe_ms! - engineMs(j, engine))),
    llmClientMs: median(timings.map((t) => t.analyze_ms! - llmDelayMs)),
    failed: n - ok.length,
  };
}

// ----- whole worker vs engine alone ---------------------------------------------------------

export interface EngineAlone {
  /** Transcribes every clip once, back to back; the wall time of each call, in ms. */
  run(): Promise<number[]>;
  /** The double's known compute time for each clip, in ms. */
  computeMs: number[];
  stop(): Promise<void>;
}

/** The same sidecar on the same double, driven directly through the SpeechEngine, clips decoded beforehand. */
export async function startEngineAlone(clips: Clip[], engine: EngineModel, tempDir: string): Promise<EngineAlone> {
  const cfg = loadConfig({ DEVICE: "cpu", AUDIO_TMP_DIR: tempDir }, null);
  const log = createLogger({ level: "warn", destination: { write: () => undefined } });
  const limits = {
    maxBytes: 25 * 2 ** 20,
    maxDurationS: 900,
    connectTimeoutMs: 5000,
    downloadTimeoutMs: 60_000,
    decodeTimeoutMs: 60_000,
    allowPrivateUrls: false,
    maxRedirects: 3,
    ffmpegBin: "ffmpeg",
    ffprobeBin: "ffprobe",
    tempDir,
  };
  const decoded: DecodedAudio[] = [];
  for (const c of clips) decoded.push(await loadVoiceMessage({ kind: "base64", data: c.base64 }, limits));
  const eng = createSpeechEngine(
    cfg,
    { device: "cpu", computeType: "int8", fallbackReason: null },
    {
      logger: log,
      env: { PYTHONPATH: DOUBLE_ENV.PYTHONPATH!, FAKE_FW_MS_PER_AUDIO_S: String(engine.msPerAudioS), FAKE_FW_TEXT: engine.text },
    },
  );
  await eng.start();
  let n = 0;
  const once = async () => {
    const times: number[] = [];
    for (const a of decoded) {
      const t0 = performance.now();
      await eng.transcribe({ requestId: `alone-${n++}`, pcm: a.pcm, durationS: a.durationS, options: {} });
      times.push(performance.now() - t0);
    }
    return times;
  };
  await eng.transcribe({ requestId: "warm", pcm: decoded[0]!.pcm, durationS: decoded[0]!.durationS, options: {} }); // model load
  return { run: once, computeMs: decoded.map((a) => a.durationS * engine.msPerAudioS), stop: () => eng.stop() };
}

export interface WorkerThroughput {
  /** First completion to last: the steady state, N-1 jobs (the pipeline is full). */
  steadyMs: number;
  /** First claim to last completion: N jobs, filling the pipeline included. */
  coldMs: number;
}

/** The worker's wall time for the same clips, in the same order, analysis off. */
export async function workerThroughputRun(stack: BenchStack, prefix: string, clips: Clip[], tag: string): Promise<WorkerThroughput> {
  const jobs = clips.map((c, i) => ({ id: `${tag}-${i}`, payload: { input: { audio_base64: c.base64, llm: { enabled: false } } } }));
  const done = await runBatch(stack.queue(prefix), stack.admin(prefix), jobs, { timeoutMs: 60_000 + jobs.length * 10_000 });
  if (done.some((j) => j.status?.state !== "done"))
    throw new Error(`throughput run: ${done.filter((j) => j.status?.state !== "done").length} jobs did not finish`);
  const fin = done.map((j) => j.status!.finished_at!);
  const start = Math.min(...done.map((j) => j.status!.claimed_at!));
  return { steadyMs: Math.max(...fin) - Math.min(...fin), coldMs: Math.max(...fin) - start };
}
