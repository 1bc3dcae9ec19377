// Every promised format decodes, through real ffprobe/ffmpeg, to 16 kHz mono f32le PCM of the
// clip's true length; the three source kinds all reach the same decoder.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVoiceMessage, pcmSeconds, type DecodedAudio } from "../../handler/audio/index.ts";
import { audioFixtures, FORMATS, type AudioFixtures } from "../../harness/audio-fixtures/generate.ts";
import { expectNoLeftovers, makeTempBase, removeTempBase, startHttpServer, testLimits, type TestServer } from "./helpers.ts";

let fx: AudioFixtures;
let base: string;

beforeAll(async () => {
  fx = await audioFixtures();
  base = await makeTempBase();
});
afterAll(async () => {
  await removeTempBase(base);
});

/** Top-level MP4 box names in file order. */
function mp4Boxes(buf: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    names.push(buf.toString("latin1", at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  return names;
}

function rms(pcm: Buffer): { rms: number; peak: number; finite: boolean } {
  const f = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.length / 4);
  let sum = 0;
  let peak = 0;
  let finite = true;
  for (const v of f) {
    if (!Number.isFinite(v)) finite = false;
    sum += v * v;
    peak = Math.max(peak, Math.abs(v));
  }
  return { rms: Math.sqrt(sum / f.length), peak, finite };
}

// ffprobe reads these durations from the container; for mp3 (encoder padding counted) and AMR
// (estimated from the bit rate) it only estimates, so they are checked against the true length.
const EXACT_PROBE = new Set(["speech.ogg", "speech.m4a", "speech.webm", "speech.wav", "speech.flac"]);

describe("every format decodes to 16 kHz mono f32le of the right length", () => {
  for (const [label, file] of Object.entries(FORMATS)) {
    it(label, async () => {
      const data = await readFile(fx.path(file));
      const out: DecodedAudio = await loadVoiceMessage({ kind: "bytes", data }, testLimits(base));

      expect(out.pcm.length % 4).toBe(0);
      expect(out.durationS).toBeCloseTo(pcmSeconds(out.pcm), 9);
      expect(Math.abs(out.durationS - fx.speechSeconds), `${file}: decoded ${out.durationS}s vs clip ${fx.speechSeconds}s`).toBeLessThanOrEqual(0.05);
      if (EXACT_PROBE.has(file)) {
        expect(out.ffprobe.durationS).not.toBeNull();
        expect(Math.abs(out.durationS - (out.ffprobe.durationS ?? 0)), `${file}: pcm vs probe`).toBeLessThanOrEqual(0.05);
      }
      const level = rms(out.pcm);
      expect(level.finite).toBe(true);
      expect(level.peak).toBeLessThanOrEqual(1.0001);
      expect(level.rms, "speech, not silence").toBeGreaterThan(0.01);
      expect(out.inputBytes).toBe(data.length);
      await expectNoLeftovers(base);
    });
  }

  it("the m4a fixture really has its index (moov) after the media data, as iOS writes it", async () => {
    const boxes = mp4Boxes(await readFile(fx.path("speech.m4a")));
    expect(boxes.indexOf("moov")).toBeGreaterThan(boxes.indexOf("mdat"));
    const out = await loadVoiceMessage({ kind: "bytes", data: await readFile(fx.path("speech.m4a")) }, testLimits(base));
    expect(out.ffprobe.codec).toBe("aac");
  });

  it("reports what ffprobe found (container, codec, channels, rate) before resampling", async () => {
    const wav = await loadVoiceMessage({ kind: "bytes", data: await readFile(fx.path("speech.wav")) }, testLimits(base));
    expect(wav.ffprobe).toMatchObject({ container: "wav", codec: "pcm_s16le", channels: 2, sampleRate: 44100 });
    const amr = await loadVoiceMessage({ kind: "bytes", data: await readFile(fx.path("speech.amr")) }, testLimits(base));
    expect(amr.ffprobe).toMatchObject({ container: "amr", codec: "amr_nb", channels: 1, sampleRate: 8000 });
  });

  it("a webm without a duration header (browser recorder) is accepted: ffprobe says null, the samples tell", async () => {
    const out = await loadVoiceMessage({ kind: "bytes", data: await readFile(fx.path("speech-stream.webm")) }, testLimits(base));
    expect(out.ffprobe.durationS).toBeNull();
    expect(Math.abs(out.durationS - fx.speechSeconds)).toBeLessThanOrEqual(0.05);
  });

  it("a voice message cut in the middle decodes the part that arrived", async () => {
    const out = await loadVoiceMessage({ kind: "bytes", data: await readFile(fx.path("truncated-middle.ogg")) }, testLimits(base));
    expect(out.durationS).toBeGreaterThan(0.5);
    expect(out.durationS).toBeLessThan(fx.speechSeconds - 0.5);
  });
});

describe("the three source kinds reach the same decoder", () => {
  let server: TestServer;
  let ogg: Buffer;
  let reference: DecodedAudio;

  beforeAll(async () => {
    ogg = await readFile(fx.path("speech.ogg"));
    reference = await loadVoiceMessage({ kind: "bytes", data: ogg }, testLimits(base));
    server = await startHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "audio/ogg", "content-length": ogg.length });
      res.end(ogg);
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it("url (the downloaded bytes decode identically)", async () => {
    const out = await loadVoiceMessage({ kind: "url", url: server.url("/voice.ogg?sig=abc") }, testLimits(base));
    expect(out.inputBytes).toBe(ogg.length);
    expect(out.pcm.equals(reference.pcm)).toBe(true);
    await expectNoLeftovers(base);
  });

  it("base64, plain and as a data: URI with line breaks", async () => {
    const plain = await loadVoiceMessage({ kind: "base64", data: ogg.toString("base64") }, testLimits(base));
    expect(plain.pcm.equals(reference.pcm)).toBe(true);
    const wrapped = `data:audio/ogg;codecs=opus;base64,${ogg.toString("base64").replace(/.{76}/g, "$&\r\n")}`;
    const uri = await loadVoiceMessage({ kind: "base64", data: wrapped }, testLimits(base));
    expect(uri.pcm.equals(reference.pcm)).toBe(true);
    await expectNoLeftovers(base);
  });
});
