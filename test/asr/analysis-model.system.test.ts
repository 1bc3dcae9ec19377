// Issue 13, item 9: the README's promise about analysis_model holds for skipped analyses too,
// on a real worker run (--test_input on the faster-whisper test double).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doubleEnv, runTestInput, startAudioServer, type AudioServer } from "./worker.ts";

const readme = readFileSync("README.md", "utf8");

describe("analysis_model", () => {
  let audio: AudioServer;
  beforeAll(async () => {
    audio = await startAudioServer();
  });
  afterAll(async () => audio.close());

  it("a result whose analysis was skipped carries analysis_model (null), as the README says", async () => {
    const r = await runTestInput({ audio: audio.url(2) }, doubleEnv({ GEMINI_API_KEY: "" }));
    expect(r.status).toBe("COMPLETED");
    expect(r.output).toMatchObject({ analysis: null, analysis_skipped: "no_api_key", analysis_model: null });
    expect(readme).toMatch(/`analysis_model` \(`null` when the analysis was\s+skipped\)/);
    expect(readme).not.toMatch(/Every result records\s+`analysis_model`/);
  });
});
