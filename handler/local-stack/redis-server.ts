import { mkdtemp, rm, chmod } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { WorkerError } from "../errors.ts";
import { findExecutable } from "./find-executable.ts";
import { freePort } from "../net/ports.ts";

export interface RedisServer {
  host: string;
  port: number;
  pid: number;
  /** Private data directory (mode 0700), removed on stop. */
  dir: string;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Path of redis-server; PATH (and sbin folders) searched when omitted. */
  bin?: string;
  port?: number;
  startTimeoutMs?: number;
}

export function findRedisServer(bin?: string): string {
  const found = findExecutable(bin ?? "redis-server");
  if (!found) {
    throw new WorkerError(
      "redis_server_missing",
      `redis-server not found${bin ? ` at ${bin}` : " on PATH"}. Install it with \`sudo apt-get install redis-server\` ` +
        "(or run `npm run setup`), or set REDIS_SERVER_BIN.",
      { retryable: false },
    );
  }
  return found;
}

/**
 * Starts a private, non-persistent redis-server on loopback and waits until it answers PING.
 * The child cannot outlive us: execa kills it when this process exits or is signalled, and
 * `setpriv --pdeathsig` (util-linux) makes the kernel kill it even if we are SIGKILLed.
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = findRedisServer(opts.bin);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await launch(bin, port, opts.startTimeoutMs ?? 10_000);
    } catch (err) {
      lastError = err;
      if (opts.port !== undefined) break; // a fixed port that is taken will stay taken
    }
  }
  throw lastError;
}

async function launch(bin: string, port: number, timeoutMs: number): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "vw-redis-"));
  await chmod(dir, 0o700);
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--logfile",
    "",
    "--loglevel",
    "warning",
  ];
  const setpriv = findExecutable("setpriv");
  // Own process group: a terminal's Ctrl-C must not kill Redis before the worker has drained.
  const opts = { reject: false, cleanup: true, detached: true, stdin: "ignore", buffer: false } as const;
  const child: ResultPromise = setpriv ? execa(setpriv, ["--pdeathsig", "SIGKILL", "--", bin, ...args], opts) : execa(bin, args, opts);
  let exited = false;
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  child.stderr?.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  const exit = child.then(() => void (exited = true));

  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await answersAs(port, child.pid)) {
      return { host: "127.0.0.1", port, pid: child.pid ?? -1, dir, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new WorkerError("redis_start_failed", `redis-server did not start on port ${port}: ${output.trim() || "no output"}`, {
    retryable: true,
  });
}

/**
 * True when the server on `port` is our child: another process's redis-server may hold the port
 * (we lost the race for it and our child is about to exit), and its PONG must not pass for ours.
 * (setpriv execs redis-server, so the child's pid is redis-server's.)
 */
function answersAs(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once("error", () => done(false));
    sock.once("connect", () => sock.write("INFO server\r\n"));
    sock.on("data", (d: Buffer) => {
      reply += d.toString();
      const m = /process_id:(\d+)\r\n/.exec(reply);
      if (m) done(pid === undefined || Number(m[1]) === pid);
      else if (reply.startsWith("-")) done(false); // loading, or an error: not ready yet
    });
  });
}
