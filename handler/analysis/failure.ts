import { WorkerError } from "../errors.ts";
import { scrubMessage } from "../log/scrub.ts";

/** The stable codes of a failed analysis (clients switch on them). */
export type LlmErrorCode =
  "llm_auth" | "llm_rate_limited" | "llm_unavailable" | "llm_timeout" | "llm_blocked" | "llm_invalid_output" | "llm_bad_request" | "llm_cancelled";

/**
 * One failed Gemini call. `retryable` goes into the result (can a later job attempt succeed?);
 * `retryNow` tells the retry loop whether another attempt within this analysis makes sense.
 */
export class LlmFailure extends WorkerError {
  declare readonly code: LlmErrorCode;
  readonly retryNow: boolean;
  readonly retryAfterMs?: number;
  readonly status?: number;

  constructor(code: LlmErrorCode, message: string, opts: { retryable: boolean; retryNow?: boolean; retryAfterMs?: number; status?: number; cause?: unknown }) {
    super(code, message, { retryable: opts.retryable, cause: opts.cause });
    this.name = "LlmFailure";
    this.retryNow = opts.retryNow ?? false;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (opts.status !== undefined) this.status = opts.status;
  }
}

interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<Record<string, unknown>>;
}

/** The SDK's ApiError carries the response body, JSON-encoded, as its message. */
function parseGoogleError(raw: string): GoogleErrorBody {
  try {
    const parsed: unknown = JSON.parse(raw);
    const body: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
    const error = (body as { error?: unknown } | null)?.error;
    if (error && typeof error === "object") return error;
  } catch {
    // Not JSON: a proxy's HTML page or plain text.
  }
  return { message: raw };
}

/** "17s", "1.5s", "0.250s" (protobuf Duration in JSON) to milliseconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

function detailsOf(body: GoogleErrorBody, type: string): Array<Record<string, unknown>> {
  return (Array.isArray(body.details) ? body.details : []).filter((d) => {
    const t = d?.["@type"];
    return typeof t === "string" && t.endsWith(type);
  });
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");

function describe(status: number, body: GoogleErrorBody): string {
  const text = str(body.message).split("\n")[0]!.trim() || "no message";
  const name = str(body.status);
  return scrubMessage(`Gemini ${status}${name ? ` ${name}` : ""}: ${text}`, 400);
}

/** Maps an HTTP error from Gemini to a failure with a stable code. */
export function classifyHttpError(status: number, rawMessage: string): LlmFailure {
  const body = parseGoogleError(rawMessage);
  const message = describe(status, body);
  const reasons = detailsOf(body, "google.rpc.ErrorInfo").map((d) => str(d.reason));

  if (status === 401 || status === 403 || reasons.includes("API_KEY_INVALID") || /API key not valid/i.test(str(body.message))) {
    return new LlmFailure("llm_auth", message, { retryable: false, status });
  }
  if (status === 429) {
    const retryAfterMs = detailsOf(body, "google.rpc.RetryInfo")
      .map((d) => parseDuration(d.retryDelay))
      .find((v) => v !== undefined);
    const violations = detailsOf(body, "google.rpc.QuotaFailure").flatMap(
      (d) => (Array.isArray(d.violations) ? d.violations : []) as Array<Record<string, unknown>>,
    );
    const daily = violations.map((v) => str(v.quotaId) || str(v.quotaMetric)).find((id) => /per\s*day|perday|daily/i.test(id));
    if (daily) {
      // A daily quota resets at midnight Pacific time: retrying within this job only burns time.
      return new LlmFailure("llm_rate_limited", scrubMessage(`${message} (daily quota ${daily} exhausted; not retried now)`, 500), {
        retryable: true,
        retryNow: false,
        status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
    return new LlmFailure("llm_rate_limited", message, { retryable: true, retryNow: true, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (status === 408) return new LlmFailure("llm_timeout", message, { retryable: true, retryNow: true, status });
  if ([500, 502, 503, 504].includes(status)) return new LlmFailure("llm_unavailable", message, { retryable: true, retryNow: true, status });
  if (status >= 500) return new LlmFailure("llm_unavailable", message, { retryable: true, status });
  return new LlmFailure("llm_bad_request", message, { retryable: false, status });
}

/** A failure below HTTP: connection refused or reset, DNS, TLS. */
export function classifyNetworkError(err: unknown): LlmFailure {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
  const text = err instanceof Error ? err.message : String(err);
  return new LlmFailure("llm_unavailable", scrubMessage(`Gemini unreachable: ${text}${detail ? ` (${detail})` : ""}`, 400), {
    retryable: true,
    retryNow: true,
  });
}
