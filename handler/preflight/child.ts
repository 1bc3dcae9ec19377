// One throwaway child process with a hard time limit: the preflight's only way of touching CUDA,
// because a missing cuDNN aborts the process that loads it and a wedged driver hangs it.
import { execa } from "execa";

export interface ChildOutcome {
  exitCode: number | null;
  /** "SIGABRT" when the native library aborted; "SIGKILL" after a timeout. */
  signal: string | null;
  timedOut: boolean;
  /** The executable could not be started at all (ENOENT, EACCES). */
  spawnError: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface ChildOptions {
  env: Record<string, string | undefined>;
  timeoutMs: number;
  cwd?: string;
}

const MAX_BUFFER = 4 * 1024 * 1024;

export async function runChild(file: string, args: string[], opts: ChildOptions): Promise<ChildOutcome> {
  const started = Date.now();
  const r = await execa(file, args, {
    env: opts.env,
    extendEnv: false,
    cwd: opts.cwd,
    timeout: opts.timeoutMs,
    // A hung CUDA call ignores nothing but SIGKILL is the one signal it cannot block.
    killSignal: "SIGKILL",
    reject: false,
    stdin: "ignore",
    maxBuffer: MAX_BUFFER,
    stripFinalNewline: true,
  });
  const spawnFailed = r.failed && r.exitCode === undefined && r.signal === undefined && !r.timedOut;
  return {
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    timedOut: r.timedOut,
    spawnError: spawnFailed ? (r.cause instanceof Error ? r.cause.message : (r.shortMessage ?? "could not start")) : null,
    stdout: typeof r.stdout === "string" ? r.stdout : "",
    stderr: typeof r.stderr === "string" ? r.stderr : "",
    ms: Date.now() - started,
  };
}

/** The last JSON object printed on stdout (helpers print one per line), or null. */
export function lastJson<T>(stdout: string, accept: (v: Record<string, unknown>) => boolean = () => true): T | null {
  const lines = stdout.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (!line?.startsWith("{")) continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (accept(v)) return v as T;
    } catch {
      // not a JSON line (a library printed to stdout); keep looking
    }
  }
  return null;
}

/** The last `n` characters of stderr, for messages: native libraries explain themselves there. */
export function tail(text: string, n = 600): string {
  const t = text.trim();
  return t.length > n ? `…${t.slice(-n)}` : t;
}
