import { int, oneOf, optionalStr, secret, str, url } from "./fields.ts";

/** Settings shared by every stage: logging, the Upstash connection, the local stack. */
export const coreSettings = {
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, {
    default: "info",
    doc: "Minimum log level.",
    example: "debug",
  }),
  LOG_FORMAT: oneOf(["auto", "json", "pretty"] as const, {
    default: "auto",
    doc: "auto: pretty on a terminal unless NODE_ENV=production, JSON otherwise.",
    example: "json",
  }),
  UPSTASH_REDIS_REST_URL: url({
    optional: true,
    doc: "Upstash Redis REST URL. Set: consume that queue. Unset: the local stack is started.",
    example: "https://eu1-fine-fox-12345.upstash.io",
  }),
  UPSTASH_REDIS_REST_TOKEN: secret({
    doc: "Upstash REST token (required with UPSTASH_REDIS_REST_URL).",
    example: "AX1yASQgN2Y...",
  }),
  REDIS_COMMAND_TIMEOUT_MS: int({
    default: 5000,
    min: 100,
    doc: "Timeout of one Upstash REST request.",
    example: "3000",
  }),
  QUEUE_PREFIX: str({
    default: "vw",
    doc: "Prefix of every Redis key the worker writes (several deployments can share a database).",
    example: "voice-prod",
  }),
  REDIS_SERVER_BIN: optionalStr({
    doc: "Path of redis-server for the local stack; found on PATH when unset.",
    example: "/usr/bin/redis-server",
  }),
  LOCAL_REST_PORT: int({
    default: 8079,
    min: 0,
    max: 65535,
    doc: "Port of the local Upstash-compatible REST server (npm run local / local default). 0: any free port.",
    example: "8080",
  }),
};
