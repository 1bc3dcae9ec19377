// Shared fixtures: the REAL sidecar process running on the faster-whisper TEST DOUBLE
// (PYTHONPATH=test/doubles), a private model cache, and the double's call log.
import { expect } from "vitest";
import { WorkerError } from "../../handler/errors.ts";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger } from "../../handler/log/logger.ts";
import { SidecarSpeechEngine, type EngineOptions } from "../../handler/asr/engine.ts";
import { REPO_ROOT, SIDECAR_SCRIPT } from "../../handler/asr/python.ts";

export const DOUBLES = join(REPO_ROOT, "test", "doubles");
export const PYTHON = process.env.SIDECAR_PYTHON ?? "python3";

/** 16 kHz mono float32 LE: a quiet tone (the double treats silence as no speech). */
export function tone(seconds: number, amplitude = 0.3): Buffer {
  const n = Math.round(seconds * 16000);
  const buf = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) buf.writeFloatLE(amplitude * Math.sin((2 * Math.PI * 440 * i) / 16000), i * 4);
  return buf;
}

export interface Harness {
  dir: string;
  modelDir: string;
  callLog: string;
  loadLog: string;
  logLines: string[];
  logger: Logger;
  engine: SidecarSpeechEngine;
  /** Faults for the double, read at every call (a restarted sidecar sees them too). */
  setFault(spec: string): void;
  calls(): CallRecord[];
  /** Each decode the double started: { temperature, index, pid }. */
  decodes(): { temperature: number; index: number; pid: number }[];
  loads(): { event: string; model: { model_size_or_path: string; local_files_only: boolean }; device: string; compute_type: string; pid: number }[];
  cleanup(): Promise<void>;
}

export interface CallRecord {
  api: string;
  kwargs: Record<string, unknown>;
  effective: Record<string, unknown>;
  model: Record<string, unknown>;
  device: string;
  compute_type: string;
  audio_samples: number;
  audio_sha256: string;
  audio_dtype: string;
  pid: number;
}

function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

export function makeHarness(opts: { env?: Record<string, string>; engine?: Partial<EngineOptions> } = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), "asr-test-"));
  const modelDir = join(dir, "models");
  const callLog = join(dir, "calls.jsonl");
  const loadLog = join(dir, "loads.jsonl");
  const decodeLog = join(dir, "decodes.jsonl");
  const faultFile = join(dir, "fault");
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (l: string) => void logLines.push(l) } });
  const engine = new SidecarSpeechEngine({
    python: PYTHON,
    script: SIDECAR_SCRIPT,
    env: {
      PYTHONPATH: DOUBLES,
      FAKE_FW_CALL_LOG: callLog,
      FAKE_FW_LOAD_LOG: loadLog,
      FAKE_FW_DECODE_LOG: decodeLog,
      FAKE_FW_FAULT_FILE: faultFile,
      ...opts.env,
    },
    device: "cpu",
    computeType: "int8",
    cpuThreads: 2,
    cpuComputeType: "int8",
    fallbackReason: null,
    defaultModel: "tiny",
    modelDir,
    maxCachedModels: 1,
    modelIdleUnloadMs: 0,
    allowDownload: true,
    timeouts: { startMs: 30_000, loadMs: 30_000, baseMs: 20_000, cancelGraceMs: 3000 },
    // The double's engine time is what FAKE_FW_MS_PER_AUDIO_S says: a small first estimate.
    cost: { windowMs: { cpu: 200, cuda: 200 }, fallbackBudget: 3 },
    logger,
    ...opts.engine,
  });
  return {
    dir,
    modelDir,
    callLog,
    loadLog,
    logLines,
    logger,
    engine,
    setFault: (spec) => writeFileSync(faultFile, spec),
    calls: () => readJsonLines<CallRecord>(callLog),
    loads: () => readJsonLines(loadLog),
    decodes: () => readJsonLines(decodeLog),
    cleanup: async () => {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The WorkerError a job failed with (the test fails if it did not fail, or with something else). */
export async function rejection(p: Promise<unknown>): Promise<WorkerError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkerError);
    return err as WorkerError;
  }
  throw new Error("expected the job to fail");
}
