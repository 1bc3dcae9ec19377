// One sidecar request under a deadline and the job's AbortSignal.
import { WorkerError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { SidecarMessage } from "./protocol.ts";
import { SidecarExit, type SidecarProcess } from "./sidecar-process.ts";
import type { TranscribeRequest } from "./types.ts";

export interface GuardContext {
  proc: SidecarProcess;
  req: TranscribeRequest;
  log: Logger;
  cancelGraceMs: number;
  cancelled: () => WorkerError;
  /** The sidecar was killed because a cancel outlasted the grace period. */
  onKilledByCancel: () => void;
}

/**
 * Runs one request under a deadline and the job's AbortSignal. Past the deadline the sidecar
 * is killed (native code cannot be interrupted). A cancelled transcription is asked to stop
 * (after the decode in flight) and killed after CANCEL_GRACE_MS, then restarted with the last
 * model reloaded at once; a cancelled load is left to finish in the sidecar (the next job may
 * want that model) while the job is rejected at once.
 */
export async function guarded(
  ctx: GuardContext,
  step: "load" | "transcribe",
  limitMs: number,
  code: string,
  what: string,
  send: () => Promise<SidecarMessage>,
): Promise<SidecarMessage> {
  const { proc, req, cancelled } = ctx;
  const signal = req.signal;
  if (signal?.aborted) throw cancelled();
  let timedOut = false;
  let aborted = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const timer = setTimeout(() => {
    timedOut = true;
    ctx.log.warn({ pid: proc.pid, limitMs }, `${what} exceeded its time limit: killing the sidecar`);
    proc.kill("SIGKILL");
  }, limitMs);
  const abortedPromise = new Promise<never>((_, reject) => {
    onAbort = () => {
      aborted = true;
      if (step === "load") return reject(cancelled());
      proc.notify({ type: "cancel", id: req.requestId });
      graceTimer = setTimeout(() => {
        ctx.log.warn({ pid: proc.pid, graceMs: ctx.cancelGraceMs }, "a cancelled transcription did not stop within CANCEL_GRACE_MS: killing the sidecar");
        proc.kill("SIGKILL");
      }, ctx.cancelGraceMs);
    };
  });
  abortedPromise.catch(() => {}); // settled only for loads; read through the race below
  signal?.addEventListener("abort", onAbort, { once: true });
  const sent = send();
  sent.catch(() => {}); // a load abandoned by a cancel may still fail later
  try {
    const reply = await Promise.race([sent, abortedPromise]);
    if (aborted) throw cancelled(); // finished in the cancel window: the caller no longer wants it
    return reply;
  } catch (err) {
    if (timedOut) throw new WorkerError(code, `${what} took longer than ${Math.round(limitMs)} ms; the sidecar was killed`, { retryable: true, cause: err });
    if (aborted) {
      if (err instanceof SidecarExit) ctx.onKilledByCancel();
      throw err instanceof WorkerError && err.code === "cancelled" ? err : cancelled();
    }
    throw err;
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    signal?.removeEventListener("abort", onAbort);
  }
}
