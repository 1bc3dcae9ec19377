import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import { scrubMessage, scrubSecrets } from "./scrub.ts";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  format?: "auto" | "json" | "pretty";
  /** Where lines go; stdout by default. Tests pass a collector. */
  destination?: DestinationStream;
  name?: string;
}

// Fields that carry credentials or user payloads; pino removes them before serialising.
const REDACT_PATHS = [
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  'headers["x-goog-api-key"]',
  '*.headers["x-goog-api-key"]',
  "UPSTASH_REDIS_REST_TOKEN",
  "GEMINI_API_KEY",
  "RUNPOD_AI_API_KEY",
  "audio_base64",
  "*.audio_base64",
  "*.*.audio_base64",
];

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  retryable?: boolean;
  stack?: string;
  cause?: SerializedError;
}

/** Error serializer: scrubs secrets and truncates payloads inside messages and stacks. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { type: typeof err, message: scrubMessage(String(err)) };
  const e = err as Error & { code?: unknown; retryable?: unknown };
  const out: SerializedError = { type: e.name, message: scrubMessage(e.message) };
  if (typeof e.code === "string") out.code = e.code;
  if (typeof e.retryable === "boolean") out.retryable = e.retryable;
  if (e.stack) out.stack = scrubMessage(e.stack, 2000);
  if (e.cause !== undefined && depth < 3) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/** Last line of defence: every serialized line passes through the scrubber before it is written. */
function scrubbing(dest: DestinationStream): DestinationStream {
  return { write: (line: string) => dest.write(scrubSecrets(line)) };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? "auto";
  const usePretty = !opts.destination && (format === "pretty" || (format === "auto" && process.stdout.isTTY === true && process.env.NODE_ENV !== "production"));
  const sink: DestinationStream = opts.destination ?? (usePretty ? pretty({ colorize: true, sync: true }) : pino.destination({ fd: 1, sync: true }));
  return pino(
    {
      name: opts.name ?? "voice-worker",
      level: opts.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[secret]" },
      serializers: { err: serializeError, error: serializeError },
      base: { pid: process.pid },
    },
    scrubbing(sink),
  );
}

/** Child logger with the job context every line of a job carries. */
export function jobLogger(log: Logger, ctx: { jobId: string; attempt?: number; stage?: string }): Logger {
  return log.child(ctx);
}
