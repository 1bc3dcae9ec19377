import { setTimeout as sleep } from "node:timers/promises";

/** Sleeps, ending early (without throwing) when `signal` aborts. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

/** Exponential delay from `baseMs` (doubling per failure, capped at `maxMs`), never below `baseMs`, plus up to 50 % jitter. */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(baseMs, maxMs), baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp + random() * exp * 0.5);
}

/** Bounds of the waits after a failed job-take or job-stop poll. */
export interface RetryTiming {
  /** After a 429 without Retry-After (the SDK's flat 5 s). */
  throttleMs: number;
  /** After any other failure: doubling from `errorBaseMs`, never above `errorMaxMs`. */
  errorBaseMs: number;
  errorMaxMs: number;
  /** A Retry-After from the platform is honoured up to this long (and never below `errorBaseMs`). */
  retryAfterMaxMs: number;
}

/**
 * A Retry-After header (delta-seconds or an HTTP date) as milliseconds from `now`; null when
 * absent or unreadable.
 */
export function parseRetryAfterMs(header: string | null | undefined, now: number = Date.now()): number | null {
  const text = header?.trim();
  if (!text) return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its weekday or month; a bare "-3" is not a date, whatever Date.parse thinks.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * How long to wait after the `failures`-th failed poll in a row. The platform's Retry-After
 * wins, clamped to [errorBaseMs, retryAfterMaxMs]; else 429 waits `throttleMs` and anything
 * else doubles from `errorBaseMs` up to `errorMaxMs`. Jitter only shortens a wait (to 80 %),
 * so no wait exceeds its bound: the pings say the worker is healthy, a long wait would leave
 * queued jobs idle.
 */
export function retryDelayMs(
  f: { throttled: boolean; failures: number; retryAfter?: string | null },
  t: RetryTiming,
  random: () => number = Math.random,
  now: number = Date.now(),
): number {
  const asked = parseRetryAfterMs(f.retryAfter, now);
  if (asked !== null) return Math.min(t.retryAfterMaxMs, Math.max(t.errorBaseMs, asked));
  const bound = f.throttled ? t.throttleMs : Math.min(t.errorMaxMs, t.errorBaseMs * 2 ** Math.min(30, Math.max(0, f.failures - 1)));
  return Math.round(bound * (0.8 + 0.2 * random()));
}

/** Whether `work` settled within `ms`; leaves no timer behind either way. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const done = new AbortController();
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, sleep(ms, false, { signal: done.signal }).catch(() => false)]);
  done.abort();
  return result;
}

/** `work`, or a rejection after `ms`; leaves no timer behind. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
