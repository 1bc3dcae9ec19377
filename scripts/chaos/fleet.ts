// The worker processes of a chaos run, kept alive like a supervisor would: a worker that the
// driver kills is started again at once; one that dies on its own is counted, then restarted.
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { isSidecar, startWorkerProcess, type WorkerExit, type WorkerProcess } from "../bench/worker-process.ts";

interface Slot {
  index: number;
  generation: number;
  proc: WorkerProcess;
  ready: boolean;
  /** Set before the driver kills or stops it: its exit is expected. */
  expectExit: boolean;
  log: WriteStream;
}

export interface UnexpectedExit {
  slot: number;
  generation: number;
  exit: WorkerExit;
  /** The worker's last log lines: why it died. */
  tail: string[];
}

export class Fleet {
  readonly slots: Slot[] = [];
  readonly sidecarPids = new Set<number>();
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Log lines at level fatal (60) or error (50), from every worker. */
  readonly errorLines: string[] = [];
  #stopping = false;

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  start(count: number): void {
    for (let i = 0; i < count; i++) this.#spawn(i, 0);
  }

  #spawn(index: number, generation: number): void {
    const log = createWriteStream(join(this.logDir, `worker-${index}-${generation}.log`));
    const proc = startWorkerProcess(this.env, {
      onLine: (line) => {
        log.write(`${line}\n`);
        if (line.includes("speech sidecar ready")) {
          const pid = (JSON.parse(line) as { pid?: unknown }).pid;
          if (typeof pid === "number") this.sidecarPids.add(pid);
        }
        if (/"level":(50|60)/.test(line)) this.errorLines.push(line);
      },
    });
    const slot: Slot = { index, generation, proc, ready: false, expectExit: false, log };
    this.slots[index] = slot;
    proc.waitFor(/consuming the queue/, 120_000).then(
      () => void (slot.ready = true),
      () => undefined,
    );
    void proc.exited.then((exit) => {
      slot.ready = false;
      log.end();
      if (slot.expectExit || this.#stopping) return;
      this.unexpectedExits.push({ slot: index, generation, exit, tail: proc.lines.slice(-8) });
      if (this.slots[index] === slot) this.#spawn(index, generation + 1);
    });
  }

  /** Slots whose worker is consuming the queue. */
  readySlots(): number[] {
    return this.slots.filter((s) => s.ready && s.proc.alive).map((s) => s.index);
  }

  async waitReady(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.readySlots().length < this.slots.length) {
      if (Date.now() > deadline)
        throw new Error(`workers not ready within ${ms} ms:\n${this.slots.map((s) => s.proc.lines.slice(-5).join("\n")).join("\n---\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL the worker in `index`, then start a new one there. */
  async killWorker(index: number): Promise<void> {
    const slot = this.slots[index]!;
    slot.expectExit = true;
    slot.proc.kill("SIGKILL");
    await slot.proc.exited;
    if (!this.#stopping) this.#spawn(index, slot.generation + 1);
  }

  /** SIGKILL the speech sidecar of the worker in `index`; false when it has none alive. */
  killSidecar(index: number): number | null {
    const pid = this.slots[index]?.proc.sidecarPid() ?? null;
    if (pid === null) return null;
    try {
      process.kill(pid, "SIGKILL");
      return pid;
    } catch {
      return null;
    }
  }

  /** Stops every worker (SIGTERM, as a deployment would): how they exited, and sidecars left running. */
  async stop(): Promise<{ orphanSidecars: number[]; exits: WorkerExit[] }> {
    this.#stopping = true;
    const exits = await Promise.all(
      this.slots.map(async (s) => {
        const wasAlive = s.proc.alive;
        s.expectExit = true;
        const exit = await s.proc.stop("SIGTERM", 20_000);
        return wasAlive ? exit : null;
      }),
    );
    // A killed worker's sidecar sees its stdin close and exits; give it a moment to do so.
    const deadline = Date.now() + 5000;
    let orphans = [...this.sidecarPids].filter(isSidecar);
    while (orphans.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      orphans = orphans.filter(isSidecar);
    }
    for (const pid of orphans) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    return { orphanSidecars: orphans, exits: exits.filter((e): e is WorkerExit => e !== null) };
  }
}
