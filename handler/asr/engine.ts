// The speech engine: one long-lived sidecar, one job at a time, restarted when it dies. A CUDA
// failure mid-job (SIGABRT, a CUDA library error) moves this process to CPU for good and the job
// is retried once there; a hang is killed at its deadline and reported as retryable.
import { WorkerError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { CostModel, type CostPlan, type CostSettings } from "./cost.ts";
import { ModelPolicy } from "./models.ts";
import { parseTranscribeOptions, temperatureCount, type TranscribeOptions, type TranscribeOptionsInput } from "./options.ts";
import { BYTES_PER_SAMPLE, PROTOCOL_VERSION, SAMPLE_RATE, type SidecarMessage } from "./protocol.ts";
import { JobGate } from "./gate.ts";
import { guarded } from "./guard.ts";
import { classifyFailure, describeExit } from "./recovery.ts";
import { SidecarProcess, type SpawnSpec } from "./sidecar-process.ts";
import type { Device, EngineInfo, SpeechEngine, Transcript, TranscribeRequest } from "./types.ts";

export interface EngineTimeouts {
  startMs: number;
  loadMs: number;
  /** Fixed part of a transcription's limits (see cost.ts). */
  baseMs: number;
  cancelGraceMs: number;
}

export interface EngineOptions {
  python: string;
  script: string;
  /** Extra environment for the sidecar (LD_LIBRARY_PATH from the preflight, PYTHONPATH, ...). */
  env?: Record<string, string>;
  device: Device;
  computeType: string;
  cpuThreads: number;
  /** Compute type after a CPU fallback. */
  cpuComputeType?: string;
  /** Set when the device decision already fell back to CPU (e.g. the preflight's verdict). */
  fallbackReason?: string | null;
  defaultModel: string;
  /** ALLOWED_MODELS; null: faster-whisper's standard names. The default model is always allowed. */
  allowedModels?: string[] | null;
  modelDir?: string;
  maxCachedModels: number;
  modelIdleUnloadMs: number;
  allowDownload: boolean;
  timeouts: EngineTimeouts;
  /** Engine time per window before measured, and the fallback budget (cost.ts). */
  cost?: Omit<CostSettings, "baseMs">;
  logger: Logger;
  /** Told once when CUDA fails at run time (the preflight's cached "ok" is then wrong: forget it). */
  onCudaFailure?: (reason: string) => void;
}

export const cancelled = () => new WorkerError("cancelled", "the transcription was cancelled", { retryable: false });
const stopped = () => new WorkerError("engine_stopped", "the speech engine is stopped", { retryable: true });

export class SidecarSpeechEngine implements SpeechEngine {
  private proc: SidecarProcess | null = null;
  private starting: Promise<SidecarProcess> | null = null;
  private device: Device;
  private computeType: string;
  private fallbackReason: string | null;
  private isStopped = false;
  private readonly gate = new JobGate();
  private readonly log: Logger;
  private current: EngineInfo;
  private readonly models: ModelPolicy;
  readonly cost: CostModel;
  /** The model the last job used: reloaded at once when the sidecar has to be restarted. */
  private lastModel: string | null = null;

  constructor(private readonly opts: EngineOptions) {
    this.device = opts.device;
    this.computeType = opts.computeType;
    this.fallbackReason = opts.fallbackReason ?? null;
    this.log = opts.logger.child({ stage: "asr" });
    this.current = this.baseInfo();
    this.models = new ModelPolicy(opts.defaultModel, opts.allowedModels ?? null);
    this.cost = new CostModel({ windowMs: { cpu: 3000, cuda: 2500 }, fallbackBudget: 3, ...opts.cost, baseMs: opts.timeouts.baseMs });
  }

  /**
   * Checks a job's options before anything is spent on it (download, decode, engine time):
   * every problem, a model outside ALLOWED_MODELS included, is a permanent invalid_input.
   */
  validate(input: TranscribeOptionsInput): TranscribeOptions & { model: string } {
    const options = parseTranscribeOptions(input);
    return { ...options, model: this.models.resolve(options.model) };
  }

  get info(): EngineInfo {
    return { ...this.current, device: this.device, compute_type: this.computeType, fallback_reason: this.fallbackReason };
  }

  async start(): Promise<EngineInfo> {
    await this.ensure();
    return this.info;
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    const proc = this.proc ?? (await this.starting?.catch(() => null)) ?? null;
    this.proc = null;
    if (proc) await proc.shutdown(this.opts.timeouts.cancelGraceMs);
    this.gate.wakeAll();
  }

  /** Loaded models and memory of the running sidecar (diagnostics and tests). */
  async status(): Promise<Extract<SidecarMessage, { type: "status" }>> {
    const proc = await this.ensure();
    return (await proc.request({ type: "status", id: `status-${Date.now()}-${Math.random()}` })) as Extract<SidecarMessage, { type: "status" }>;
  }

  async transcribe(req: TranscribeRequest): Promise<Transcript> {
    const options = this.validate(req.options);
    const audioS = req.pcm.length / (SAMPLE_RATE * BYTES_PER_SAMPLE);
    if (req.pcm.length === 0 || req.pcm.length % BYTES_PER_SAMPLE !== 0) {
      throw new WorkerError("invalid_audio", "PCM must be a non-empty sequence of float32 samples", { retryable: false });
    }
    if (Math.abs(audioS - req.durationS) > 1) {
      throw new WorkerError("invalid_audio", `PCM holds ${audioS.toFixed(2)} s of 16 kHz float32 audio but the duration says ${req.durationS} s`, {
        retryable: false,
      });
    }
    if (req.signal?.aborted) throw cancelled();
    await this.gate.acquire(req.signal, cancelled);
    try {
      if (this.isStopped) throw stopped();
      return await this.runJob(req, options, audioS);
    } finally {
      this.gate.release();
    }
  }

  // ----- one job -------------------------------------------------------------------------

  private async runJob(req: TranscribeRequest, options: TranscribeOptions & { model: string }, audioS: number): Promise<Transcript> {
    for (let attempt = 1; ; attempt++) {
      const proc = await this.ensure();
      const device = this.device;
      try {
        const result = await this.attempt(proc, req, options, audioS);
        return { ...result, device, compute_type: this.computeType, fallback_reason: this.fallbackReason, attempts: attempt };
      } catch (err) {
        if (this.isStopped) throw stopped();
        if (req.signal?.aborted) throw cancelled();
        const failure = classifyFailure(err, device);
        if (failure.cudaReason) {
          await this.fallBackToCpu(failure.cudaReason, proc);
          if (attempt === 1) continue;
        } else if (failure.restart || !proc.alive) {
          proc.kill("SIGKILL");
          this.restartSoon();
        }
        throw failure.error;
      }
    }
  }

  private async attempt(
    proc: SidecarProcess,
    req: TranscribeRequest,
    options: TranscribeOptions & { model: string },
    audioS: number,
  ): Promise<Omit<Transcript, "device" | "compute_type" | "fallback_reason" | "attempts">> {
    const model = options.model;
    const t = this.opts.timeouts;
    // Loading is its own step with its own deadline: a first download may take minutes.
    const loaded = await guarded(
      { proc, req, log: this.log, cancelGraceMs: this.opts.timeouts.cancelGraceMs, cancelled, onKilledByCancel: () => this.restartSoon() },
      "load",
      t.loadMs,
      "model_load_timeout",
      `loading model ${model}`,
      () => proc.request({ type: "load", id: `${req.requestId}#load`, model }),
    );
    if (loaded.type === "loaded") this.lastModel = model;
    const plan = this.plan(options, audioS);
    const passes = options.translate ? 2 : 1;
    const onEvent = (m: SidecarMessage) => {
      try {
        // With a translation the second pass continues the same progress bar.
        if (m.type === "progress") req.onProgress?.((m.phase === "translate" ? m.total_s : 0) + m.done_s, passes * m.total_s);
        if (m.type === "segment" && m.phase === "transcribe") req.onSegment?.(m.segment);
      } catch (err) {
        this.log.warn({ err }, "a transcription callback threw; ignored");
      }
    };
    const reply = await guarded(
      { proc, req, log: this.log, cancelGraceMs: this.opts.timeouts.cancelGraceMs, cancelled, onKilledByCancel: () => this.restartSoon() },
      "transcribe",
      plan.limitMs,
      "transcribe_timeout",
      `transcribing ${audioS.toFixed(1)} s of audio`,
      () =>
        proc.request(
          {
            type: "transcribe",
            id: req.requestId,
            pcm_bytes: req.pcm.length,
            options: { ...options, model },
            stream_segments: Boolean(req.onSegment),
            limits: { fallback_budget_ms: plan.budgetMs, deadline_ms: plan.deadlineMs },
          },
          req.pcm,
          onEvent,
        ),
    );
    if (reply.type !== "result" || loaded.type !== "loaded")
      throw new WorkerError("sidecar_protocol_error", `unexpected reply ${reply.type}`, { retryable: true });
    const result = reply.result as unknown as Omit<Transcript, "device" | "compute_type" | "fallback_reason" | "attempts">;
    const compute = { ...result.compute, budget_ms: plan.budgetMs, deadline_ms: plan.deadlineMs, limit_ms: plan.limitMs };
    this.cost.observe({
      device: this.device,
      model,
      engineMs: compute.engine_ms,
      decodes: compute.decodes,
      beamSize: options.beam_size,
      wordTimestamps: options.word_timestamps,
    });
    if (compute.fallback_capped || compute.truncated) this.log.warn({ requestId: req.requestId, compute }, "the job reached its compute budget");
    return { ...result, compute, model_cached: loaded.cached, timing_ms: { ...result.timing_ms, load: loaded.load_ms } };
  }

  /** The job's compute budget and limits on the device it runs on now (cost.ts). */
  plan(options: TranscribeOptions & { model: string }, audioS: number): CostPlan {
    return this.cost.plan({
      audioS,
      device: this.device,
      model: options.model,
      beamSize: options.beam_size,
      bestOf: options.best_of,
      temperatures: options.batch_size > 1 ? 1 : temperatureCount(options.temperature, options.temperature_increment_on_fallback),
      wordTimestamps: options.word_timestamps,
      translate: options.translate,
    });
  }

  // ----- the process -----------------------------------------------------------------------

  private async fallBackToCpu(reason: string, proc: SidecarProcess): Promise<void> {
    this.log.warn({ reason }, "CUDA failed in this process: switching the speech engine to CPU");
    this.device = "cpu";
    this.computeType = this.opts.cpuComputeType ?? "int8";
    this.fallbackReason = reason;
    this.opts.onCudaFailure?.(reason);
    if (this.proc === proc) this.proc = null;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  /**
   * A fresh sidecar right away, with the last job's model loading in it, so the next job pays at
   * most what is left of one model load instead of a start and a load.
   */
  private restartSoon(): void {
    if (this.isStopped) return;
    const model = this.lastModel;
    this.ensure()
      .then(async (proc) => {
        if (!model || !proc.alive) return;
        const reply = await proc.request({ type: "load", id: `warm-${Date.now()}-${Math.random()}`, model });
        if (reply.type === "loaded") this.log.info({ model, load_ms: reply.load_ms }, "model reloaded in the restarted sidecar");
      })
      .catch((err: unknown) => this.log.warn({ err }, "restarting the speech sidecar (or reloading its model) failed"));
  }

  private ensure(): Promise<SidecarProcess> {
    if (this.isStopped) return Promise.reject(stopped());
    if (this.proc?.alive) return Promise.resolve(this.proc);
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private async spawn(): Promise<SidecarProcess> {
    const o = this.opts;
    const spec: SpawnSpec = {
      python: o.python,
      script: o.script,
      env: o.env ?? {},
      args: [
        "--device",
        this.device,
        "--compute-type",
        this.computeType,
        "--cpu-threads",
        String(o.cpuThreads),
        "--max-cached-models",
        String(o.maxCachedModels),
        "--idle-unload-ms",
        String(o.modelIdleUnloadMs),
        ...(o.modelDir ? ["--model-dir", o.modelDir] : []),
        ...(o.allowDownload ? [] : ["--no-download"]),
      ],
    };
    const proc = new SidecarProcess(spec, this.log, (m) => {
      if (m.type === "unloaded") this.log.info({ model: m.model, reason: m.reason }, "model unloaded");
    });
    void proc.exited.then((exit) => {
      if (this.proc === proc) this.proc = null;
      if (!this.isStopped) this.log.warn({ pid: proc.pid, exit: describeExit(exit) }, "speech sidecar exited");
    });
    let hello;
    try {
      hello = await proc.waitHello(o.timeouts.startMs);
    } catch (err) {
      proc.kill("SIGKILL");
      const exit = await proc.exited;
      const detail = exit.spawnError ?? (exit.stderrTail.trim().split("\n").slice(-3).join(" | ") || (err instanceof Error ? err.message : String(err)));
      throw new WorkerError("sidecar_start_failed", `the speech sidecar (${o.python}) did not start: ${detail}`, { retryable: true, cause: err });
    }
    const fail = (code: string, message: string) => {
      proc.kill("SIGKILL");
      return new WorkerError(code, message, { retryable: true });
    };
    if (hello.protocol !== PROTOCOL_VERSION) throw fail("sidecar_start_failed", `sidecar protocol ${hello.protocol}, expected ${PROTOCOL_VERSION}`);
    if (!hello.faster_whisper)
      throw fail("engine_unavailable", `faster-whisper cannot be imported by ${o.python}: ${hello.error ?? "unknown error"} (run npm run setup)`);
    this.current = {
      ...this.baseInfo(),
      protocol: hello.protocol,
      python: hello.python,
      faster_whisper: hello.faster_whisper,
      ctranslate2: hello.ctranslate2,
      test_double: hello.test_double,
      pid: hello.pid,
      cpu_threads: hello.cpu_threads,
    };
    if (hello.test_double) this.log.warn("the sidecar loaded the faster-whisper TEST DOUBLE (PYTHONPATH=test/doubles): transcripts are fake");
    this.log.info({ ...this.info }, "speech sidecar ready");
    if (this.isStopped) {
      await proc.shutdown(o.timeouts.cancelGraceMs);
      throw stopped();
    }
    this.proc = proc;
    return proc;
  }

  private baseInfo(): EngineInfo {
    return {
      device: this.device,
      compute_type: this.computeType,
      cpu_threads: this.opts.cpuThreads,
      fallback_reason: this.fallbackReason,
      protocol: null,
      python: null,
      faster_whisper: null,
      ctranslate2: null,
      test_double: false,
      pid: null,
    };
  }
}
