import { int } from "../config/fields.ts";

/** Queue semantics: leases, retries, polling, retention. */
export const queueSettings = {
  MAX_ATTEMPTS: int({ default: 3, min: 1, max: 100, doc: "Attempts before a job goes to the dead letter.", example: "5" }),
  LEASE_MS: int({ default: 60000, min: 1000, doc: "Lease of a claimed job; extended while it runs.", example: "120000" }),
  RETRY_BASE_MS: int({ default: 5000, min: 0, doc: "First retry delay; doubles per attempt, with jitter.", example: "2000" }),
  RETRY_MAX_MS: int({ default: 300000, min: 0, doc: "Upper bound of a retry delay.", example: "600000" }),
  IDLE_POLL_MIN_MS: int({ default: 200, min: 10, doc: "First poll delay when the queue is empty.", example: "500" }),
  IDLE_POLL_MAX_MS: int({ default: 10000, min: 10, doc: "Longest poll delay when the queue stays empty.", example: "30000" }),
  RESULT_TTL_S: int({
    default: 7 * 24 * 3600,
    min: 60,
    doc: "How long results and finished job records are kept (the dead letter stays until retried or purged).",
    example: "86400",
  }),
  WORKER_HEARTBEAT_MS: int({ default: 30000, min: 100, doc: "Worker registry interval; the record's TTL is 3 intervals.", example: "15000" }),
  AUDIO_TTL_S: int({ default: 24 * 3600, min: 60, doc: "How long audio bytes pushed by the queue CLI are kept.", example: "3600" }),
};
