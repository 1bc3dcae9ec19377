// Text renderings: plain_text, formatted_text, SRT and WebVTT (timestamps with hours, comma
// before milliseconds in SRT, dot in VTT). The renderer is the sidecar's own Python module.
import { execa } from "execa";
import fc from "fast-check";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../handler/asr/python.ts";
import { makeHarness, PYTHON, tone, type Harness } from "./helpers.ts";
import { engineFacts } from "./record.ts";

async function render(segments: { start: number; end: number; text: string }[]): Promise<Record<string, string>> {
  const code = "import json, sys\nfrom asr_sidecar.formats import render_all\nprint(json.dumps(render_all(json.load(sys.stdin))))";
  const { stdout } = await execa(PYTHON, ["-c", code], { input: JSON.stringify(segments), env: { PYTHONPATH: join(REPO_ROOT, "sidecar") } });
  return JSON.parse(stdout) as Record<string, string>;
}

describe("sidecar formats (renderer)", () => {
  it("writes hours, minutes, seconds and milliseconds, past the one-hour mark", async () => {
    const out = await render([
      { start: 0, end: 1.5, text: " First line." },
      { start: 3599.9994, end: 3600.0006, text: " Across the hour." },
      { start: 37230.25, end: 37235.125, text: " Ten hours in --> still one cue." },
    ]);
    expect(out.srt).toBe(
      "1\n00:00:00,000 --> 00:00:01,500\nFirst line.\n\n" +
        "2\n00:59:59,999 --> 01:00:00,001\nAcross the hour.\n\n" +
        "3\n10:20:30,250 --> 10:20:35,125\nTen hours in -> still one cue.\n",
    );
    expect(out.vtt).toBe(
      "WEBVTT\n\n" +
        "00:00:00.000 --> 00:00:01.500\nFirst line.\n\n" +
        "00:59:59.999 --> 01:00:00.001\nAcross the hour.\n\n" +
        "10:20:30.250 --> 10:20:35.125\nTen hours in -> still one cue.\n",
    );
    expect(out.plain_text).toBe("First line. Across the hour. Ten hours in --> still one cue.");
    expect(out.formatted_text).toBe("First line.\nAcross the hour.\nTen hours in --> still one cue.");
  });

  it("renders an empty transcript as empty text and a bare WEBVTT header", async () => {
    const out = await render([]);
    expect(out).toEqual({ plain_text: "", formatted_text: "", srt: "", vtt: "WEBVTT\n" });
  });
});

describe("formats through the engine", () => {
  let h: Harness;
  beforeAll(async () => {
    h = makeHarness({ env: { FAKE_FW_TEXT: "The quick brown fox jumps over the lazy dog again" } });
    await h.engine.start();
  });
  afterAll(async () => h.cleanup());

  const job = (options: Record<string, unknown>) => h.engine.transcribe({ requestId: `f${Math.random()}`, pcm: tone(12), durationS: 12, options });

  it.each([
    ["plain_text", "The quick brown fox jumps over the lazy dog again"],
    ["formatted_text", "The quick brown fox\njumps over the lazy\ndog again"],
    [
      "srt",
      "1\n00:00:00,000 --> 00:00:04,000\nThe quick brown fox\n\n2\n00:00:04,000 --> 00:00:08,000\njumps over the lazy\n\n3\n00:00:08,000 --> 00:00:12,000\ndog again\n",
    ],
    [
      "vtt",
      "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nThe quick brown fox\n\n00:00:04.000 --> 00:00:08.000\njumps over the lazy\n\n00:00:08.000 --> 00:00:12.000\ndog again\n",
    ],
  ] as const)("transcription=%s", async (format, expected) => {
    const r = await job({ transcription: format });
    expect(r.transcription).toBe(expected);
    expect(r[format]).toBe(expected); // every rendering is returned as well
  });

  it("returns segments field for field and word timestamps when asked", async () => {
    const r = await job({ word_timestamps: true });
    expect(r.segments).toHaveLength(3);
    const s = r.segments[0]!;
    expect(Object.keys(s).sort()).toEqual([
      "avg_logprob",
      "compression_ratio",
      "end",
      "id",
      "no_speech_prob",
      "seek",
      "start",
      "temperature",
      "text",
      "tokens",
      "words",
    ]);
    expect(s).toMatchObject({ id: 1, seek: 0, start: 0, end: 4, text: " The quick brown fox", temperature: 0 });
    expect(s.tokens).toHaveLength(4);
    expect(s.words?.map((w) => w.word)).toEqual([" The", " quick", " brown", " fox"]);
    expect(r.word_timestamps?.map((w) => w.word.trim()).join(" ")).toBe("The quick brown fox jumps over the lazy dog again");
    expect(r.word_timestamps?.[0]).toEqual({ start: 0, end: 1, word: " The", probability: 0.9 });
    const plain = await job({});
    expect(plain.word_timestamps).toBeNull();
    expect(plain.segments[0]!.words).toBeNull();
  });
});

describe("times never run past the audio (issue 13, item 5)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = makeHarness(); // one fake segment per 5 s slot of every window
    await h.engine.start();
  });
  afterAll(async () => h.cleanup());

  it("the engine itself reports the window's end, like 1.2.1 (29.98 s for a 10 s clip)", async () => {
    const [plain, words] = await engineFacts<{ max_end: number }[]>("cases", [
      { id: "raw", api: "WhisperModel.transcribe", model: "tiny", audio_s: 10, kwargs: { language: "en" } },
      { id: "raw-words", api: "WhisperModel.transcribe", model: "tiny", audio_s: 10, kwargs: { language: "en", word_timestamps: true } },
    ]);
    expect(plain!.max_end).toBeCloseTo(29.98, 2);
    expect(words!.max_end).toBeGreaterThan(10);
  });

  const seconds = (ts: string) => {
    const [h, m, rest] = ts.split(":");
    return Number(h) * 3600 + Number(m) * 60 + Number(rest!.replace(",", "."));
  };

  it("segments, words, SRT and VTT cues end at or before the audio's duration, for any length (property)", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0.5, max: 95, noNaN: true }).map((s) => Math.round(s * 16000) / 16000),
        fc.boolean(),
        fc.boolean(),
        async (duration, words, batched) => {
          const r = await h.engine.transcribe({
            requestId: `clip${n++}`,
            pcm: tone(duration),
            durationS: duration,
            options: { language: "en", word_timestamps: words, ...(batched ? { batch_size: 4 } : {}) },
          });
          const ends = [...r.segments.map((s) => s.end), ...(r.word_timestamps ?? []).map((w) => w.end), ...r.segments.map((s) => s.start)];
          for (const e of ends) expect(e).toBeLessThanOrEqual(duration);
          const cueEnds = [...r.srt.matchAll(/--> (\d\d:\d\d:\d\d,\d\d\d)/g), ...r.vtt.matchAll(/--> (\d\d:\d\d:\d\d\.\d\d\d)/g)].map((m) => seconds(m[1]!));
          expect(cueEnds.length).toBeGreaterThan(0);
          for (const e of cueEnds) expect(e).toBeLessThanOrEqual(duration + 0.0005);
          expect(r.segments.at(-1)!.end).toBeGreaterThan(duration - 5); // the last segment is clipped, not dropped
        },
      ),
      { numRuns: 25, seed: 1405 },
    );
  });
});
