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
