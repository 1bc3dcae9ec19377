// Issue 13's acceptance, as a user runs it: the same jobs through `npm start -- --test_input`
// on the 1.2.1 double. (1) the batched pipeline without VAD on a 45 s message completes; (2) a VAD
// field 1.2.1 lacks and (3) a suppress_tokens id past the vocabulary are invalid_input; and no
// segment or word ends after audio_duration_s.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doubleEnv, runTestInput, startAudioServer, type AudioServer } from "./worker.ts";

let audio: AudioServer;
beforeAll(async () => {
  audio = await startAudioServer();
});
afterAll(async () => audio.close());

describe("npm start -- --test_input on the 1.2.1 double", () => {
  it("(1) batch_size 8, enable_vad false, 45 s: COMPLETED, the whole message transcribed", async () => {
    const r = await runTestInput({ audio: audio.url(45), batch_size: 8, enable_vad: false, language: "en" }, doubleEnv());
    expect(r.status, r.stderr.slice(-1500)).toBe("COMPLETED");
    expect(r.exitCode).toBe(0);
    expect(r.output!.audio_duration_s).toBe(45);
    expect(r.output!.segments.at(-1)!.end).toBe(45);
  });

  it("(2) vad_parameters with min_silence_at_max_speech (not in 1.2.1): FAILED invalid_input, not retried", async () => {
    const r = await runTestInput(
      { audio: audio.url(5), enable_vad: true, vad_parameters: { min_silence_at_max_speech: 98, use_max_poss_sil_at_max_speech: true } },
      doubleEnv(),
    );
    expect(r.status).toBe("FAILED");
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatchObject({ error_type: "invalid_input", retryable: false });
    expect(r.error!.error_message).toContain("min_silence_at_max_speech");
  });

  it("(3) suppress_tokens [60000] on a 51865-token model: FAILED invalid_input before the engine runs", async () => {
    const env = doubleEnv();
    const r = await runTestInput({ audio: audio.url(5), suppress_tokens: [60000] }, env);
    expect(r.status).toBe("FAILED");
    expect(r.error).toMatchObject({ error_type: "invalid_input", retryable: false });
    expect(r.error!.error_message).toContain("51865");
    expect(existsSync(env.FAKE_FW_CALL_LOG!)).toBe(false); // transcribe() was never called
  });

  it("segment and word ends are <= audio_duration_s (default options, with word timestamps, in SRT)", async () => {
    for (const input of [
      { audio: audio.url(10) },
      { audio: audio.url(10), word_timestamps: true, transcription: "srt" },
      { audio: audio.url(37.5), word_timestamps: true },
    ]) {
      const r = await runTestInput(input, doubleEnv());
      expect(r.status, JSON.stringify(input)).toBe("COMPLETED");
      const out = r.output!;
      const ends = out.segments.flatMap((s) => [s.end, ...(s.words ?? []).map((w) => w.end)]);
      expect(ends.length).toBeGreaterThan(0);
      for (const e of ends) expect(e, JSON.stringify(input)).toBeLessThanOrEqual(out.audio_duration_s);
      expect(out.compute).toMatchObject({ truncated: false });
    }
  });
});
