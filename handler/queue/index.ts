import type { Config } from "../config/schema.ts";
import { Secret } from "../config/secret.ts";
import { WorkerError } from "../errors.ts";
import { readLocalStackInfo } from "../local-stack/stack-file.ts";
import { createUpstashClient, type UpstashConnection } from "./redis.ts";
import { VoiceQueue, type QueuePolicy } from "./queue.ts";

export { VoiceQueue } from "./queue.ts";
export { QueueAdmin } from "./admin.ts";
export { QueueConsumer } from "./consumer.ts";
export { WorkerRegistry, listWorkers, newWorkerId } from "./registry.ts";

export function queuePolicy(cfg: Config): QueuePolicy {
  return {
    maxAttempts: cfg.MAX_ATTEMPTS,
    leaseMs: cfg.LEASE_MS,
    retryBaseMs: cfg.RETRY_BASE_MS,
    retryMaxMs: cfg.RETRY_MAX_MS,
    resultTtlS: cfg.RESULT_TTL_S,
    audioTtlS: cfg.AUDIO_TTL_S,
  };
}

/** The configured Upstash database, else the running local stack (`npm run local` / `npm start`). */
export function resolveConnection(cfg: Config): UpstashConnection {
  if (cfg.UPSTASH_REDIS_REST_URL && cfg.UPSTASH_REDIS_REST_TOKEN) {
    return { url: cfg.UPSTASH_REDIS_REST_URL, token: cfg.UPSTASH_REDIS_REST_TOKEN, timeoutMs: cfg.REDIS_COMMAND_TIMEOUT_MS };
  }
  const local = readLocalStackInfo();
  if (local) {
    return { url: local.UPSTASH_REDIS_REST_URL, token: new Secret(local.UPSTASH_REDIS_REST_TOKEN), timeoutMs: cfg.REDIS_COMMAND_TIMEOUT_MS };
  }
  throw new WorkerError(
    "queue_not_configured",
    "no queue: set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or start the local stack (`npm start` or `npm run local`) first",
    { retryable: false },
  );
}

export function openQueue(cfg: Config, conn: UpstashConnection = resolveConnection(cfg)): VoiceQueue {
  return new VoiceQueue(createUpstashClient(conn), cfg.QUEUE_PREFIX, queuePolicy(cfg));
}
