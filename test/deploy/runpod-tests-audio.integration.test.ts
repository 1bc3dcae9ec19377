// .runpod/tests.json's base64 test decodes, through real ffprobe/ffmpeg, to the committed speech clip.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { loadConfig } from "../../handler/config/load.ts";
import { audioLimitsFromConfig, loadVoiceMessage } from "../../handler/audio/index.ts";
import { loadHubTests } from "./files.ts";

const hubTests = loadHubTests();

describe(".runpod/tests.json", () => {
  it("the base64 test is a real ogg/opus voice message of the committed speech clip", async () => {
    const t = hubTests.tests.find((x) => typeof x.input.audio_base64 === "string");
    expect(t).toBeDefined();
    const limits = audioLimitsFromConfig(loadConfig({}, null));
    const voice = await loadVoiceMessage({ kind: "base64", data: t!.input.audio_base64 as string }, limits);
    const wav = await loadVoiceMessage({ kind: "bytes", data: readFileSync("sidecar/smoke/speech.wav") }, limits);
    expect(voice.ffprobe.container).toBe("ogg");
    expect(voice.ffprobe.codec).toBe("opus");
    expect(Math.abs(voice.durationS - wav.durationS)).toBeLessThan(0.1);
    // Well under RunPod's /run payload limit (10 MB).
    expect(JSON.stringify({ input: t!.input }).length).toBeLessThan(64 * 1024);
  });
});
