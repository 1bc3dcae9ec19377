import { bool, int, optionalStr, secret } from "../config/fields.ts";

/** RunPod serverless: set by the platform on its workers (names as the Python SDK reads them). */
export const runpodSettings = {
  RUNPOD_WEBHOOK_GET_JOB: optionalStr({
    doc: "Job-take URL template (set by RunPod). Set: the worker runs in RunPod mode.",
    example: "https://api.runpod.ai/v2/abc/job-take/$ID?gpu=H100",
  }),
  RUNPOD_WEBHOOK_POST_OUTPUT: optionalStr({
    doc: "Job-done URL template (set by RunPod).",
    example: "https://api.runpod.ai/v2/abc/job-done/$RUNPOD_POD_ID/$ID?gpu=H100",
  }),
  RUNPOD_WEBHOOK_POST_STREAM: optionalStr({
    doc: "Stream URL template (set by RunPod).",
    example: "https://api.runpod.ai/v2/abc/job-stream/$RUNPOD_POD_ID/$ID?gpu=H100",
  }),
  RUNPOD_WEBHOOK_PING: optionalStr({ doc: "Heartbeat URL template (set by RunPod).", example: "https://api.runpod.ai/v2/abc/ping/$RUNPOD_POD_ID?gpu=H100" }),
  // No bounds here: the platform sets it, and runpod-python starts with any integer. The worker
  // clamps it (pingIntervalMs) and warns rather than refusing to start and crash-looping.
  RUNPOD_PING_INTERVAL: int({
    default: 10000,
    doc: "Heartbeat interval in milliseconds (RunPod's name, no unit suffix); outside 1000-60000 it is clamped, with a warning.",
    example: "10000",
  }),
  RUNPOD_POD_ID: optionalStr({ doc: "This worker's id (set by RunPod); no heartbeat without it.", example: "abc123xyz" }),
  RUNPOD_POD_HOSTNAME: optionalStr({ doc: "Worker host name (set by RunPod); reported in job errors.", example: "abc123xyz-64410b1c" }),
  RUNPOD_AI_API_KEY: secret({ doc: "Key the worker sends to the RunPod job API (set by RunPod).", example: "rpa_..." }),
  RUNPOD_ENDPOINT_ID: optionalStr({ doc: "Endpoint id, for logs and error context (set by RunPod).", example: "abc" }),
  CONCURRENCY: int({ default: 1, min: 1, max: 64, doc: "Jobs run at once (1 per GPU is right for one sidecar).", example: "2" }),
  RUNPOD_SPOOL_DIR: optionalStr({
    doc: "Where results RunPod did not accept are kept (private folder, files 0600) and re-posted from while the worker runs; default voice-worker-runpod-spool in the system temp dir. A network volume keeps them across container restarts with the same RUNPOD_POD_ID.",
    example: "/runpod-volume/voice-worker/spool",
  }),
  RUNPOD_SPOOL_MAX_MB: int({
    default: 64,
    min: 1,
    max: 10240,
    doc: "Most disk the result spool may use (and at most 1000 results); a result that does not fit is logged as lost (kept in Redis when Upstash is configured).",
    example: "256",
  }),
  RUNPOD_REFRESH_ON_BROKEN_GPU: bool({
    default: true,
    doc: "When CUDA fails at run time (jobs fall back to CPU on a GPU pod), send stopPod with the next result so RunPod replaces the worker, and take no more jobs.",
    example: "false",
  }),
  SHUTDOWN_GRACE_MS: int({
    default: 25000,
    min: 0,
    doc: "Queue mode, on SIGTERM/SIGINT: how long the running job may finish before it is handed back. RunPod mode lets running jobs finish and post (the platform decides when to kill).",
    example: "60000",
  }),
};

/** The heartbeat interval the worker keeps to: not a tight loop, and not so rare that the platform takes it for lost. */
export const PING_INTERVAL_RANGE = { min: 1000, max: 60_000 } as const;

export function pingIntervalMs(asked: number): { ms: number; clamped: boolean } {
  const ms = Math.min(PING_INTERVAL_RANGE.max, Math.max(PING_INTERVAL_RANGE.min, asked));
  return { ms, clamped: ms !== asked };
}
