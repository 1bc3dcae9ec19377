import { int, optionalStr, secret } from "../config/fields.ts";

/** RunPod serverless: set by the platform on its workers (names as the Python SDK reads them). */
export const runpodSettings = {
  RUNPOD_WEBHOOK_GET_JOB: optionalStr({ doc: "Job-take URL template (set by RunPod). Set: the worker runs in RunPod mode.", example: "https://api.runpod.ai/v2/abc/job-take/$ID?gpu=H100" }),
  RUNPOD_WEBHOOK_POST_OUTPUT: optionalStr({ doc: "Job-done URL template (set by RunPod).", example: "https://api.runpod.ai/v2/abc/job-done/$RUNPOD_POD_ID/$ID?gpu=H100" }),
  RUNPOD_WEBHOOK_POST_STREAM: optionalStr({ doc: "Stream URL template (set by RunPod).", example: "https://api.runpod.ai/v2/abc/job-stream/$RUNPOD_POD_ID/$ID?gpu=H100" }),
  RUNPOD_WEBHOOK_PING: optionalStr({ doc: "Heartbeat URL template (set by RunPod).", example: "https://api.runpod.ai/v2/abc/ping/$RUNPOD_POD_ID?gpu=H100" }),
  RUNPOD_PING_INTERVAL: int({ default: 10000, min: 1000, doc: "Heartbeat interval in milliseconds (RunPod's name, no unit suffix).", example: "10000" }),
  RUNPOD_POD_ID: optionalStr({ doc: "This worker's id (set by RunPod); no heartbeat without it.", example: "abc123xyz" }),
  RUNPOD_POD_HOSTNAME: optionalStr({ doc: "Worker host name (set by RunPod); reported in job errors.", example: "abc123xyz-64410b1c" }),
  RUNPOD_AI_API_KEY: secret({ doc: "Key the worker sends to the RunPod job API (set by RunPod).", example: "rpa_..." }),
  RUNPOD_ENDPOINT_ID: optionalStr({ doc: "Endpoint id, for logs and error context (set by RunPod).", example: "abc" }),
  CONCURRENCY: int({ default: 1, min: 1, max: 64, doc: "Jobs run at once (1 per GPU is right for one sidecar).", example: "2" }),
  SHUTDOWN_GRACE_MS: int({
    default: 25000,
    min: 0,
    doc: "On SIGTERM/SIGINT: how long running jobs may finish before they are stopped and handed back.",
    example: "60000",
  }),
};
