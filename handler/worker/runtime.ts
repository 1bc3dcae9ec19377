// Everything a job needs, started once: the device decision (CUDA preflight), the sidecar,
// the analyzer and the audio limits.
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { audioLimitsFromConfig, removeOrphanJobDirs } from "../audio/index.ts";
import { createSpeechEngine, type SpeechEngine } from "../asr/index.ts";
import { createAnalyzer } from "../analysis/index.ts";
import { decideDevice, type DeviceDecision } from "../preflight/device-policy.ts";
import { preflightOptionsFromConfig } from "../preflight/config.ts";
import { runPreflight, type PreflightReport } from "../preflight/preflight.ts";
import { forgetCachedVerdict, preflightCachePath } from "../preflight/cache.ts";
import type { PipelineDeps } from "../pipeline/pipeline.ts";

export interface Runtime {
  deps: PipelineDeps;
  engine: SpeechEngine;
  decision: DeviceDecision;
  /** Milliseconds from start to ready (preflight and sidecar start included). */
  readyMs: number;
  stop(): Promise<void>;
}

export async function startRuntime(cfg: Config, log: Logger): Promise<Runtime> {
  const t0 = performance.now();
  const audioLimits = audioLimitsFromConfig(cfg);
  const orphans = await removeOrphanJobDirs(audioLimits.tempDir);
  if (orphans > 0) log.info({ removed: orphans, dir: audioLimits.tempDir }, "removed audio temp folders left by killed workers");
  let report: PreflightReport | null = null;
  const decision = await decideDevice({
    device: cfg.DEVICE,
    cpuThreads: cfg.CPU_THREADS,
    log,
    preflight: async () => (report = await runPreflight(preflightOptionsFromConfig(cfg, process.env))),
  });
  // glibc reads LD_LIBRARY_PATH only at process start: the sidecar gets, at spawn, the one the
  // preflight built from the pip NVIDIA packages and proved with a real CUDA run.
  const env: Record<string, string> = {};
  const ldLibraryPath = (report as PreflightReport | null)?.facts.ldLibraryPath;
  if (decision.device === "cuda" && ldLibraryPath) env.LD_LIBRARY_PATH = ldLibraryPath;
  const engine = createSpeechEngine(
    { ...cfg, CPU_THREADS: decision.cpu_threads },
    { device: decision.device, computeType: decision.compute_type, fallbackReason: decision.fallback_reason },
    {
      logger: log,
      env,
      // A cached "ok" verdict just proved wrong: the next start must run the preflight again.
      onCudaFailure: () => forgetCachedVerdict(preflightCachePath(process.env, cfg.PROBE_CACHE_DIR)),
    },
  );
  const analyzer = createAnalyzer(cfg, log);
  const info = await engine.start();
  const readyMs = Math.round(performance.now() - t0);
  log.info(
    {
      device: info.device,
      compute_type: info.compute_type,
      fallback_reason: info.fallback_reason,
      faster_whisper: info.faster_whisper,
      ctranslate2: info.ctranslate2,
      ready_ms: readyMs,
    },
    "speech engine ready",
  );
  return {
    deps: { audioLimits, engine, analyzer },
    engine,
    decision,
    readyMs,
    stop: () => engine.stop(),
  };
}
