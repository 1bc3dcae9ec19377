/** The jobs this worker holds: what the heartbeat reports and what job-stop aborts. */
export interface JobSlots {
  /** Jobs holding a slot, stopped ones that are still winding down included. */
  size(): number;
  /** Jobs in progress as the platform sees them: a stopped job is gone from here at once. */
  ids(): string[];
  has(id: string): boolean;
  /** Holds the job until `task` settles. */
  add(id: string, controller: AbortController, task: Promise<void>): void;
  /**
   * Aborts a job and drops it from `ids()` at once, as the SDK drops a cancelled task from its
   * ping list; it keeps its slot until its task settles (the engine is still busy with it).
   */
  abort(id: string, reason: Error): boolean;
  /** Resolves once fewer than `limit` jobs are held, or on `signal`. */
  whenFree(limit: number, signal: AbortSignal): Promise<void>;
  /** Resolves once at least one job is held, or on `signal`. */
  whenBusy(signal: AbortSignal): Promise<void>;
  /** Resolves once every job held now has settled. */
  settled(): Promise<void>;
}

export function heldJobs(): JobSlots {
  const held = new Map<string, { controller: AbortController; task: Promise<void>; stopped: boolean }>();
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
    ids: () => [...held].filter(([, h]) => !h.stopped).map(([id]) => id),
    has: (id) => held.has(id),
    add(id, controller, task) {
      held.set(id, { controller, task, stopped: false });
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
      h.stopped = true;
      h.controller.abort(reason);
      return true;
    },
    whenFree: (limit, signal) => waitFor(() => held.size < limit, signal),
    whenBusy: (signal) => waitFor(() => held.size > 0, signal),
    settled: async () => void (await Promise.allSettled([...held.values()].map((h) => h.task))),
  };
}
