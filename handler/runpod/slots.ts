/** The jobs this worker holds: what the heartbeat reports, what job-stop and shutdown abort. */
export interface JobSlots {
  size(): number;
  ids(): string[];
  has(id: string): boolean;
  /** Holds the job until `task` settles. */
  add(id: string, controller: AbortController, task: Promise<void>): void;
  abort(id: string, reason: Error): boolean;
  abortAll(reason: Error): void;
  /** Resolves once fewer than `limit` jobs are held, or on `signal`. */
  whenFree(limit: number, signal: AbortSignal): Promise<void>;
  /** Resolves once at least one job is held, or on `signal`. */
  whenBusy(signal: AbortSignal): Promise<void>;
  /** Resolves once every job held now has settled. */
  settled(): Promise<void>;
}

export function heldJobs(): JobSlots {
  const held = new Map<string, { controller: AbortController; task: Promise<void> }>();
  let waiters: Array<() => void> = [];
  const changed = () => {
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  };
  const waitFor = async (ready: () => boolean, signal: AbortSignal) => {
    while (!ready() && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          resolve();
        };
        waiters.push(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  };
  return {
    size: () => held.size,
    ids: () => [...held.keys()],
    has: (id) => held.has(id),
    add(id, controller, task) {
      held.set(id, { controller, task });
      changed();
      const release = () => {
        held.delete(id);
        changed();
      };
      task.then(release, release);
    },
    abort(id, reason) {
      const h = held.get(id);
      if (!h) return false;
      h.controller.abort(reason);
      return true;
    },
    abortAll(reason) {
      for (const h of held.values()) h.controller.abort(reason);
    },
    whenFree: (limit, signal) => waitFor(() => held.size < limit, signal),
    whenBusy: (signal) => waitFor(() => held.size > 0, signal),
    settled: async () => void (await Promise.allSettled([...held.values()].map((h) => h.task))),
  };
}
