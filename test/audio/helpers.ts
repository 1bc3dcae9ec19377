// Shared test plumbing: limits pointing at a private temp base, real HTTP servers on 127.0.0.1,
// and assertions for error codes and temp leftovers.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { WorkerError } from "../../handler/errors.ts";
import type { AudioLimits } from "../../handler/audio/index.ts";

export async function makeTempBase(): Promise<string> {
  return mkdtemp(join(tmpdir(), "vw-audio-test-"));
}

export async function removeTempBase(base: string): Promise<void> {
  await rm(base, { recursive: true, force: true });
}

export function testLimits(tempDir: string, overrides: Partial<AudioLimits> = {}): AudioLimits {
  return {
    maxBytes: 25 * 1024 * 1024,
    maxDurationS: 900,
    connectTimeoutMs: 5000,
    downloadTimeoutMs: 20_000,
    decodeTimeoutMs: 20_000,
    allowPrivateUrls: true, // the test servers live on 127.0.0.1
    maxRedirects: 3,
    ffmpegBin: "ffmpeg",
    ffprobeBin: "ffprobe",
    tempDir,
    ...overrides,
  };
}

/** Awaits a rejection and checks it is the WorkerError we expect. */
export async function expectWorkerError(p: Promise<unknown>, code: string, retryable?: boolean): Promise<WorkerError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}, got success`).toBeInstanceOf(WorkerError);
  const err = caught as WorkerError;
  expect({ code: err.code, message: err.message }).toMatchObject({ code });
  if (retryable !== undefined) expect(err.retryable, `${code}: retryable`).toBe(retryable);
  return err;
}

export async function expectNoLeftovers(base: string): Promise<void> {
  expect(await readdir(base)).toEqual([]);
}

export interface TestServer {
  url: (path?: string) => string;
  port: number;
  /** Every request seen, in order. */
  requests: Array<{ method: string; url: string; headers: IncomingMessage["headers"] }>;
  close(): Promise<void>;
}

export async function startHttpServer(handler: (req: IncomingMessage, res: ServerResponse) => void, host = "127.0.0.1"): Promise<TestServer> {
  const requests: TestServer["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    port,
    requests,
    url: (path = "/") => `http://${host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A raw TCP server, for responses no well-behaved HTTP library would send. */
export async function startRawServer(onSocket: (socket: Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/voice.ogg`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Collects pino lines (JSON) and lets a test react to one as it is written. */
export function captureLog(onLine?: (line: Record<string, unknown>) => void) {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    destination: {
      write(line: string) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        onLine?.(parsed);
      },
    },
  };
}
