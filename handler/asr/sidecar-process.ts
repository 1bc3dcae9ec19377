// One running sidecar process: spawn, hello, request/response correlation by id, exit watch.
// Never throws into the event loop: a dead child turns every pending request into a rejected
// promise carrying a SidecarExit, which the engine classifies.
import { execa, type ResultPromise } from "execa";
import { childEnv } from "../config/child-env.ts";
import type { Logger } from "../log/logger.ts";
import { encodeRequest, LineSplitter, parseMessage, type HelloMessage, type SidecarMessage, type SidecarRequest } from "./protocol.ts";

export interface SpawnSpec {
  python: string;
  script: string;
  args: string[];
  /** Added to the worker's environment (LD_LIBRARY_PATH, PYTHONPATH, ...). */
  env: Record<string, string>;
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Last lines the sidecar wrote to stderr (for crash reasons such as a cuDNN message). */
  stderrTail: string;
  /** Set when the process could not be started at all (e.g. the interpreter is missing). */
  spawnError?: string;
}

/** A request that ended because the process did. */
export class SidecarExit extends Error {
  constructor(readonly exit: ExitInfo) {
    super(`sidecar exited (${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})`);
    this.name = "SidecarExit";
  }
}

/** The sidecar answered with `error`. */
export class SidecarReplyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "SidecarReplyError";
  }
}

interface Pending {
  resolve: (m: SidecarMessage) => void;
  reject: (e: Error) => void;
  onEvent?: (m: SidecarMessage) => void;
}

const STDERR_TAIL_CHARS = 8000;

export class SidecarProcess {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ResultPromise<{ stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; buffer: false; reject: false }>;
  private readonly pending = new Map<string, Pending>();
  private helloWaiter: Pending | null = null;
  private stderrTail = "";
  private exitInfo: ExitInfo | null = null;
  private hello: HelloMessage | null = null;

  constructor(
    spec: SpawnSpec,
    private readonly log: Logger,
    private readonly onUnsolicited: (m: SidecarMessage) => void = () => {},
  ) {
    this.child = execa(spec.python, [spec.script, ...spec.args], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      cleanup: true,
      // The sidecar needs no credentials: secrets stay out of its environment.
      env: childEnv(spec.env),
      extendEnv: false,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
    });
    // A write after the child died emits EPIPE here; the exit path reports it instead.
    this.child.stdin.on("error", (err) => this.log.debug({ err }, "sidecar stdin closed"));
    const lines = new LineSplitter();
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => lines.push(chunk, (line) => this.onLine(line)));
    const errLines = new LineSplitter();
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
      errLines.push(chunk, (line) => {
        // The sidecar logs INFO lines routinely; its warnings and tracebacks deserve attention.
        if (/\b(WARNING|ERROR|CRITICAL)\b|Traceback|Unable to load|Could not load/.test(line)) this.log.warn({ sidecar: this.child.pid }, line);
        else this.log.debug({ sidecar: this.child.pid }, line);
      });
    });
    this.exited = this.child.then(
      (res) => {
        const neverRan = res.failed && res.exitCode === undefined && res.signal === undefined;
        return this.onExit({ code: res.exitCode ?? null, signal: res.signal ?? null, spawnError: neverRan ? res.shortMessage : undefined });
      },
      (err: unknown) => this.onExit({ code: null, signal: null, spawnError: String(err) }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  /** Resolves with the hello message; rejects on timeout (the child is then killed) or exit. */
  waitHello(timeoutMs: number): Promise<HelloMessage> {
    if (this.hello) return Promise.resolve(this.hello);
    return new Promise<HelloMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.helloWaiter = null;
        this.kill("SIGKILL");
        reject(new Error(`no hello from the sidecar within ${timeoutMs} ms`));
      }, timeoutMs);
      this.helloWaiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as HelloMessage);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /**
   * Sends a request and resolves with its terminal reply (result, loaded, status); an `error`
   * reply rejects with SidecarReplyError. Intermediate messages (progress, segment) go to onEvent.
   */
  request(req: Extract<SidecarRequest, { id: string }>, pcm?: Buffer, onEvent?: (m: SidecarMessage) => void): Promise<SidecarMessage> {
    if (this.exitInfo) return Promise.reject(new SidecarExit(this.exitInfo));
    return new Promise<SidecarMessage>((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject, onEvent });
      this.write(encodeRequest(req), pcm);
    });
  }

  /** Fire-and-forget messages (cancel, shutdown). */
  notify(req: SidecarRequest): void {
    if (this.exitInfo) return;
    this.write(encodeRequest(req));
  }

  kill(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): void {
    if (this.exitInfo) return;
    this.child.kill(signal);
  }

  /** Asks the sidecar to exit; kills it if it has not within graceMs. */
  async shutdown(graceMs: number): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.notify({ type: "shutdown" });
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private write(header: string, pcm?: Buffer): void {
    // Writes queue inside the stream in order; backpressure only costs memory we already hold.
    this.child.stdin.write(header);
    if (pcm && pcm.length) this.child.stdin.write(pcm);
  }

  private onLine(line: string): void {
    const msg = parseMessage(line);
    if (!msg) {
      this.log.warn({ line: line.slice(0, 200) }, "sidecar wrote a line that is not a protocol message");
      return;
    }
    if (msg.type === "hello") {
      this.hello = msg;
      this.helloWaiter?.resolve(msg);
      this.helloWaiter = null;
      return;
    }
    const id = "id" in msg ? msg.id : null;
    const pending = id !== null ? this.pending.get(id) : undefined;
    if (!pending) {
      if (msg.type === "error" && msg.id === null) this.log.error({ code: msg.code }, `sidecar: ${msg.message}`);
      this.onUnsolicited(msg);
      return;
    }
    if (msg.type === "progress" || msg.type === "segment") {
      pending.onEvent?.(msg);
      return;
    }
    this.pending.delete(id!);
    if (msg.type === "error") pending.reject(new SidecarReplyError(msg.code, msg.message, msg.retryable));
    else pending.resolve(msg);
  }

  private onExit(res: { code: number | null; signal: string | null; spawnError?: string }): ExitInfo {
    const info: ExitInfo = { code: res.code, signal: res.signal, stderrTail: this.stderrTail };
    if (res.spawnError) info.spawnError = res.spawnError;
    this.exitInfo = info;
    const err = new SidecarExit(info);
    this.helloWaiter?.reject(err);
    this.helloWaiter = null;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    return info;
  }
}
