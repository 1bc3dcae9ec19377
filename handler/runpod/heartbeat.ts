import type { Logger } from "../log/logger.ts";
import { httpRequest } from "./http.ts";

export interface HeartbeatOptions {
  /** The ping URL for the jobs now held; null: no ping template. */
  url: (jobIds: readonly string[]) => string | null;
  jobIds: () => readonly string[];
  intervalMs: number;
  headers: Record<string, string>;
  log: Logger;
}

/**
 * Pings on a fixed-rate timer of its own, never waiting for job work: a slow ping does not delay
 * the next tick (each one is bounded by the interval). The first ping goes out at once.
 */
export function startHeartbeat(opts: HeartbeatOptions): { stop(): void } {
  const stopped = new AbortController();
  let failing = false;
  const tick = () => {
    const url = opts.url(opts.jobIds());
    if (!url) return;
    httpRequest(url, { headers: opts.headers, timeoutMs: opts.intervalMs, signal: stopped.signal }).then(
      (reply) => {
        if (reply.status >= 200 && reply.status <= 299) {
          if (failing) opts.log.info("heartbeat recovered");
          failing = false;
        } else if (!failing) {
          failing = true;
          opts.log.warn({ status: reply.status }, "heartbeat refused");
        }
      },
      (err: unknown) => {
        if (stopped.signal.aborted || failing) return;
        failing = true;
        opts.log.warn({ err }, "heartbeat failed");
      },
    );
  };
  tick();
  const timer = setInterval(tick, opts.intervalMs);
  return {
    stop() {
      clearInterval(timer);
      stopped.abort();
    },
  };
}
