// Every way audio intake can refuse a voice message, in one table: the queue decides retries
// from `retryable`, clients switch on `code`, the README lists the table as it is here.
import { WorkerError } from "../errors.ts";

export const AUDIO_ERRORS = {
  url_not_allowed: {
    retryable: false,
    meaning: "Not an http(s) URL, credentials in the URL, or a loopback/private/link-local address (also after a redirect).",
  },
  download_failed: {
    retryable: "network",
    meaning:
      "HTTP error, network failure, or a body cut short (reset, fewer bytes than Content-Length, no last chunk, no clean close of a close-delimited body; details.reason). Retryable for network errors, cut bodies, 5xx, 408 and 429; permanent for other 4xx, too many redirects and a compressed (Content-Encoding) body.",
  },
  download_timeout: {
    retryable: true,
    meaning:
      "No response headers within the connect timeout, or the whole download took longer than its timeout (what had arrived is discarded, never decoded).",
  },
  audio_too_large: { retryable: false, meaning: "Input larger than MAX_AUDIO_MB (announced, streamed, base64 or stored bytes)." },
  invalid_base64: { retryable: false, meaning: "audio_base64 is empty or not strict base64 (standard or URL-safe alphabet, optional data: URI prefix)." },
  unsupported_format: { retryable: false, meaning: "Empty, unreadable, a container outside the whitelist, or a file that also carries video/cover art." },
  no_audio_stream: { retryable: false, meaning: "The container has no audio stream, or its audio is zero seconds long." },
  audio_too_long: { retryable: false, meaning: "Longer than MAX_AUDIO_DURATION_S (by ffprobe, or found while decoding)." },
  decode_failed: { retryable: false, meaning: "ffmpeg could not decode the audio stream, or it produced no samples." },
  decode_timeout: { retryable: false, meaning: "ffprobe or ffmpeg ran longer than DECODE_TIMEOUT_MS and was killed." },
  ffmpeg_unavailable: { retryable: true, meaning: "ffmpeg/ffprobe could not be started (deployment problem, not the message's fault)." },
  aborted: { retryable: true, meaning: "The caller's AbortSignal fired (shutdown, lost lease); the message was not judged." },
} as const satisfies Record<string, { retryable: boolean | "network"; meaning: string }>;

export type AudioErrorCode = keyof typeof AUDIO_ERRORS;

type FixedCode = { [K in AudioErrorCode]: (typeof AUDIO_ERRORS)[K]["retryable"] extends boolean ? K : never }[AudioErrorCode];

/** A WorkerError whose retryability comes from the table. */
export function audioError(code: FixedCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}): WorkerError {
  return new WorkerError(code, message, { retryable: AUDIO_ERRORS[code].retryable, ...opts });
}

/** HTTP statuses worth another attempt: the server's fault or a rate limit, not the URL's. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export function downloadFailed(message: string, opts: { status?: number; network?: boolean; cause?: unknown; details?: Record<string, unknown> }): WorkerError {
  const retryable = opts.network === true || (opts.status !== undefined && isRetryableStatus(opts.status));
  const details = { ...opts.details, ...(opts.status !== undefined ? { status: opts.status } : {}) };
  return new WorkerError("download_failed", message, { retryable, cause: opts.cause, details });
}

/** The error for a fired AbortSignal; the signal's reason is kept as the cause. */
export function abortedError(signal: AbortSignal, stage: string): WorkerError {
  return audioError("aborted", `audio intake aborted during ${stage}`, { cause: signal.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined, stage: string): void {
  if (signal?.aborted) throw abortedError(signal, stage);
}
