// The local stack for bench, chaos and the system tests: one real redis-server, the
// Upstash-compatible REST server the workers use (its counter is the bill), and a second REST
// server on the same Redis for the driver's own reads, so that checking on jobs never adds to
// the counted commands.
// The workers' server can be stopped and started again on the same port (an Upstash outage).
import { randomBytes, randomUUID } from "node:crypto";
import { Secret, registerSecret } from "../../handler/config/secret.ts";
import { QueueAdmin } from "../../handler/queue/admin.ts";
import { VoiceQueue, type QueuePolicy } from "../../handler/queue/queue.ts";
import { createUpstashClient } from "../../handler/queue/redis.ts";
import { startRedisServer, type RedisServer } from "../../handler/local-stack/redis-server.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../../handler/local-stack/rest/server.ts";

export interface BenchStack {
  redis: RedisServer;
  /** The server the workers (and the driver's enqueues) talk to: its counter is the bill. */
  rest: UpstashRestServer;
  token: string;
  /** UPSTASH_REDIS_REST_URL / _TOKEN for a worker, on the counted server. */
  workerEnv(): { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string };
  /** Another counted REST server on the same Redis (its own counter), e.g. for an idle worker. */
  extraRest(): Promise<UpstashRestServer>;
  /** A queue on the counted server (enqueues are billed commands). */
  queue(prefix: string, policy?: Partial<QueuePolicy>): VoiceQueue;
  /** The same queue through the driver's private server: reads that are not counted. */
  admin(prefix: string): QueueAdmin;
  /** A queue through the driver's private server: not counted, and up during an outage. */
  driverQueue(prefix: string, policy?: Partial<QueuePolicy>): VoiceQueue;
  /** Refuses connections (an outage); `startRest` brings it back on the same port. */
  stopRest(): Promise<void>;
  startRest(): Promise<void>;
  stop(): Promise<void>;
}

const POLICY: QueuePolicy = { maxAttempts: 3, leaseMs: 60_000, retryBaseMs: 5000, retryMaxMs: 300_000, resultTtlS: 86_400, audioTtlS: 86_400 };

export function newPrefix(tag: string): string {
  return `${tag}-${randomUUID().slice(0, 8)}`;
}

export async function startBenchStack(opts: { token?: string } = {}): Promise<BenchStack> {
  const token = opts.token ?? `bench-${randomBytes(18).toString("base64url")}`;
  registerSecret(token);
  const redis = await startRedisServer();
  const target = { host: redis.host, port: redis.port };
  let rest = await startUpstashRestServer({ redis: target, token });
  const port = rest.port;
  const driver = await startUpstashRestServer({ redis: target, token });
  const extras: UpstashRestServer[] = [];
  let restUp = true;
  const client = (url: string) => createUpstashClient({ url, token: new Secret(token), timeoutMs: 10_000 });
  const driverClient = client(driver.url);

  return {
    redis,
    get rest() {
      return rest;
    },
    token,
    workerEnv: () => ({ UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: token }),
    async extraRest() {
      const s = await startUpstashRestServer({ redis: target, token });
      extras.push(s);
      return s;
    },
    queue: (prefix, policy = {}) => new VoiceQueue(client(rest.url), prefix, { ...POLICY, ...policy }),
    admin: (prefix) => new QueueAdmin(new VoiceQueue(driverClient, prefix, POLICY)),
    driverQueue: (prefix, policy = {}) => new VoiceQueue(driverClient, prefix, { ...POLICY, ...policy }),
    async stopRest() {
      if (!restUp) return;
      restUp = false;
      await rest.stop();
    },
    async startRest() {
      if (restUp) return;
      rest = await startUpstashRestServer({ redis: target, token, port });
      restUp = true;
    },
    async stop() {
      if (restUp) await rest.stop();
      restUp = false;
      await Promise.all([driver.stop(), ...extras.map((s) => s.stop())]);
      await redis.stop();
    },
  };
}
