export interface HttpReply {
  status: number;
  text: string;
  /** The `Retry-After` header as sent (seconds or an HTTP date), null when absent. */
  retryAfter: string | null;
}

export interface HttpRequest {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Bound of the whole exchange, body included. */
  timeoutMs: number;
  /** Outer cancellation (shutdown, job stop). */
  signal?: AbortSignal;
}

/** Thrown for network failures and timeouts; `aborted` when the outer signal ended it. */
export class HttpFailure extends Error {
  readonly aborted: boolean;
  readonly timedOut: boolean;
  constructor(message: string, opts: { aborted: boolean; timedOut: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "HttpFailure";
    this.aborted = opts.aborted;
    this.timedOut = opts.timedOut;
  }
}

/** One HTTP exchange with a hard timeout; never leaves a request running past `timeoutMs`. */
export async function httpRequest(url: string, req: HttpRequest): Promise<HttpReply> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await fetch(url, { method: req.method ?? "GET", headers: req.headers, body: req.body, signal });
    return { status: res.status, text: await res.text(), retryAfter: res.headers.get("retry-after") };
  } catch (err) {
    const aborted = req.signal?.aborted === true;
    const timedOut = !aborted && timeout.aborted;
    const what = aborted ? "aborted" : timedOut ? `timed out after ${req.timeoutMs} ms` : describe(err);
    throw new HttpFailure(`${req.method ?? "GET"} ${new URL(url).pathname}: ${what}`, { aborted, timedOut, cause: err });
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
