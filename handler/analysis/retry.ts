import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log/logger.ts";
import { LlmFailure } from "./failure.ts";

/** Time and chance, injectable so tests can assert waits without waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** In [0, 1): the jitter source. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  },
  random: Math.random,
};

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
  attemptTimeoutMs: number;
}

/** Exponential backoff with "equal jitter": between half and all of base * 2^(n-1), capped. */
export function backoffMs(failedAttempts: number, policy: RetryPolicy, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** (failedAttempts - 1));
  return Math.round(exp * (0.5 + random() * 0.5));
}

/** The server's RetryInfo delay wins over the backoff, but never beyond the cap. */
export function retryWaitMs(failure: LlmFailure, failedAttempts: number, policy: RetryPolicy, random: () => number): number {
  if (failure.retryAfterMs !== undefined) return Math.min(policy.maxMs, failure.retryAfterMs);
  return backoffMs(failedAttempts, policy, random);
}

export interface RetryContext {
  policy: RetryPolicy;
  clock: Clock;
  /** clock.now() value after which no attempt starts and no wait begins. */
  deadline: number;
  /** The caller's signal: aborting it cancels the analysis. */
  signal?: AbortSignal;
  log: Logger;
  /** Called once per HTTP request sent (for usage accounting). */
  onRequest(): void;
}

/** One attempt's signal: aborted by its timeout or by the caller, and it knows which. */
function armAttempt(timeoutMs: number, caller?: AbortSignal) {
  const ctl = new AbortController();
  const state = { timedOut: false };
  const timer = setTimeout(() => {
    state.timedOut = true;
    ctl.abort();
  }, timeoutMs);
  const onAbort = () => ctl.abort();
  if (caller?.aborted) ctl.abort();
  else caller?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: ctl.signal,
    state,
    dispose: () => {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onAbort);
    },
  };
}

const cancelled = () => new LlmFailure("llm_cancelled", "Analysis cancelled by the caller", { retryable: true });

function withAttempts(failure: LlmFailure, attempts: number, note = ""): LlmFailure {
  if (attempts <= 1 && !note) return failure;
  const suffix = attempts > 1 ? ` (after ${attempts} attempts${note})` : ` (${note.replace(/^; /, "")})`;
  return new LlmFailure(failure.code, `${failure.message}${suffix}`, {
    retryable: failure.retryable,
    ...(failure.status !== undefined ? { status: failure.status } : {}),
    ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
    cause: failure,
  });
}

/**
 * Runs `attempt` until it succeeds, fails permanently, runs out of attempts or of time.
 * Retried: failures marked retryNow (429 except daily quota, 500/502/503/504, timeouts,
 * network errors). Throws an LlmFailure; anything else thrown by `attempt` passes through.
 */
export async function callWithRetries<T>(attempt: (signal: AbortSignal) => Promise<T>, ctx: RetryContext): Promise<T> {
  const { policy, clock } = ctx;
  for (let n = 1; ; n++) {
    if (ctx.signal?.aborted) throw cancelled();
    const remaining = ctx.deadline - clock.now();
    if (remaining <= 0) throw new LlmFailure("llm_timeout", "Analysis deadline passed before Gemini answered", { retryable: true });
    const timeoutMs = Math.max(1, Math.min(policy.attemptTimeoutMs, Math.floor(remaining)));

    const guard = armAttempt(timeoutMs, ctx.signal);
    let failure: LlmFailure;
    ctx.onRequest();
    try {
      return await attempt(guard.signal);
    } catch (err) {
      if (ctx.signal?.aborted) throw cancelled();
      if (guard.state.timedOut) {
        failure = new LlmFailure("llm_timeout", `Gemini did not answer within ${timeoutMs} ms`, { retryable: true, retryNow: true });
      } else if (err instanceof LlmFailure) {
        failure = err;
      } else {
        throw err;
      }
    } finally {
      guard.dispose();
    }

    if (!failure.retryNow) throw withAttempts(failure, n);
    if (n >= policy.maxAttempts) throw withAttempts(failure, n);
    const wait = retryWaitMs(failure, n, policy, () => clock.random());
    if (clock.now() + wait >= ctx.deadline) throw withAttempts(failure, n, "; the analysis deadline leaves no time for another");

    ctx.log.warn(
      { code: failure.code, status: failure.status, attempt: n, max_attempts: policy.maxAttempts, wait_ms: wait, server_delay_ms: failure.retryAfterMs },
      "Gemini request failed; retrying",
    );
    try {
      await clock.sleep(wait, ctx.signal);
    } catch {
      throw cancelled();
    }
  }
}
