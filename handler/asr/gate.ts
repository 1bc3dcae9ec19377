// One job at a time on the one sidecar: later jobs wait their turn, and leave the line when cancelled.
import type { WorkerError } from "../errors.ts";

export class JobGate {
  private busy = false;
  private readonly waiters: (() => void)[] = [];

  async acquire(signal: AbortSignal | undefined, cancelled: () => WorkerError): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(cancelled());
      };
      this.waiters.push(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy = false;
  }

  /** On stop: every waiter goes on (and finds the engine stopped). */
  wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
