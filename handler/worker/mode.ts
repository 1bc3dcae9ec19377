import type { Config } from "../config/schema.ts";

export type ModeKind = "runpod" | "queue" | "local";

export interface Mode {
  kind: ModeKind;
  /** Logged at start: which settings made the choice. */
  reason: string;
}

/** `npm start` runs RunPod mode, the Upstash queue consumer, or the local default, in that order. */
export function selectMode(cfg: Config): Mode {
  if (cfg.RUNPOD_WEBHOOK_GET_JOB) return { kind: "runpod", reason: "RUNPOD_WEBHOOK_GET_JOB is set: taking jobs from RunPod" };
  if (cfg.UPSTASH_REDIS_REST_URL) return { kind: "queue", reason: "UPSTASH_REDIS_REST_URL is set: consuming that Upstash queue" };
  return {
    kind: "local",
    reason: "neither RUNPOD_WEBHOOK_GET_JOB nor UPSTASH_REDIS_REST_URL is set: starting the local stack and consuming its queue",
  };
}
