import { randomUUID } from "node:crypto";
import { Secret } from "../../handler/config/secret.ts";
import { createUpstashClient } from "../../handler/queue/redis.ts";
import { VoiceQueue, type QueuePolicy } from "../../handler/queue/queue.ts";
import type { LocalStack } from "../../handler/local-stack/stack.ts";

export const testPolicy: QueuePolicy = {
  maxAttempts: 3,
  leaseMs: 30_000,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  resultTtlS: 3600,
  audioTtlS: 3600,
};

/** A manually advanced clock for lease expiry and retry timing. */
export function fakeClock(start = 1_763_800_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A queue on the local stack with its own key prefix, so tests never see each other's jobs. */
export function queueOn(stack: LocalStack, opts: { policy?: Partial<QueuePolicy>; now?: () => number; random?: () => number; timeoutMs?: number } = {}) {
  const redis = createUpstashClient({
    url: stack.env.UPSTASH_REDIS_REST_URL,
    token: new Secret(stack.env.UPSTASH_REDIS_REST_TOKEN),
    timeoutMs: opts.timeoutMs ?? 5000,
  });
  return new VoiceQueue(redis, `t-${randomUUID().slice(0, 8)}`, { ...testPolicy, ...opts.policy }, opts.now, opts.random);
}

export const urlJob = (n: number | string) => ({ input: { audio: `https://example.com/voice-${n}.ogg` } });
