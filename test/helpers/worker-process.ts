// Starts the real worker (`npm start`'s program) as a child process, on the faster-whisper
// test double, and reads its JSON log lines.
import { execa, type ResultPromise } from "execa";
import { createInterface } from "node:readline";

export interface WorkerProcess {
  child: ResultPromise;
  lines: string[];
  /** Resolves with the first log line matching `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
}

export const DOUBLE_ENV = { DEVICE: "cpu", PYTHONPATH: "test/doubles", LOG_FORMAT: "json", LOG_LEVEL: "debug" };

export function startWorkerProcess(env: Record<string, string>, args: string[] = []): WorkerProcess {
  const child = execa("node", ["--import", "tsx", "handler/main.ts", ...args], { env: { ...DOUBLE_ENV, ...env }, reject: false, all: true });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  createInterface({ input: child.all }).on("line", (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    child,
    lines,
    waitFor(re, ms = 30_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${re} within ${ms} ms:\n${lines.slice(-15).join("\n")}`)), ms);
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
    async stop(signal = "SIGTERM") {
      child.kill(signal);
      const r = await child;
      return r.exitCode;
    },
  };
}
