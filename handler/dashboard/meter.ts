import { AsyncLocalStorage } from "node:async_hooks";
import type { Redis } from "@upstash/redis";

/**
 * Counts the Upstash commands the dashboard sends, the way Upstash bills them (every command of
 * a pipeline or transaction), in total and per request being served: each API answer says what
 * it cost (`x-upstash-commands`), and the overview shows the running total.
 */
export class CommandMeter {
  total = 0;
  readonly #current = new AsyncLocalStorage<{ n: number }>();

  attach(redis: Redis): void {
    redis.use(async (req, next) => {
      const path = req.path?.[0];
      const n = (path === "pipeline" || path === "multi-exec") && Array.isArray(req.body) ? req.body.length : 1;
      this.total += n;
      const scope = this.#current.getStore();
      if (scope) scope.n += n;
      return next(req);
    });
  }

  /** Runs `fn` and says how many commands it sent (its own only, whatever else runs meanwhile). */
  async measure<T>(fn: () => Promise<T>): Promise<{ value: T; commands: number }> {
    const scope = { n: 0 };
    const value = await this.#current.run(scope, fn);
    return { value, commands: scope.n };
  }
}
