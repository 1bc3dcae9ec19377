// The bad-input corpus through the REAL worker processes: queued jobs (queue API -> worker on the
// local stack -> dead letter, `last_error.code`) and RunPod jobs (runpod-sdk runSync -> dev
// server -> worker, `error_type`). Afterwards both workers are alive and still complete a good
// job, no temp file is left, no local file named by an input was opened, no secret was logged.
import { constants, readFileSync } from "node:fs";
import { mkdtemp, open, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Socket } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import runpodSdk from "runpod-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readyScore, type JobStatus } from "../../handler/queue/job.ts";
import { QueueScripts } from "../../handler/queue/scripts.ts";
import { parseErrorReport } from "../../handler/runpod/result.ts";
import { freePort } from "../../handler/net/ports.ts";
import { startRunpodDevServer, type RunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { readJobs } from "../../scripts/bench/jobs.ts";
import { newPrefix, startBenchStack, type BenchStack } from "../../scripts/bench/stack.ts";
import { sleep } from "../../scripts/bench/stats.ts";
import { startWorkerProcess, type WorkerProcess } from "../../scripts/bench/worker-process.ts";
import { startHttpServer, type TestServer } from "../audio/helpers.ts";
import { audioFixtures } from "../../harness/audio-fixtures/generate.ts";
import { SAMPLE_ANALYSIS, startFakeGemini, type FakeGemini } from "../../harness/gemini-server.ts";
import { QUEUE_CASES, RUNPOD_CASES, hlsPlaylist, type CorpusEnv } from "./corpus-cases.ts";

const TEXT = "Please call me back about the invoice tomorrow.";
const GEMINI_KEY = `corpus-gemini-${Date.now()}-key-0123456789`;
let stack: BenchStack;
let gemini: FakeGemini;
let dev: RunpodDevServer;
let hostile: TestServer;
let tmp: string; // AUDIO_TMP_DIR of both workers
let sentinels: string;
let env: CorpusEnv;
let queueWorker: WorkerProcess;
let runpodWorker: WorkerProcess;
const prefix = newPrefix("corpus");

beforeAll(async () => {
  const fx = await audioFixtures();
  tmp = await mkdtemp(join(tmpdir(), "vw-corpus-tmp-"));
  sentinels = await mkdtemp(join(tmpdir(), "vw-corpus-sentinels-"));
  const fifo = join(sentinels, "sentinel.mp3");
  await execa("mkfifo", [fifo]);
  const speechOgg = readFileSync(fx.path("speech.ogg"));
  const bomb = gzipSync(Buffer.alloc(8 * 2 ** 20));
  hostile = await startHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/speech.ogg") return void res.writeHead(200, { "content-type": "audio/ogg" }).end(speechOgg);
    if (path === "/loop") return void res.writeHead(302, { location: "/loop" }).end();
    if (path === "/to-file") return void res.writeHead(301, { location: "file:///etc/passwd" }).end();
    if (path === "/gzip") return void res.writeHead(200, { "content-encoding": "gzip", "content-length": bomb.length }).end(bomb);
    if (path === "/big") return void res.writeHead(200, { "content-length": 2 * 2 ** 20 }).end(Buffer.alloc(2 * 2 ** 20));
    if (path === "/oops") return void res.writeHead(500).end("oops");
    if (path === "/hls.ogg") return void res.writeHead(200, { "content-type": "audio/ogg" }).end(hlsPlaylist(fifo));
    if (path === "/cut-short.ogg") return void sendCutShort(req.socket, speechOgg);
    res.writeHead(404).end("not found");
  });
  env = {
    fx,
    fifo,
    url: (p) => hostile.url(p),
    closedPort: await freePort(),
    planted: { queryToken: `sig${Date.now()}QueryTokenSecret`, password: `pw${Date.now()}Secret` },
  };
  stack = await startBenchStack();
  gemini = await startFakeGemini({ apiKey: GEMINI_KEY });
  dev = await startRunpodDevServer({ pingIntervalMs: 2000, takeWaitMs: 1000 });
  const common = {
    AUDIO_TMP_DIR: tmp,
    FAKE_FW_TEXT: TEXT,
    GEMINI_API_KEY: GEMINI_KEY,
    GEMINI_BASE_URL: gemini.baseUrl,
    MAX_AUDIO_MB: "1",
    MAX_AUDIO_DURATION_S: "30",
    DECODE_TIMEOUT_MS: "20000", // a reader blocked on the FIFO would end as decode_timeout
    DOWNLOAD_TIMEOUT_MS: "10000",
    LOG_LEVEL: "trace",
  };
  queueWorker = startWorkerProcess({
    ...common,
    ...stack.workerEnv(),
    QUEUE_PREFIX: prefix,
    ALLOW_PRIVATE_URLS: "true",
    MAX_ATTEMPTS: "1",
    IDLE_POLL_MAX_MS: "200",
  });
  // RunPod mode, no Upstash settings, private addresses refused (the default).
  runpodWorker = startWorkerProcess({ ...common, ...dev.workerEnv("pod-corpus") });
  await Promise.all([queueWorker.waitFor(/consuming the queue/, 90_000), runpodWorker.waitFor(/speech engine ready/, 90_000)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([queueWorker?.stop(), runpodWorker?.stop()]);
  await Promise.all([stack?.stop(), gemini?.close(), dev?.close(), hostile?.close()]);
  await rm(tmp, { recursive: true, force: true });
  await rm(sentinels, { recursive: true, force: true });
});

/**
 * A close-delimited response (no Content-Length, not chunked) written straight to the socket: 60 %
 * of a real ogg at once, then 1 byte/s until the client gives up. Decoding what had arrived when
 * DOWNLOAD_TIMEOUT_MS fired once completed such a job with a third of the message missing.
 */
function sendCutShort(socket: Socket, ogg: Buffer): void {
  socket.write("HTTP/1.1 200 OK\r\nContent-Type: audio/ogg\r\nConnection: close\r\n\r\n");
  let at = Math.floor(ogg.length * 0.6);
  socket.write(ogg.subarray(0, at));
  const drip = setInterval(() => {
    if (socket.destroyed || at >= ogg.length - 1) return void clearInterval(drip);
    socket.write(ogg.subarray(at, ++at));
  }, 1000);
  socket.once("close", () => clearInterval(drip));
}

const queueCaseId = (i: number) => `case-${String(i).padStart(2, "0")}`;

/** Every error message the workers produced (Redis records, RunPod reports): checked for secrets too. */
const errorTexts: string[] = [];

describe("queued jobs: each bad one ends in the dead letter with its code", () => {
  let outcome: Promise<JobStatus[]>;
  beforeAll(() => {
    outcome = (async () => {
      const queue = stack.queue(prefix);
      const scripts = new QueueScripts(queue.redis);
      for (const [i, c] of QUEUE_CASES.entries()) {
        const id = queueCaseId(i);
        if (c.raw !== undefined) {
          const now = Date.now();
          await scripts.json("enqueue", [queue.prefix, id, c.raw, "normal", readyScore("normal", now), now, ""]);
        } else {
          await queue.enqueue(c.payload!(env), { id });
        }
      }
      const admin = stack.admin(prefix);
      const ids = QUEUE_CASES.map((_, i) => queueCaseId(i));
      for (let i = 0; i < 600; i++) {
        const s = await admin.stats();
        if (s.failed + s.dead + s.done_total >= ids.length) break;
        await sleep(100);
      }
      const statuses = (await readJobs(admin, ids)).map((r) => r.status!);
      errorTexts.push(...statuses.map((st) => JSON.stringify(st?.last_error ?? null)));
      return statuses;
    })();
  });

  it(`the corpus has ${QUEUE_CASES.length} queue cases and ${RUNPOD_CASES.length} RunPod cases (>= 40 in all)`, () => {
    expect(QUEUE_CASES.length + RUNPOD_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it("a payload over Upstash's 10 MB request limit is refused at enqueue and leaves no job", async () => {
    const queue = stack.queue(prefix);
    await expect(queue.enqueue({ input: { audio_base64: "A".repeat(11 * 2 ** 20) } }, { id: "over-10mb" })).rejects.toMatchObject({
      code: "payload_too_large",
      retryable: false,
    });
    expect(await stack.admin(prefix).status("over-10mb")).toBeNull();
  });

  it.each(QUEUE_CASES.map((c, i) => ({ ...c, i })))(
    "$name -> $code",
    async (c) => {
      const s = (await outcome)[c.i];
      expect({ state: s?.state, code: s?.last_error?.code }).toEqual({ state: c.state ?? "failed", code: c.code });
      if (c.message) expect(s!.last_error!.message).toMatch(c.message);
    },
    90_000,
  );
});

describe("RunPod jobs: runpod-sdk runSync gets the SDK-format error with the code as error_type", () => {
  let outcome: Promise<Array<{ status: string; error?: string }>>;
  beforeAll(() => {
    const endpoint = runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
    outcome = Promise.all(RUNPOD_CASES.map((c) => endpoint.runSync({ input: c.input(env) }, 90_000) as Promise<{ status: string; error?: string }>)).then(
      (rs) => {
        errorTexts.push(...rs.map((r) => String(r.error)));
        return rs;
      },
    );
  });

  it.each(RUNPOD_CASES.map((c, i) => ({ ...c, i })))(
    "$name -> $code",
    async (c) => {
      const r = (await outcome)[c.i]!;
      expect(r.status).toBe("FAILED");
      const report = parseErrorReport(r.error);
      expect(report?.error_type).toBe(c.code);
      if (c.message) expect(String(report?.error_message)).toMatch(c.message);
    },
    90_000,
  );
});

describe("afterwards", () => {
  it("the queue worker is alive and completes a good job (stored bytes and a URL)", async () => {
    expect(queueWorker.alive).toBe(true);
    const queue = stack.queue(prefix);
    await queue.enqueue({ input: { audio_base64: readFileSync(env.fx.path("speech.ogg")).toString("base64") } }, { id: "good-b64" });
    await queue.enqueue({ input: { audio: env.url("/speech.ogg") } }, { id: "good-url" });
    const admin = stack.admin(prefix);
    for (let i = 0; i < 300 && (await admin.stats()).done_total < 2; i++) await sleep(100);
    for (const id of ["good-b64", "good-url"]) {
      expect((await admin.status(id))?.state, id).toBe("done");
      const result = (await admin.result(id)) as { transcription?: string; analysis?: unknown };
      expect(result.transcription).toBe(TEXT);
      expect(result.analysis).toEqual(SAMPLE_ANALYSIS);
    }
  }, 60_000);

  it("the RunPod worker is alive and completes a good job", async () => {
    expect(runpodWorker.alive).toBe(true);
    const endpoint = runpodSdk(dev.apiKey, { baseUrl: dev.baseUrl }).endpoint(dev.endpointId)!;
    const speech = readFileSync(env.fx.path("speech.ogg")).toString("base64");
    const r = (await endpoint.runSync({ input: { audio_base64: speech } }, 60_000)) as { status: string; output?: { transcription?: string } };
    expect(r.status).toBe("COMPLETED");
    expect(r.output?.transcription).toBe(TEXT);
  }, 60_000);

  it("no input crashed a speech sidecar", () => {
    const lines = [...queueWorker.lines, ...runpodWorker.lines];
    expect(lines.filter((l) => l.includes("speech sidecar exited"))).toEqual([]);
    expect(lines.filter((l) => l.includes("speech sidecar ready"))).toHaveLength(2); // one each, never restarted
  });

  it("no temp file is left in AUDIO_TMP_DIR", async () => {
    expect(await readdir(tmp)).toEqual([]);
  });

  it("no local file named by an input was opened: the FIFO has no reader, and no refused URL was fetched", async () => {
    // Opening a FIFO for writing without blocking fails with ENXIO while no process has it open for reading;
    // a reader that had opened it would also have turned its case into decode_timeout above.
    await expect(open(env.fifo, constants.O_WRONLY | constants.O_NONBLOCK)).rejects.toMatchObject({ code: "ENXIO" });
    expect(hostile.requests.filter((r) => r.url.startsWith("/private-probe"))).toEqual([]);
  });

  it("no secret reaches any log line of either worker (API key, Upstash token, RunPod key, credentials in URLs)", () => {
    const lines = [...queueWorker.lines, ...runpodWorker.lines];
    expect(lines.length).toBeGreaterThan(100); // trace level: every case was logged
    const secrets = { GEMINI_KEY, upstash: stack.token, runpod: dev.apiKey, ...env.planted };
    expect(errorTexts.length).toBe(QUEUE_CASES.length + RUNPOD_CASES.length);
    for (const [name, secret] of Object.entries(secrets)) {
      expect(
        lines.filter((l) => l.includes(secret)),
        name,
      ).toEqual([]);
      expect(
        errorTexts.filter((t) => t.includes(secret)),
        `${name} in an error message`,
      ).toEqual([]);
    }
  });
});
