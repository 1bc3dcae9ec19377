// A download cut short is never a finished voice message. Every combination of framing
// (Content-Length, chunked, close-delimited) x stall point (headers, early body, late body) x
// outcome (timer fires, peer resets, peer closes cleanly, caller aborts) against a raw-socket
// HTTP peer: each cell ends with its exact error code and retryability, leaves no partial file,
// and never reaches ffprobe/ffmpeg through the pipeline's prepare stage. The only cells that
// succeed are those whose body is whole by HTTP's rules: a close-delimited body ends when the
// peer closes cleanly, wherever that is.
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineInfo, SpeechEngine } from "../../handler/asr/index.ts";
import { downloadToFile, type DownloadPolicy } from "../../handler/audio/fetch-url.ts";
import type { TranscriptAnalyzer } from "../../handler/analysis/index.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { parseJobInput } from "../../handler/pipeline/input.ts";
import { prepareVoiceMessage, type PipelineDeps } from "../../handler/pipeline/pipeline.ts";
import { audioFixtures, type AudioFixtures } from "../../harness/audio-fixtures/generate.ts";
import { bodyBytesBefore, startFramedPeer, waitUntil, type FramedPeer, type Framing, type PeerEnding, type StallPoint } from "./framed-peer.ts";
import { expectWorkerError, testLimits } from "./helpers.ts";

type Outcome = "timer" | "reset" | "clean close" | "caller abort";
type Expected = { code: string; retryable: boolean; reason?: string } | "whole";

const FRAMINGS: Framing[] = ["content-length", "chunked", "close-delimited"];
const STALLS: StallPoint[] = ["headers", "early-body", "late-body"];
const OUTCOMES: Outcome[] = ["timer", "reset", "clean close", "caller abort"];

function expected(framing: Framing, stall: StallPoint, outcome: Outcome): Expected {
  if (outcome === "timer") return { code: "download_timeout", retryable: true };
  if (outcome === "caller abort") return { code: "aborted", retryable: true };
  if (stall === "headers") return { code: "download_failed", retryable: true }; // no response at all
  if (outcome === "reset") return { code: "download_failed", retryable: true, reason: "connection_reset" };
  return framing === "close-delimited" ? "whole" : { code: "download_failed", retryable: true, reason: "incomplete_body" };
}

const CELLS = FRAMINGS.flatMap((framing) =>
  STALLS.flatMap((stall) =>
    OUTCOMES.map((outcome) => {
      const e = expected(framing, stall, outcome);
      return { framing, stall, outcome, expected: e, label: e === "whole" ? "whole body" : `${e.code}${e.reason ? ` (${e.reason})` : ""}` };
    }),
  ),
);

// Small timers where a timer is the outcome; generous ones elsewhere, so a loaded machine cannot
// turn a reset or a close into a timeout.
const timersFor = (outcome: Outcome) =>
  outcome === "timer" ? { connectTimeoutMs: 250, totalTimeoutMs: 600 } : { connectTimeoutMs: 20_000, totalTimeoutMs: 30_000 };

let fx: AudioFixtures;
let ogg: Buffer;
let ffprobe: string;
let ffmpeg: string;
const scratch: string[] = [];

beforeAll(async () => {
  fx = await audioFixtures();
  ogg = await readFile(fx.path("speech.ogg"));
  ffprobe = (await execa("sh", ["-c", "command -v ffprobe"])).stdout.trim();
  ffmpeg = (await execa("sh", ["-c", "command -v ffmpeg"])).stdout.trim();
});
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratchDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "vw-truncated-"));
  scratch.push(d);
  return d;
}

/** ffprobe/ffmpeg wrappers that note each run in `runs.log`, then exec the real tool. */
async function recordingTools(dir: string): Promise<{ ffprobeBin: string; ffmpegBin: string; runs: () => Promise<string[]> }> {
  const log = join(dir, "runs.log");
  const wrap = async (name: string, real: string) => {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\necho "${name}" >> '${log}'\nexec '${real}' "$@"\n`);
    await chmod(path, 0o755);
    return path;
  };
  return {
    ffprobeBin: await wrap("ffprobe", ffprobe),
    ffmpegBin: await wrap("ffmpeg", ffmpeg),
    runs: async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean),
  };
}

const sizeOf = async (path: string) => (await stat(path).catch(() => ({ size: -1 }))).size;

/** The size of the input file inside the one job folder under `base` (-1 while there is none). */
async function jobInputSize(base: string): Promise<number> {
  const dirs = (await readdir(base)).filter((n) => n.startsWith("vw-audio-"));
  return dirs.length === 1 ? sizeOf(join(base, dirs[0]!, "input")) : -1;
}

interface Cell {
  framing: Framing;
  stall: StallPoint;
  outcome: Outcome;
}

/** The peer for a cell; `received()` says how many body bytes the client has written so far. */
async function peerFor(cell: Cell, received: () => Promise<number>): Promise<FramedPeer> {
  const ending: PeerEnding = cell.outcome === "reset" ? "reset" : cell.outcome === "clean close" ? "close" : "hold";
  const partial = cell.stall === "headers" ? 0 : bodyBytesBefore(cell.stall, cell.framing, ogg.length);
  return startFramedPeer({
    framing: cell.framing,
    body: ogg,
    stallAt: cell.stall,
    ending,
    beforeReset: partial === 0 ? undefined : () => waitUntil(async () => (await received()) >= partial, `the client holds the ${partial} bytes sent`),
  });
}

/** Fires the caller's signal once the peer has stalled. */
function callerAbort(cell: Cell, peer: FramedPeer): AbortSignal | undefined {
  if (cell.outcome !== "caller abort") return undefined;
  const ctl = new AbortController();
  void peer.stalled.then(() => ctl.abort(new Error("lease lost")));
  return ctl.signal;
}

const unreachable = (what: string) => () => {
  throw new Error(`the prepare stage must not reach the ${what}`);
};
const engine: SpeechEngine = {
  start: unreachable("engine"),
  // The prepare stage checks the job's options before it downloads; these jobs have none.
  validate: () => ({ model: "tiny" }) as ReturnType<SpeechEngine["validate"]>,
  transcribe: unreachable("engine"),
  stop: unreachable("engine"),
  get info(): EngineInfo {
    return unreachable("engine")();
  },
};
const analyzer: TranscriptAnalyzer = { analyze: unreachable("analyzer") };
const urlJob = (url: string) => parseJobInput({ audio: url }, "queue");

describe.concurrent("downloadToFile: framing x stall point x outcome", () => {
  it.each(CELLS)("$framing, stalled at $stall, $outcome -> $label", async (cell) => {
    const dir = await scratchDir();
    const dest = join(dir, "input");
    const peer = await peerFor(cell, () => sizeOf(dest));
    try {
      const policy: DownloadPolicy = { maxBytes: 1024 * 1024, maxRedirects: 0, allowPrivate: true, ...timersFor(cell.outcome) };
      const download = downloadToFile(peer.url, dest, policy, callerAbort(cell, peer));
      if (cell.expected === "whole") {
        const r = await download;
        const sent = bodyBytesBefore(cell.stall, cell.framing, ogg.length);
        expect(r.bytes).toBe(sent);
        expect((await readFile(dest)).equals(ogg.subarray(0, sent))).toBe(true);
        return;
      }
      const err = await expectWorkerError(download, cell.expected.code, cell.expected.retryable);
      if (cell.expected.reason) {
        expect(err.details).toMatchObject({ reason: cell.expected.reason, framing: cell.framing });
        expect(err.message).toMatch(/^the body from http:\/\/127\.0\.0\.1:\d+\/voice\.ogg was cut off after \d+ bytes/);
      }
      await expect(stat(dest), "the partial file is removed").rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await peer.close();
    }
  });
});

describe.concurrent("the prepare stage never decodes a body cut short", () => {
  it.each(CELLS)("$framing, stalled at $stall, $outcome -> $label", async (cell) => {
    const base = await scratchDir();
    const tools = await recordingTools(await scratchDir());
    const peer = await peerFor(cell, () => jobInputSize(base));
    try {
      const t = timersFor(cell.outcome);
      const deps: PipelineDeps = {
        audioLimits: testLimits(base, { ...tools, connectTimeoutMs: t.connectTimeoutMs, downloadTimeoutMs: t.totalTimeoutMs }),
        engine,
        analyzer,
      };
      const prepared = prepareVoiceMessage(urlJob(peer.url), null, deps, { log: createLogger({ level: "silent" }), signal: callerAbort(cell, peer) });
      if (cell.expected === "whole") {
        // Whole by HTTP's rules, so it is judged by its content: it reaches ffprobe.
        await prepared.catch(() => undefined);
        expect((await tools.runs())[0]).toBe("ffprobe");
      } else {
        await expectWorkerError(prepared, cell.expected.code, cell.expected.retryable);
        expect(await tools.runs(), "ffprobe/ffmpeg runs").toEqual([]);
      }
      expect(await readdir(base), "no job folder or partial file left").toEqual([]);
    } finally {
      await peer.close();
    }
  });
});

describe.concurrent("whole bodies in every framing are decoded", () => {
  it.each(FRAMINGS)("%s, complete, then a clean close", async (framing) => {
    const base = await scratchDir();
    const dest = join(await scratchDir(), "input");
    const peer = await startFramedPeer({ framing, body: ogg, stallAt: "complete", ending: "close" });
    try {
      const r = await downloadToFile(peer.url, dest, {
        maxBytes: 1024 * 1024,
        maxRedirects: 0,
        allowPrivate: true,
        connectTimeoutMs: 20_000,
        totalTimeoutMs: 30_000,
      });
      expect(r.bytes).toBe(ogg.length);
      expect((await readFile(dest)).equals(ogg)).toBe(true);
      const deps: PipelineDeps = { audioLimits: testLimits(base), engine, analyzer };
      const { audio } = await prepareVoiceMessage(urlJob(peer.url), null, deps, { log: createLogger({ level: "silent" }) });
      expect(Math.abs(audio.durationS - fx.speechSeconds)).toBeLessThanOrEqual(0.05);
      expect(await readdir(base)).toEqual([]);
    } finally {
      await peer.close();
    }
  });
});

describe.concurrent("slow senders are a retryable timeout, never a judgement of the audio", () => {
  // The two reports in issue 14: both were decoded (one as COMPLETED with a third missing, one as
  // a permanent unsupported_format).
  it.each([
    { name: "1 byte/s from the first byte", share: 0 },
    { name: "60 % at once, then 1 byte/s", share: 0.6 },
  ])("close-delimited, $name -> download_timeout (retryable), nothing decoded", async ({ share }) => {
    const prefix = Math.floor(share * ogg.length);
    const base = await scratchDir();
    const tools = await recordingTools(await scratchDir());
    const peer = await startFramedPeer({ framing: "close-delimited", body: ogg, stallAt: "complete", ending: "hold", drip: { prefix, dripMs: 1000 } });
    try {
      const deps: PipelineDeps = { audioLimits: testLimits(base, { ...tools, downloadTimeoutMs: 1500 }), engine, analyzer };
      await expectWorkerError(prepareVoiceMessage(urlJob(peer.url), null, deps, { log: createLogger({ level: "silent" }) }), "download_timeout", true);
      expect(await tools.runs()).toEqual([]);
      expect(await readdir(base)).toEqual([]);
    } finally {
      await peer.close();
    }
  });
});
