// `npm run local`: a real redis-server behind the Upstash-compatible REST server, until Ctrl-C.
import { loadConfigOrExit } from "../handler/config/load.ts";
import { WorkerError } from "../handler/errors.ts";
import { startLocalStack } from "../handler/local-stack/stack.ts";
import { removeLocalStackInfo, writeLocalStackInfo } from "../handler/local-stack/stack-file.ts";

const json = process.argv.includes("--json");
const config = loadConfigOrExit();

try {
  const stack = await startLocalStack({ redisBin: config.REDIS_SERVER_BIN, restPort: config.LOCAL_REST_PORT });
  writeLocalStackInfo({ ...stack.env, pid: process.pid });
  const info = { ...stack.env, redis_port: stack.redis.port, redis_pid: stack.redis.pid, rest_port: stack.rest.port };
  if (json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    process.stdout.write(
      [
        "Local Upstash-compatible stack is running (redis-server without persistence).",
        "Use these settings in another terminal (or a .env file):",
        `  export UPSTASH_REDIS_REST_URL=${stack.env.UPSTASH_REDIS_REST_URL}`,
        `  export UPSTASH_REDIS_REST_TOKEN=${stack.env.UPSTASH_REDIS_REST_TOKEN}`,
        `redis-server pid ${stack.redis.pid} on 127.0.0.1:${stack.redis.port}. Press Ctrl-C to stop.`,
        "",
      ].join("\n"),
    );
  }
  const shutdown = (signal: NodeJS.Signals) => {
    removeLocalStackInfo();
    stack.stop().then(
      () => process.exit(signal === "SIGINT" ? 130 : 0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
} catch (err) {
  process.stderr.write(`${err instanceof WorkerError ? err.message : String(err)}\n`);
  process.exit(1);
}
