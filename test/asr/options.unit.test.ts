import { describe, expect, it } from "vitest";
import { WorkerError } from "../../handler/errors.ts";
import { parseTranscribeOptions, TranscribeOptions } from "../../handler/asr/options.ts";

function rejection(input: unknown): WorkerError {
  try {
    parseTranscribeOptions(input);
  } catch (err) {
    if (err instanceof WorkerError) return err;
    throw err;
  }
  throw new Error("expected the options to be rejected");
}

describe("TranscribeOptions", () => {
  it("fills faster-whisper's defaults, not worker-faster_whisper's bugs", () => {
    const o = parseTranscribeOptions({});
    expect(o.length_penalty).toBe(1);
    expect(o.suppress_tokens).toBe("-1");
    expect(o.temperature).toBe(0);
    expect(o.temperature_increment_on_fallback).toBe(0.2);
    expect(o.beam_size).toBe(5);
    expect(o.best_of).toBe(5);
    expect(o.logprob_threshold).toBe(-1);
    expect(o.no_speech_threshold).toBe(0.6);
    expect(o.compression_ratio_threshold).toBe(2.4);
    expect(o.condition_on_previous_text).toBe(true);
    expect(o.transcription).toBe("plain_text");
    expect(o.batch_size).toBe(1);
    expect(o.enable_vad).toBeUndefined();
    expect(o.model).toBeUndefined();
  });

  it("rejects unknown keys, listing every one, nested ones included", () => {
    const err = rejection({ beam_size: 2, audio_url: "x", speed: 2, vad_parameters: { threshold: 0.4, onset: 0.5 } });
    expect(err.code).toBe("invalid_input");
    expect(err.retryable).toBe(false);
    expect(err.details?.unknownKeys).toEqual(expect.arrayContaining(["audio_url", "speed", "vad_parameters.onset"]));
    expect(err.message).toContain("audio_url");
    expect(err.message).toContain("vad_parameters.onset");
  });

  it("rejects bad values with the option's name", () => {
    expect(rejection({ transcription: "docx" }).message).toContain("transcription");
    expect(rejection({ beam_size: 0 }).message).toContain("beam_size");
    expect(rejection({ suppress_tokens: "1;2" }).message).toContain("suppress_tokens");
    expect(rejection({ language: "English" }).message).toContain("language");
    expect(rejection({ batch_size: 1.5 }).message).toContain("batch_size");
  });

  it("accepts worker-faster_whisper's string token list, a list of ints, and nulls where the engine allows None", () => {
    expect(parseTranscribeOptions({ suppress_tokens: "50,51, -1" }).suppress_tokens).toBe("50,51, -1");
    expect(parseTranscribeOptions({ suppress_tokens: [50, 51] }).suppress_tokens).toEqual([50, 51]);
    const o = parseTranscribeOptions({ temperature_increment_on_fallback: null, logprob_threshold: null, language: null });
    expect(o.temperature_increment_on_fallback).toBeNull();
    expect(o.logprob_threshold).toBeNull();
  });

  it("can be extended by the worker's job input and stays strict", () => {
    const Job = TranscribeOptions.extend({ audio: TranscribeOptions.shape.model });
    expect(Job.safeParse({ audio: "https://example.com/a.ogg", beam_size: 3 }).success).toBe(true);
    expect(Job.safeParse({ audio: "x", nope: 1 }).success).toBe(false);
  });
});
