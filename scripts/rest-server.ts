// `npm run rest-server [-- --check]`: the Upstash-compatible REST server in front of a redis that
// already runs elsewhere (docker compose's `redis` service), until SIGTERM/SIGINT. `npm run local`
// and the tests start their own private redis-server instead; all of them serve through
// startUpstashRestServer, so compose runs the very code the test suite runs.
//
//   REDIS_HOST (127.0.0.1), REDIS_PORT (6379)   the redis to serve
//   REST_HOST (127.0.0.1), REST_PORT (8079)     where to listen (compose: 0.0.0.0)
//   UPSTASH_REDIS_REST_TOKEN                    required: the bearer token clients must send
//
// `--check` (compose's healthcheck): one PING through the running server; exit 0 when redis
// answers PONG through it, 1 otherwise.
import { pathToFileURL } from "node:url";
import { registerSecret } from "../handler/config/secret.ts";
import { createLogger } from "../handler/log/logger.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../handler/local-stack/rest/server.ts";

export interface RestServerSettings {
  redis: { host: string; port: number };
  host: string;
  port: number;
  token: string;
}

/** Bad environment for the REST server: every problem in one message (exit 2). */
export class RestServerConfigError extends Error {}

const MIN_TOKEN_LENGTH = 8;

export function restServerSettings(env: NodeJS.ProcessEnv): RestServerSettings {
  const problems: string[] = [];
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) problems.push(`${name} must be a port number (0-65535)`);
    return n;
  };
  const settings: RestServerSettings = {
    redis: { host: env.REDIS_HOST || "127.0.0.1", port: port("REDIS_PORT", 6379) },
    host: env.REST_HOST || "127.0.0.1",
    port: port("REST_PORT", 8079),
    token: env.UPSTASH_REDIS_REST_TOKEN ?? "",
  };
  if (settings.token.length < MIN_TOKEN_LENGTH) {
    problems.push(`UPSTASH_REDIS_REST_TOKEN is required (at least ${MIN_TOKEN_LENGTH} characters): the bearer token clients must send`);
  }
  if (problems.length > 0) throw new RestServerConfigError(`rest-server: ${problems.join("; ")}`);
  return settings;
}

/** Starts the REST server the environment describes (the token is registered as a secret first). */
export async function startRestServer(env: NodeJS.ProcessEnv = process.env): Promise<UpstashRestServer> {
  const s = restServerSettings(env);
  registerSecret(s.token);
  return startUpstashRestServer({ redis: s.redis, token: s.token, host: s.host, port: s.port });
}

/** One PING through a running server; true when redis answered PONG through it. */
export async function checkRestServer(env: NodeJS.ProcessEnv = process.env, timeoutMs = 3000): Promise<boolean> {
  const s = restServerSettings(env);
  // A server listening on every interface is reached on loopback from inside its container.
  const host = s.host === "0.0.0.0" || s.host === "::" ? "127.0.0.1" : s.host;
  try {
    const res = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${s.port}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.token}`, "content-type": "application/json" },
      body: JSON.stringify(["PING"]),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { result?: unknown };
    return res.status === 200 && body.result === "PONG";
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--check")) {
    process.exit((await checkRestServer()) ? 0 : 1);
  }
  const log = createLogger({ name: "rest-server" });
  const s = restServerSettings(process.env);
  const server = await startRestServer(process.env);
  log.info({ listen: `${s.host}:${server.port}`, redis: `${s.redis.host}:${s.redis.port}` }, "Upstash-compatible REST server listening");
  const stop = (signal: NodeJS.Signals) => {
    log.info({ signal }, "stopping");
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof RestServerConfigError ? 2 : 1);
  });
}
