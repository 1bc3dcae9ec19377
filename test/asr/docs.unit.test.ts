// Issue 13, item 9: no figure of the test double is presented as the speech engine's (the
// README's promise about analysis_model is checked on a real run in analysis-model.system.test.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync("README.md", "utf8");

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, title).toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Paragraphs, list items and tables of a README section. */
const blocks = (text: string) =>
  text
    .split(/\n\s*\n|\n(?=- )/)
    .map((b) => b.trim())
    .filter(Boolean);
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
