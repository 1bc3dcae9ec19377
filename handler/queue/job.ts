import { z } from "zod";
import type { ErrorInfo } from "../errors.ts";

export const PRIORITIES = ["high", "normal", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];
export const JOB_STATES = ["queued", "active", "retrying", "done", "failed", "dead"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** What a job id may be: it becomes part of Redis keys and of the CLI's arguments. */
export const JOB_ID_RULE = "a job id is 1-128 characters of letters, digits, '.', '_', ':' or '-'";
export function isJobId(id: string): boolean {
  return /^[A-Za-z0-9._:-]{1,128}$/.test(id);
}

/** Ready-set scores: one band per priority, FIFO inside a band (enqueue.lua breaks same-millisecond ties by arrival). */
export const PRIORITY_BAND = 10_000_000_000_000; // 1e13 ms, far beyond any epoch-ms timestamp
export function readyScore(priority: Priority, enqueuedAtMs: number): string {
  return String(PRIORITIES.indexOf(priority) * PRIORITY_BAND + enqueuedAtMs);
}

/**
 * What a queued job carries: the worker-faster_whisper-style `input` (audio reference and
 * options; validated in depth by the pipeline) — exactly one audio source.
 */
export const queuedJobSchema = z
  .object({
    input: z
      .object({
        audio: z.string().optional(),
        audio_base64: z.string().optional(),
        audio_key: z.string().optional(),
      })
      .catchall(z.unknown())
      .refine((i) => [i.audio, i.audio_base64, i.audio_key].filter((v) => v !== undefined).length === 1, {
        message: "needs exactly one of audio (URL), audio_base64 or audio_key",
      }),
  })
  .strict();
export type QueuedJob = z.infer<typeof queuedJobSchema>;

export interface ClaimedJob {
  id: string;
  /** The payload as stored: parsed by the consumer (bad JSON goes to the dead letter). */
  rawPayload: string;
  attempt: number;
  priority: Priority;
  /** Lease token: proves ownership in extendLease/complete/fail/release. */
  token: string;
  /** Audio bytes pushed with the job by the queue CLI (base64 as stored), if any. */
  audioBase64: string | null;
  createdAt: number;
}

export interface JobStatus {
  id: string;
  state: JobState;
  priority: Priority;
  attempts: number;
  created_at: number;
  updated_at: number;
  claimed_at?: number;
  finished_at?: number;
  not_before?: number;
  lease_until?: number;
  worker?: string;
  stage?: string;
  progress?: number;
  last_error?: ErrorInfo;
}

export type FailOutcome = "retrying" | "dead" | "failed";
