// npm run runpod:dev -- [--port 8077] [--pod-id dev-pod] [--api-key KEY] [--ping-interval 10000] [--json]
// A local stand-in for RunPod's serverless API, until Ctrl-C: point a worker at it with the
// printed RUNPOD_* settings and a runpod-sdk client at its base URL.
import { parseArgs } from "node:util";
import { startRunpodDevServer } from "./runpod-dev-server.ts";

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run runpod:dev -- [--port N] [--pod-id ID] [--api-key KEY] [--ping-interval MS] [--json]\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: "string", default: "8077" },
      "pod-id": { type: "string", default: "dev-pod" },
      "api-key": { type: "string" },
      "ping-interval": { type: "string", default: "10000" },
      json: { type: "boolean", default: false },
    },
  }).values;
} catch (err) {
  usage((err as Error).message);
}
const port = Number(args.port);
const pingIntervalMs = Number(args["ping-interval"]);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a port number, got "${args.port}"`);
if (!Number.isInteger(pingIntervalMs) || pingIntervalMs < 1000) usage("--ping-interval must be a whole number of ms >= 1000");

const dev = await startRunpodDevServer({
  port,
  apiKey: args["api-key"],
  pingIntervalMs,
  takeWaitMs: 20_000,
  stopWaitMs: 20_000,
  // As the platform does: a worker silent for three heartbeats is lost and its jobs are re-queued.
  workerLostAfterMs: 3 * pingIntervalMs,
});
const env = dev.workerEnv(args["pod-id"]);
if (args.json) {
  process.stdout.write(`${JSON.stringify({ baseUrl: dev.baseUrl, endpointId: dev.endpointId, apiKey: dev.apiKey, workerEnv: env })}\n`);
} else {
  process.stdout.write(
    [
      `RunPod dev server on ${dev.url} (in memory; a development key, not a RunPod key).`,
      "Worker settings (another terminal, or a .env file), then npm start:",
      ...Object.entries(env).map(([k, v]) => `  export ${k}='${v}'`),
      "Client: runpodSdk(apiKey, { baseUrl }).endpoint(endpointId) with",
      `  baseUrl=${dev.baseUrl}  endpointId=${dev.endpointId}  apiKey=${dev.apiKey}`,
      `  or: curl -H 'Authorization: Bearer ${dev.apiKey}' -H 'content-type: application/json' -d '{"input":{...}}' ${dev.baseUrl}/${dev.endpointId}/runsync`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
}
const stop = (signal: NodeJS.Signals) => {
  dev.close().then(
    () => process.exit(signal === "SIGINT" ? 130 : 0),
    () => process.exit(1),
  );
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
