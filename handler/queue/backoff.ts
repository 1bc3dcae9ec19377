/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so that a burst of failures spreads out
 * but a retry never comes much sooner than planned.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Idle polling: starts at `minMs`, doubles while the queue stays empty, resets on work. */
export class IdleBackoff {
  #current: number;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.#current = minMs;
  }

  /** The next sleep; optionally no later than when a delayed retry becomes due. */
  next(dueInMs?: number): number {
    const wait = this.#current;
    this.#current = Math.min(this.maxMs, this.#current * 2);
    return dueInMs !== undefined && dueInMs >= 0 ? Math.max(this.minMs, Math.min(wait, dueInMs)) : wait;
  }

  reset(): void {
    this.#current = this.minMs;
  }
}
