// Issue 13, item 9: no figure of the test double is presented as the speech engine's, and the
// README's promise about analysis_model holds for skipped analyses too.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doubleEnv, runTestInput, startAudioServer, type AudioServer } from "./worker.ts";

const readme = readFileSync("README.md", "utf8");

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, title).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Paragraphs, list items and tables of a README section. */
const blocks = (text: string) => text.split(/\n\s*\n|\n(?=- )/).map((b) => b.trim()).filter(Boolean);
const FIGURE = /\b\d+(\.\d+)?\s?(ms|MB|GB|s)\b/;
const ENGINE_NAMED = /test double|faster-whisper 1\.2\.1/;

describe("README figures name the engine that produced them", () => {
  it.each(["Performance", "Speech to text (faster-whisper sidecar)"])("%s: every figure about the sidecar or the engine says which engine", (title) => {
    for (const block of blocks(section(title))) {
      if (/sidecar|\bclip\b|model load/i.test(block) && FIGURE.test(block)) {
        expect(block, block.slice(0, 200)).toMatch(ENGINE_NAMED);
      }
    }
  });

  it("the double's sidecar memory (36 MB) is called the double's, and the real engine's figures are given", () => {
    const perf = section("Performance");
    const memory = blocks(perf).find((b) => b.includes("36 MB"));
    expect(memory).toMatch(/test double/);
    expect(perf).toMatch(/63 MB after imports.*390 MB at rest.*630 MB peak/s);
  });
});

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
