// npm run dashboard [-- --port N --host H]: the operator web view of one queue: the Upstash one
// when UPSTASH_REDIS_REST_URL is set, else the local stack that `npm start` (or `npm run local`)
// runs. Exit codes: 0 stopped with Ctrl-C/SIGTERM, 1 no queue or the port is taken, 2 usage or settings.
import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../handler/config/load.ts";
import { WorkerError } from "../handler/errors.ts";
import { resolveConnection } from "../handler/queue/index.ts";
import { startDashboard } from "../handler/dashboard/index.ts";
import { usageError } from "./usage.ts";

const USAGE = "usage: npm run dashboard [-- --port N] [--host H]   (defaults: DASHBOARD_PORT, DASHBOARD_HOST)";

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: { port: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" } },
  }));
} catch (err) {
  usageError(USAGE, (err as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) usageError(USAGE, "--port must be a port number (0: any free port)");
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && port > 65535) usageError(USAGE, "--port must be at most 65535");

const cfg = loadConfigOrExit();
try {
  const conn = resolveConnection(cfg);
  const dashboard = await startDashboard({ cfg, conn, host: values.host, port, queueLabel: cfg.UPSTASH_REDIS_REST_URL ? undefined : "local stack" });
  const actions = cfg.DASHBOARD_TOKEN ? "actions need DASHBOARD_TOKEN (sign in on the page)" : "actions are off (set DASHBOARD_TOKEN to retry, purge and push)";
  process.stdout.write(
    `dashboard: ${dashboard.url}\n  queue: ${cfg.UPSTASH_REDIS_REST_URL ? "Upstash" : "the local stack"}, prefix ${cfg.QUEUE_PREFIX}; ${actions}. Ctrl-C stops it.\n`,
  );
  const stop = () => void dashboard.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (err) {
  process.stderr.write(`${err instanceof WorkerError ? `${err.code}: ${err.message}` : String(err)}\n`);
  process.exit(err instanceof WorkerError && err.code === "dashboard_insecure" ? 2 : 1);
}
