// Option parity with worker-faster_whisper, field by field: each option given to the engine
// must reach faster-whisper with the right keyword and value (read from the double's call log),
// and the defaults are faster-whisper 1.2.1's own, read from the committed record of the tag.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranscribeOptionsInput } from "../../handler/asr/options.ts";
import { makeHarness, tone, type CallRecord, type Harness } from "./helpers.ts";
import { recordedDefaults } from "./record.ts";

let h: Harness;
let n = 0;

beforeAll(async () => {
  h = makeHarness({ env: { FAKE_FW_LANGUAGE: "de", FAKE_FW_LANGUAGE_PROB: "0.91" } });
  await h.engine.start();
});
afterAll(async () => h.cleanup());

async function run(
  options: TranscribeOptionsInput,
  seconds = 2,
): Promise<{ calls: CallRecord[]; result: Awaited<ReturnType<Harness["engine"]["transcribe"]>> }> {
  const before = h.calls().length;
  const result = await h.engine.transcribe({ requestId: `p${n++}`, pcm: tone(seconds), durationS: seconds, options });
  return { calls: h.calls().slice(before), result };
}

describe("option parity (engine -> sidecar -> faster-whisper keywords)", () => {
  it("a request without options reaches WhisperModel.transcribe with faster-whisper's defaults", async () => {
    const { calls } = await run({});
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.api).toBe("WhisperModel.transcribe");
    const defaults = recordedDefaults("faster_whisper.WhisperModel.transcribe");
    for (const key of [
      "language",
      "task",
      "beam_size",
      "best_of",
      "patience",
      "length_penalty",
      "temperature",
      "compression_ratio_threshold",
      "log_prob_threshold",
      "no_speech_threshold",
      "condition_on_previous_text",
      "initial_prompt",
      "suppress_tokens",
      "word_timestamps",
      "vad_filter",
      "hotwords",
      "multilingual",
      "prefix",
      "suppress_blank",
      "without_timestamps",
      "max_initial_timestamp",
    ]) {
      expect([key, call.kwargs[key]]).toEqual([key, defaults[key]]);
    }
    expect(call.model).toMatchObject({ model_size_or_path: "tiny", device: "cpu", compute_type: "int8", cpu_threads: 2, download_root: h.modelDir });
  });

  const cases: [string, TranscribeOptionsInput, Record<string, unknown>][] = [
    ["language", { language: "fr" }, { language: "fr" }],
    ["temperature + increment (worker's fallback schedule)", { temperature: 0.4 }, { temperature: [0.4, 0.6, 0.8, 1.0] }],
    ["temperature_increment_on_fallback null (single temperature)", { temperature: 0.3, temperature_increment_on_fallback: null }, { temperature: [0.3] }],
    ["temperature_increment_on_fallback 0.5", { temperature_increment_on_fallback: 0.5 }, { temperature: [0, 0.5, 1] }],
    ["best_of", { best_of: 3 }, { best_of: 3 }],
    ["beam_size", { beam_size: 2 }, { beam_size: 2 }],
    ["patience", { patience: 1.5 }, { patience: 1.5 }],
    ["length_penalty", { length_penalty: 0.8 }, { length_penalty: 0.8 }],
    ["suppress_tokens as worker string", { suppress_tokens: "50, 51,-1" }, { suppress_tokens: [50, 51, -1] }],
    ["suppress_tokens empty string", { suppress_tokens: "" }, { suppress_tokens: [] }],
    ["suppress_tokens as list", { suppress_tokens: [7, 8] }, { suppress_tokens: [7, 8] }],
    ["initial_prompt", { initial_prompt: "Glossary: Kubernetes." }, { initial_prompt: "Glossary: Kubernetes." }],
    ["condition_on_previous_text", { condition_on_previous_text: false }, { condition_on_previous_text: false }],
    ["compression_ratio_threshold", { compression_ratio_threshold: 2.0 }, { compression_ratio_threshold: 2.0 }],
    ["logprob_threshold -> log_prob_threshold", { logprob_threshold: -0.5 }, { log_prob_threshold: -0.5 }],
    ["no_speech_threshold", { no_speech_threshold: 0.3 }, { no_speech_threshold: 0.3 }],
    ["enable_vad -> vad_filter", { enable_vad: true }, { vad_filter: true }],
    ["word_timestamps", { word_timestamps: true }, { word_timestamps: true }],
    ["hotwords", { hotwords: "Kubernetes Grafana" }, { hotwords: "Kubernetes Grafana" }],
    [
      "vad_parameters",
      { enable_vad: true, vad_parameters: { threshold: 0.4, min_silence_duration_ms: 500 } },
      { vad_filter: true, vad_parameters: { threshold: 0.4, min_silence_duration_ms: 500 } },
    ],
    ["multilingual", { multilingual: true }, { multilingual: true }],
  ];

  it.each(cases)("%s", async (_name, options, expected) => {
    const { calls } = await run(options);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.api).toBe("WhisperModel.transcribe");
    expect(calls[0]!.kwargs).toMatchObject(expected);
  });

  it("model picks the model the library loads", async () => {
    const { calls, result } = await run({ model: "base" });
    expect(calls[0]!.model).toMatchObject({ model_size_or_path: "base" });
    expect(result.model).toBe("base");
  });

  it("batch_size > 1 uses BatchedInferencePipeline with its VAD default", async () => {
    const { calls, result } = await run({ batch_size: 4 });
    expect(calls[0]!.api).toBe("BatchedInferencePipeline.transcribe");
    expect(calls[0]!.kwargs).toMatchObject({ batch_size: 4, vad_filter: true });
    expect(result.batched).toBe(true);
    expect(recordedDefaults("faster_whisper.BatchedInferencePipeline.transcribe").vad_filter).toBe(true);
  });

  it("batch_size > 1 without VAD on long audio sends 30 s clip windows in seconds (1.2.1 multiplies by 16000 itself)", async () => {
    const { calls, result } = await run({ batch_size: 2, enable_vad: false }, 40);
    expect(calls[0]!.kwargs).toMatchObject({
      vad_filter: false,
      clip_timestamps: [
        { start: 0, end: 30 },
        { start: 30, end: 40 },
      ],
    });
    expect(result.duration_after_vad).toBe(40);
  });

  it("translate runs a second pass with task=translate in the detected language", async () => {
    const { calls, result } = await run({ translate: true, translation: "srt" });
    expect(calls.map((c) => c.kwargs.task)).toEqual(["transcribe", "translate"]);
    expect(calls[0]!.kwargs.language).toBeNull();
    expect(calls[1]!.kwargs.language).toBe("de");
    expect(result.detected_language).toBe("de");
    expect(result.language_probability).toBeCloseTo(0.91);
    expect(result.translation).toMatch(/^1\n00:00:00,000 --> 00:00:02,000\nEnglish translation of segment 1 of 1\.\n$/);
    expect(result.translation_segments).toHaveLength(1);
  });

  it("an unknown option is rejected before anything reaches the engine", async () => {
    const before = h.calls().length;
    await expect(h.engine.transcribe({ requestId: "u", pcm: tone(1), durationS: 1, options: { beam_size: 2, speed_up: true } as never })).rejects.toMatchObject(
      {
        code: "invalid_input",
        retryable: false,
        message: expect.stringContaining("speed_up") as unknown,
      },
    );
    expect(h.calls()).toHaveLength(before);
  });

  it("a value the library refuses becomes a non-retryable invalid_input", async () => {
    await expect(run({ language: "xx" })).rejects.toMatchObject({ code: "invalid_input", retryable: false });
    const { result } = await run({});
    expect(result.segments.length).toBeGreaterThan(0);
  });
});
