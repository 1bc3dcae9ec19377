// The engine-time model of one transcription, from which its compute budget and time limits come.
//
// faster-whisper decodes 30 s windows; a window costs one decode when its first temperature
// passes the thresholds, and up to one more per fallback temperature when it does not. Measured
// with the real 1.2.1 on CPU int8 (tiny, 2 threads; shared/notes/faster-whisper-1.2.1-measured.md):
// a 10 s clip at beam 5 took 2.9 s, with the full default fallback 18-22 s (~6.5x: each sampling
// decode at best_of 5 about 1.1x the beam-5 decode), with word timestamps on top 59-94 s (3-4x);
// translation is a second pass. A GPU window is published at ~2.4 s (large-v2 fp16, beam 5).
//
// The per-window decode cost starts from the device's setting and is then learned from this
// worker's own jobs (per device and model), so a large model on a CPU gets limits that fit it.
import type { Device } from "./types.ts";

export const WINDOW_S = 30;
export const WORD_TIMESTAMPS_FACTOR = 4;
export const SAMPLING_DECODE_FACTOR = 1.1;
const LEARNING_RATE = 0.3;
/** The fallback is never stopped before this much engine time (timer noise on short jobs). */
export const MIN_BUDGET_MS = 2000;

export interface CostSettings {
  /** Engine time of one beam-5 decode of one 30 s window, before any job measured it. */
  windowMs: Record<Device, number>;
  /** The job's engine time may reach this many times its estimated cost without fallback. */
  fallbackBudget: number;
  /** Fixed part of the hard limit (start-up noise, a slow first call). */
  baseMs: number;
}

export interface CostInput {
  audioS: number;
  device: Device;
  model: string;
  beamSize: number;
  bestOf: number;
  /** Length of the temperature schedule (1 for the batched pipeline). */
  temperatures: number;
  wordTimestamps: boolean;
  translate: boolean;
}

export interface CostPlan {
  windows: number;
  /** One decode per window, every pass. */
  plainMs: number;
  /** Past this engine time the sidecar stops the temperature fallback (the best result so far is kept). */
  budgetMs: number;
  /** Past this engine time the sidecar returns what it has, flagged `truncated`. */
  deadlineMs: number;
  /** Past this wall time the sidecar is killed (a stuck native call). */
  limitMs: number;
}

export interface CostObservation {
  device: Device;
  model: string;
  engineMs: number;
  decodes: number;
  beamSize: number;
  wordTimestamps: boolean;
}

export function windowsOf(audioS: number): number {
  return Math.max(1, Math.ceil(audioS / WINDOW_S - 1e-9));
}

export class CostModel {
  private readonly learned = new Map<string, number>();

  constructor(private readonly settings: CostSettings) {}

  /** One beam-5 decode of one window, without word timestamps. */
  decodeMs(device: Device, model: string): number {
    return this.learned.get(`${device}|${model}`) ?? this.settings.windowMs[device];
  }

  plan(c: CostInput): CostPlan {
    const windows = windowsOf(c.audioS);
    const words = c.wordTimestamps ? WORD_TIMESTAMPS_FACTOR : 1;
    const base = this.decodeMs(c.device, c.model) * words;
    const decode = base * Math.max(1, c.beamSize / 5);
    const samplingDecode = base * SAMPLING_DECODE_FACTOR * Math.max(1, c.bestOf / 5);
    const plainMs = (c.translate ? 2 : 1) * windows * decode;
    const budgetMs = Math.max(MIN_BUDGET_MS, this.settings.fallbackBudget * plainMs);
    // With fallback: the budget, then the decode in flight, then one decode per window.
    const expectedMaxMs = (c.temperatures > 1 ? budgetMs + Math.max(decode, samplingDecode) : 0) + plainMs;
    // The model may be off for a device or model it has not seen yet: room before cutting (never
    // before baseMs of engine time), then time for the window in flight before killing.
    const deadlineMs = Math.max(this.settings.baseMs, 2 * expectedMaxMs);
    const limitMs = deadlineMs + this.settings.baseMs + expectedMaxMs;
    const round = Math.round;
    return { windows, plainMs: round(plainMs), budgetMs: round(budgetMs), deadlineMs: round(deadlineMs), limitMs: round(limitMs) };
  }

  /** Learns the per-window decode cost from a finished job. */
  observe(o: CostObservation): void {
    if (o.decodes <= 0 || o.engineMs <= 0) return;
    const perDecode = o.engineMs / o.decodes / Math.max(1, o.beamSize / 5) / (o.wordTimestamps ? WORD_TIMESTAMPS_FACTOR : 1);
    const key = `${o.device}|${o.model}`;
    const prev = this.learned.get(key);
    this.learned.set(key, prev === undefined ? perDecode : prev + LEARNING_RATE * (perDecode - prev));
  }
}
