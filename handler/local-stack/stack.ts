import { randomBytes } from "node:crypto";
import { registerSecret } from "../config/secret.ts";
import { startRedisServer, type RedisServer } from "./redis-server.ts";
import { startUpstashRestServer, type UpstashRestServer } from "./rest/server.ts";

export interface LocalStack {
  redis: RedisServer;
  rest: UpstashRestServer;
  /** The two settings a worker or the queue CLI needs to use this stack. */
  env: { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string };
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  redisBin?: string;
  /** REST port; 0 or omitted: any free port. */
  restPort?: number;
  token?: string;
}

/** A real redis-server behind the Upstash-compatible REST server: what tests and `npm run local` use. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const token = opts.token ?? `local-${randomBytes(18).toString("base64url")}`;
  registerSecret(token);
  const redis = await startRedisServer({ bin: opts.redisBin });
  let rest: UpstashRestServer;
  try {
    rest = await startUpstashRestServer({ redis: { host: redis.host, port: redis.port }, token, port: opts.restPort ?? 0 });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    redis,
    rest,
    env: { UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: token },
    stop() {
      stopped ??= rest.stop().finally(() => redis.stop());
      return stopped;
    },
  };
}
