// A response body is the voice message only if it ended the way its framing says a body ends;
// anything else is a piece of it, and a piece must never be decoded (it would be transcribed as if
// it were the whole message). How Node 20's http client reports each ending (measured with raw
// sockets, test/audio/truncated.integration.test.ts):
// - Content-Length or chunked, connection closed or reset early: the body stream errors
//   ("aborted", ECONNRESET) and `res.complete` stays false.
// - Close-delimited (neither): the end of the connection IS the end of the body, so Node ends the
//   stream normally with `res.complete` true whether the peer closed cleanly (FIN), reset the
//   connection, or we destroyed it (timer, caller abort). Only the socket tells them apart: a
//   clean close shows as its 'end' event, a reset or a destroy as 'error'. Two limits remain: a
//   peer that closes cleanly mid-body (or crashes: the kernel sends FIN) looks whole, over TLS too
//   (Node reports no missing close_notify); and a reset that arrives in the same read as the last
//   data is reported by libuv as a clean end.
import { rm, open } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { WorkerError } from "../errors.ts";
import { audioError, downloadFailed } from "./errors.ts";

export type Framing = { kind: "content-length"; length: number } | { kind: "chunked" } | { kind: "close-delimited" };

/** How the body's end is marked (RFC 9112 6.3): chunked wins over Content-Length; neither means "until close". */
export function framingOf(res: IncomingMessage): Framing {
  const te = res.headers["transfer-encoding"];
  if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) return { kind: "chunked" };
  const cl = res.headers["content-length"];
  if (te === undefined && cl !== undefined && /^\d+$/.test(cl.trim())) return { kind: "content-length", length: Number(cl) };
  return { kind: "close-delimited" };
}

/** What one connection did, recorded as it happened. */
export interface ConnectionWatch {
  /** The peer closed its side (FIN; over TLS, Node reports it the same with or without close_notify). */
  readonly ended: boolean;
  /** A reset, or our own destroy (timer, abort), as the socket reported it. */
  readonly error: NodeJS.ErrnoException | undefined;
  /** Settles when the socket is closed (never rejects). */
  readonly closed: Promise<void>;
}

export function watchConnection(socket: Socket): ConnectionWatch {
  const state: { ended: boolean; error: NodeJS.ErrnoException | undefined } = { ended: false, error: undefined };
  const closed = new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    socket.once("close", () => resolve());
  });
  socket.once("end", () => (state.ended = true));
  socket.on("error", (err: NodeJS.ErrnoException) => (state.error ??= err));
  return {
    get ended() {
      return state.ended;
    },
    get error() {
      return state.error;
    },
    closed,
  };
}

/** Settles with `p`, or rejects with the signal's reason as soon as it fires. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

interface Ending {
  framing: Framing;
  bytes: number;
  complete: boolean;
  /** What the body stream threw, if anything (not a WorkerError of ours). */
  streamError: unknown;
  conn: ConnectionWatch;
}

/**
 * Throws unless the body is whole: every way a body can end early is a retryable download_failed
 * (the next attempt may get it all), with `details.reason` saying which.
 */
function judgeEnding(e: Ending, origin: string): void {
  const { framing, bytes, conn } = e;
  const whole =
    framing.kind === "close-delimited"
      ? // The connection's end is the body's end: only a clean close by the peer says it is all there.
        e.streamError === undefined && conn.ended && conn.error === undefined
      : // The parser saw the end mark (all Content-Length bytes, or the last chunk); a reset after it is harmless.
        e.complete && e.streamError === undefined && (framing.kind === "chunked" || bytes === framing.length);
  if (whole) return;
  const expected = framing.kind === "content-length" ? ` of the ${framing.length} its Content-Length announced` : "";
  const [reason, why] = conn.error
    ? ["connection_reset", `the connection failed (${conn.error.code ?? conn.error.message})`]
    : [
        "incomplete_body",
        framing.kind === "chunked"
          ? "no last chunk"
          : framing.kind === "close-delimited"
            ? "no clean close of the connection that delimits it"
            : "the connection closed early",
      ];
  throw downloadFailed(`the body from ${origin} was cut off after ${bytes} bytes${expected}: ${why}`, {
    network: true,
    cause: conn.error ?? e.streamError,
    details: { reason, framing: framing.kind, receivedBytes: bytes },
  });
}

/**
 * Streams the body into `dest` (created 0600, must not exist), counting the byte cap as it goes,
 * then checks the body is whole. On any failure the partial file is removed before the error
 * leaves, so nothing downstream can decode it. `signal` fires for the timers and the caller's
 * abort; its reason is what is thrown then.
 */
export async function receiveBody(
  res: IncomingMessage,
  conn: ConnectionWatch,
  dest: string,
  opts: { maxBytes: number; signal: AbortSignal; origin: string },
): Promise<number> {
  const { maxBytes, signal } = opts;
  const framing = framingOf(res);
  const file = await open(dest, "wx", 0o600);
  let bytes = 0;
  try {
    let streamError: unknown;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        // Counted as it arrives: a missing or lying Content-Length cannot push past the cap.
        if (bytes > maxBytes) throw audioError("audio_too_large", `download exceeded ${maxBytes} bytes`, { details: { maxBytes } });
        await file.write(chunk);
      }
    } catch (err) {
      signal.throwIfAborted();
      if (err instanceof WorkerError) throw err;
      streamError = err;
    } finally {
      await file.close();
    }
    // A close-delimited body ended because the socket is going away: wait until it has, so its
    // last word (clean end, or error) is known. The timers still run while this waits.
    if (framing.kind === "close-delimited" && streamError === undefined) await untilAborted(conn.closed, signal);
    signal.throwIfAborted(); // a timer or the caller cut it, whatever the stream said (the peer's errors are judged below)
    judgeEnding({ framing, bytes, complete: res.complete, streamError, conn }, opts.origin);
    return bytes;
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  }
}
