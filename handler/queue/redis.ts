import { Redis } from "@upstash/redis";
import { WorkerError } from "../errors.ts";
import type { Secret } from "../config/secret.ts";

export interface UpstashConnection {
  url: string;
  token: Secret;
  timeoutMs: number;
}

/**
 * The Upstash client, configured deliberately:
 * - `signal` as a function: a fresh timeout per request. (A plain AbortSignal would make an
 *   aborted command resolve to null, which reads as "queue empty".)
 * - `automaticDeserialization: false`: the scripts return JSON text that we parse and validate
 *   ourselves; the default would turn "123" into a number and parse payloads behind our back.
 * - auto-pipelining off: every state change is already one script call, and a failed command
 *   then keeps its own error instead of a pipeline's.
 * - a short retry policy for network errors; the scripts make replays harmless (claim token,
 *   lease token checks), so a retried request never takes or finishes a job twice.
 */
export function createUpstashClient(conn: UpstashConnection): Redis {
  return new Redis({
    url: conn.url,
    token: conn.token.reveal(),
    automaticDeserialization: false,
    enableAutoPipelining: false,
    enableTelemetry: false,
    signal: () => AbortSignal.timeout(conn.timeoutMs),
    retry: { retries: 3, backoff: (n) => Math.min(2000, 100 * 2 ** n) },
  });
}

/** Every failure to talk to Upstash becomes one typed, retryable error. */
export function queueUnavailable(err: unknown, op: string): WorkerError {
  if (err instanceof WorkerError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const timeout = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
  return new WorkerError("queue_unavailable", `Upstash ${op} failed${timeout ? " (timeout)" : ""}: ${msg}`, { retryable: true, cause: err });
}
