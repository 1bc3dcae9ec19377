// The bad-input corpus: each hostile or broken voice message gets its stable error code and
// retryability, runs real ffprobe/ffmpeg and real HTTP servers, and leaves no temp file behind.
import { constants } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execa } from "execa";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { summarizeStderr } from "../../handler/audio/ffmpeg-policy.ts";
import { loadVoiceMessage, type AudioLimits, type AudioSource } from "../../handler/audio/index.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { audioFixtures, type AudioFixtures } from "../../harness/audio-fixtures/generate.ts";
import {
  captureLog,
  expectNoLeftovers,
  expectWorkerError,
  makeTempBase,
  removeTempBase,
  startHttpServer,
  startRawServer,
  testLimits,
  type TestServer,
} from "./helpers.ts";

let fx: AudioFixtures;
let base: string;
let outside: string; // sentinels live here, outside the job folders
const MiB = 1024 * 1024;

beforeAll(async () => {
  fx = await audioFixtures();
  base = await makeTempBase();
  outside = await mkdtemp(join(base, "..", "vw-audio-sentinels-"));
});
afterEach(async () => {
  await expectNoLeftovers(base); // every case, success or not, must leave the temp base empty
});
afterAll(async () => {
  await removeTempBase(base);
  await rm(outside, { recursive: true, force: true });
});

const bytesOf = async (name: string): Promise<AudioSource> => ({ kind: "bytes", data: await readFile(fx.path(name)) });
const load = (source: AudioSource, overrides: Partial<AudioLimits> = {}) => loadVoiceMessage(source, testLimits(base, overrides));

describe("files that are not (acceptable) audio", () => {
  it("1. truncated ogg (cut inside its headers) -> unsupported_format", async () => {
    await expectWorkerError(load(await bytesOf("truncated.ogg")), "unsupported_format", false);
  });
  it("2. random bytes -> unsupported_format", async () => {
    await expectWorkerError(load(await bytesOf("random.bin")), "unsupported_format", false);
  });
  it("3. empty file -> unsupported_format", async () => {
    await expectWorkerError(load(await bytesOf("empty.bin")), "unsupported_format", false);
  });
  it("4. text file -> unsupported_format", async () => {
    await expectWorkerError(load(await bytesOf("text.txt")), "unsupported_format", false);
  });
  it("5. video without audio -> no_audio_stream", async () => {
    const err = await expectWorkerError(load(await bytesOf("video.mp4")), "no_audio_stream", false);
    expect(err.message).toMatch(/no audio stream/);
  });
  it("6. video with audio -> unsupported_format (video decoders are not whitelisted)", async () => {
    const err = await expectWorkerError(load(await bytesOf("video-with-audio.mp4")), "unsupported_format", false);
    expect(err.details).toMatchObject({ refusedCodec: "mpeg4" });
  });

  it("7. HLS playlist disguised as .ogg naming a local sentinel: refused by the demuxer whitelist, sentinel never read", async () => {
    const sentinel = join(outside, "sentinel.mp3");
    await writeFile(sentinel, await readFile(fx.path("sentinel.mp3")));
    const playlist = (target: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${target}\n#EXT-X-ENDLIST\n`;

    // Control: an unguarded ffmpeg does read the sentinel through this file (2 s of tone out).
    const controlDir = join(outside, "control");
    await mkdir(controlDir, { recursive: true });
    await writeFile(join(controlDir, "voice.ogg"), playlist(sentinel));
    const control = await execa(
      "ffmpeg",
      ["-nostdin", "-v", "error", "-i", join(controlDir, "voice.ogg"), "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"],
      {
        encoding: "buffer",
        stdin: "ignore",
        timeout: 20_000,
      },
    );
    expect(control.stdout.length / 4 / 16000).toBeGreaterThan(1.5);

    // Guarded: the same bytes are refused before any segment is opened.
    const err = await expectWorkerError(load({ kind: "bytes", data: Buffer.from(playlist(sentinel)) }), "unsupported_format", false);
    expect(err.message).toMatch(/\[hls\] Format not on whitelist/);

    // Stronger: the sentinel is a FIFO. Opening it for reading blocks until a writer appears
    // (never, here), so had ffprobe/ffmpeg touched it, the outcome would be decode_timeout.
    const fifo = join(outside, "sentinel-fifo.mp3");
    await execa("mkfifo", [fifo]);
    const t0 = Date.now();
    const fifoErr = await expectWorkerError(
      load({ kind: "bytes", data: Buffer.from(playlist(fifo)) }, { decodeTimeoutMs: 30_000 }),
      "unsupported_format",
      false,
    );
    expect(fifoErr.message).toMatch(/Format not on whitelist/);
    expect(Date.now() - t0).toBeLessThan(25_000);
    // No process holds the FIFO open for reading now (a non-blocking writer open fails with ENXIO).
    await expect(open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)).rejects.toMatchObject({ code: "ENXIO" });
  });

  it("8. concat list naming a local file -> unsupported_format (concat demuxer not whitelisted)", async () => {
    const sentinel = join(outside, "concat-sentinel.mp3");
    await writeFile(sentinel, await readFile(fx.path("sentinel.mp3")));
    const list = `ffconcat version 1.0\nfile '${sentinel}'\n`;
    const err = await expectWorkerError(load({ kind: "bytes", data: Buffer.from(list) }), "unsupported_format", false);
    expect(err.message).toMatch(/\[concat\] Format not on whitelist/);
  });

  it("9. a two-hour file is rejected by ffprobe; the decoder never runs", async () => {
    const { lines, destination } = captureLog();
    const log = createLogger({ level: "debug", destination });
    // With ffmpeg unreachable, reaching the decode step would fail as ffmpeg_unavailable instead.
    const err = await expectWorkerError(
      loadVoiceMessage(await bytesOf("two-hours.mp3"), testLimits(base, { ffmpegBin: "/nonexistent/ffmpeg" }), { log }),
      "audio_too_long",
      false,
    );
    expect(err.details).toMatchObject({ maxDurationS: 900 });
    expect((err.details as { durationS: number }).durationS).toBeGreaterThan(7000);
    expect(lines.map((l) => l.msg)).not.toContain("decode started");
  });

  it("10. audio longer than the cap but without a duration header is stopped while decoding", async () => {
    // The 3.4 s recorder-style webm has no duration; a 2 s cap must still hold.
    await expectWorkerError(load(await bytesOf("speech-stream.webm"), { maxDurationS: 2 }), "audio_too_long", false);
  });

  it("11. oversized base64 -> audio_too_large (checked before decoding)", async () => {
    const big = Buffer.alloc(2 * MiB, 7).toString("base64");
    await expectWorkerError(load({ kind: "base64", data: big }, { maxBytes: 1 * MiB }), "audio_too_large", false);
  });
  it("12. invalid base64 -> invalid_base64", async () => {
    await expectWorkerError(load({ kind: "base64", data: "T2dnUwACAAAA!!notbase64$$" }), "invalid_base64", false);
  });
  it("13. oversized stored bytes -> audio_too_large", async () => {
    await expectWorkerError(load({ kind: "bytes", data: Buffer.alloc(MiB + 1) }, { maxBytes: MiB }), "audio_too_large", false);
  });
  it("14. ffprobe/ffmpeg over the wall-clock limit is killed -> decode_timeout", async () => {
    await expectWorkerError(load(await bytesOf("speech.ogg"), { decodeTimeoutMs: 1 }), "decode_timeout", false);
  });
  it("14b. a valid container whose audio frames are garbage -> decode_failed, with ffmpeg's reason", async () => {
    const err = await expectWorkerError(load(await bytesOf("corrupt-frames.m4a")), "decode_failed", false);
    expect(err.message).toMatch(/\[aac\]/);
    expect(err.message.length).toBeLessThanOrEqual(1000);
  });
  it("14c. ffprobe missing -> ffmpeg_unavailable (retryable: a deployment fault, not the message's)", async () => {
    await expectWorkerError(load(await bytesOf("speech.ogg"), { ffprobeBin: "/nonexistent/ffprobe" }), "ffmpeg_unavailable", true);
  });
  it("14d. an m4a cut before its index -> unsupported_format; ffmpeg's comma-named demuxer context is kept, its heap address is not", async () => {
    const m4a = await readFile(fx.path("speech.m4a")); // moov at the end, as iPhones write it
    const err = await expectWorkerError(load({ kind: "bytes", data: m4a.subarray(0, Math.floor(m4a.length * 0.4)) }), "unsupported_format", false);
    expect(err.message).toContain("[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found");
    expect(err.message).not.toMatch(/0x[0-9a-f]{5,}/i);
  });
  it("14e. every ffmpeg log context is cut to its name, commas, spaces and colons included (property)", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_]([A-Za-z0-9_,: ]{0,30}[A-Za-z0-9_])?$/);
    const pointer = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 1, maxLength: 16 }).map((d) => `0x${d}`);
    const text = fc.stringMatching(/^[A-Za-z]([A-Za-z0-9 ,.:()-]{0,40}[A-Za-z0-9.])?$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, pointer, text), { minLength: 1, maxLength: 4 }), (lines) => {
        const stderr = lines.map(([n, p, t]) => `[${n} @ ${p}] ${t}\n`).join("");
        const expected = [...new Set(lines.map(([n, , t]) => `[${n}] ${t}`))].join(" | ");
        expect(summarizeStderr(stderr, "/tmp/job/input", 10_000)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("hostile or failing servers", () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  const serve = async (handler: Parameters<typeof startHttpServer>[0]): Promise<TestServer> => {
    const s = await startHttpServer(handler);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const url = (u: string, overrides: Partial<AudioLimits> = {}) => load({ kind: "url", url: u }, { maxBytes: MiB, ...overrides });

  it("15. a server that drips bytes -> download_timeout (retryable)", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-length": 100_000 });
      const timer = setInterval(() => res.write(Buffer.alloc(10)), 100);
      res.on("close", () => clearInterval(timer));
    });
    await expectWorkerError(url(s.url(), { downloadTimeoutMs: 1500 }), "download_timeout", true);
  });

  it("16. a server that lies about Content-Length (announces more, then closes) -> download_failed (retryable)", async () => {
    const raw = await startRawServer((sock) => {
      sock.once("data", () => sock.end(`HTTP/1.1 200 OK\r\nContent-Length: 500000\r\n\r\n${"x".repeat(1000)}`));
    });
    servers.push(raw);
    await expectWorkerError(url(raw.url), "download_failed", true);
  });

  it("17. no Content-Length and a body past the cap -> audio_too_large, counted while streaming", async () => {
    let sent = 0;
    const raw = await startRawServer((sock) => {
      sock.once("data", () => {
        sock.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = () => {
          while (sent < 50 * MiB && !sock.destroyed) {
            sent += chunk.length;
            if (!sock.write(chunk)) return void sock.once("drain", pump);
          }
          sock.end();
        };
        pump();
      });
    });
    servers.push(raw);
    await expectWorkerError(url(raw.url), "audio_too_large", false);
    expect(sent, "the client hung up long before the 50 MiB were sent").toBeLessThan(20 * MiB);
  });

  it("18. Content-Length over the cap -> audio_too_large before the body is read", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-length": 5 * MiB });
      res.end(Buffer.alloc(5 * MiB));
    });
    const err = await expectWorkerError(url(s.url()), "audio_too_large", false);
    expect(err.details).toMatchObject({ announced: 5 * MiB });
  });

  it("19. redirect loop -> download_failed (permanent) after 3 redirects", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: "/again" });
      res.end();
    });
    const err = await expectWorkerError(url(s.url("/start")), "download_failed", false);
    expect(err.details).toMatchObject({ reason: "too_many_redirects" });
    expect(s.requests.length).toBe(4);
  });

  it("20. redirect to file:// -> url_not_allowed", async () => {
    const s = await serve((_req, res) => {
      res.writeHead(301, { location: "file:///etc/passwd" });
      res.end();
    });
    await expectWorkerError(url(s.url()), "url_not_allowed", false);
  });

  it("21. gzip bomb -> download_failed (permanent), never inflated", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB)); // ~64 KB on the wire, 64 MiB inflated
    const s = await serve((_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip", "content-length": bomb.length, "content-type": "audio/ogg" });
      res.end(bomb);
    });
    const err = await expectWorkerError(url(s.url()), "download_failed", false);
    expect(err.details).toMatchObject({ contentEncoding: "gzip" });
    expect(s.requests[0]?.headers["accept-encoding"]).toBe("identity");
  });

  it("22. 404 -> download_failed (permanent)", async () => {
    const s = await serve((_req, res) => res.writeHead(404).end("not found"));
    const err = await expectWorkerError(url(s.url()), "download_failed", false);
    expect(err.details).toMatchObject({ status: 404 });
  });

  it("23. 500 -> download_failed (retryable)", async () => {
    const s = await serve((_req, res) => res.writeHead(500).end("oops"));
    const err = await expectWorkerError(url(s.url()), "download_failed", true);
    expect(err.details).toMatchObject({ status: 500 });
  });

  it("24. 429 -> download_failed (retryable), Retry-After kept", async () => {
    const s = await serve((_req, res) => res.writeHead(429, { "retry-after": "30" }).end());
    const err = await expectWorkerError(url(s.url()), "download_failed", true);
    expect(err.details).toMatchObject({ status: 429, retryAfterS: 30 });
  });

  it("25. ftp:// URL -> url_not_allowed", async () => {
    await expectWorkerError(url("ftp://127.0.0.1/voice.ogg"), "url_not_allowed", false);
  });

  it("26. loopback address refused by default (ALLOW_PRIVATE_URLS unset) -> url_not_allowed, no request made", async () => {
    const s = await serve((_req, res) => res.writeHead(200).end("x"));
    await expectWorkerError(url(s.url(), { allowPrivateUrls: false }), "url_not_allowed", false);
    await expectWorkerError(url(`http://localhost:${s.port}/`, { allowPrivateUrls: false }), "url_not_allowed", false);
    expect(s.requests).toHaveLength(0);
  });

  it("27. a connection refused -> download_failed (retryable network error)", async () => {
    const s = await serve((_req, res) => res.end());
    const dead = s.url();
    await s.close();
    await expectWorkerError(url(dead), "download_failed", true);
  });
});
