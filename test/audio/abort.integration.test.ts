// An AbortSignal (shutdown, lost lease) stops intake at once: the download is dropped, ffmpeg is
// SIGKILLed, the temp folder still goes away, and the error says "aborted" (retryable).
import { readFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadVoiceMessage } from "../../handler/audio/index.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { audioFixtures, type AudioFixtures } from "../../harness/audio-fixtures/generate.ts";
import { captureLog, expectNoLeftovers, expectWorkerError, makeTempBase, removeTempBase, startHttpServer, testLimits, type TestServer } from "./helpers.ts";

let fx: AudioFixtures;
let base: string;
let longOgg: Buffer;

beforeAll(async () => {
  fx = await audioFixtures();
  base = await makeTempBase();
  longOgg = await readFile(fx.path("speech-60s.ogg"));
});
afterEach(async () => {
  await expectNoLeftovers(base);
});
afterAll(async () => {
  await removeTempBase(base);
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("abort", () => {
  it("mid-decode: ffmpeg is killed, the temp folder removed, the error is aborted (retryable)", async () => {
    const ctl = new AbortController();
    let pid: number | undefined;
    // Abort the moment the decoder process exists (the log line is written synchronously).
    const { destination } = captureLog((line) => {
      if (line.msg === "decode started") {
        pid = line.pid as number;
        ctl.abort(new Error("shutting down"));
      }
    });
    const log = createLogger({ level: "debug", destination });
    const err = await expectWorkerError(loadVoiceMessage({ kind: "bytes", data: longOgg }, testLimits(base), { signal: ctl.signal, log }), "aborted", true);
    expect(err.message).toMatch(/during ffmpeg/);
    expect((err.cause as Error).message).toBe("shutting down");
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid as number)).toBe(false);
  });

  it("mid-download: the request is dropped", async () => {
    const ctl = new AbortController();
    let server: TestServer | undefined;
    try {
      server = await startHttpServer((_req, res) => {
        res.writeHead(200, { "content-length": 1_000_000 });
        // The lease is lost once part of the body is on its way; the rest never comes.
        res.write(Buffer.alloc(1000), () => ctl.abort(new Error("lease lost")));
      });
      const err = await expectWorkerError(loadVoiceMessage({ kind: "url", url: server.url() }, testLimits(base), { signal: ctl.signal }), "aborted", true);
      expect(err.message).toMatch(/during download/);
    } finally {
      await server?.close();
    }
  });

  it("an already aborted signal does nothing at all", async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expectWorkerError(loadVoiceMessage({ kind: "bytes", data: longOgg }, testLimits(base), { signal: ctl.signal }), "aborted", true);
  });

  it("a signal that never fires does not disturb a normal decode", async () => {
    const ctl = new AbortController();
    const out = await loadVoiceMessage({ kind: "bytes", data: longOgg }, testLimits(base), { signal: ctl.signal });
    expect(Math.abs(out.durationS - 60)).toBeLessThanOrEqual(0.05);
  });
});
