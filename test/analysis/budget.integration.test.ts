import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateTokens, fitToBudget } from "../../handler/analysis/budget.ts";
import { createAnalyzer } from "../../handler/analysis/index.ts";
import { startFakeGemini, type FakeGemini } from "../../harness/gemini-server.ts";
import { captureLogger, fakeClock, sentPrompt, TEST_KEY, testConfig } from "./helpers.ts";

describe("token estimate", () => {
  it("counts about 4 Latin characters per token and more for other scripts", () => {
    expect(estimateTokens("a".repeat(400))).toBe(100);
    expect(estimateTokens("д".repeat(400))).toBe(200);
    expect(estimateTokens("語".repeat(400))).toBe(400);
    expect(estimateTokens("")).toBe(0);
  });
});

describe("fitToBudget", () => {
  const sentence = (i: number) => `Sentence number ${i} says something short.`; // 41 chars

  it("leaves text within the budget alone", () => {
    const text = "Short message. Call me.";
    expect(fitToBudget(text, 100)).toEqual({ text, truncated: false, estimated_tokens: estimateTokens(text) });
  });

  it("cuts at the last sentence end within the budget", () => {
    const text = Array.from({ length: 50 }, (_, i) => sentence(i)).join(" ");
    const out = fitToBudget(text, 100); // ~400 chars
    expect(out.truncated).toBe(true);
    expect(out.estimated_tokens).toBeLessThanOrEqual(100);
    expect(out.text).toMatch(/short\.$/);
    expect(text.startsWith(out.text)).toBe(true);
    // No more than one sentence lost to the boundary search.
    expect(out.text.length).toBeGreaterThan(400 - 45);
  });

  it("falls back to a word boundary when there is no sentence end (ASR without punctuation)", () => {
    const text = Array.from({ length: 300 }, (_, i) => `word${i}`).join(" ");
    const out = fitToBudget(text, 50);
    expect(out.truncated).toBe(true);
    expect(out.estimated_tokens).toBeLessThanOrEqual(50);
    expect(text.startsWith(out.text)).toBe(true);
    // Ends with a whole word: the next character in the original is a space.
    expect(text[out.text.length]).toBe(" ");
  });

  it("cuts CJK text (no spaces) within the budget at a sentence end", () => {
    const text = "明日の会議は十時からです。".repeat(100);
    const out = fitToBudget(text, 100);
    expect(out.truncated).toBe(true);
    expect(out.estimated_tokens).toBeLessThanOrEqual(100);
    expect(out.text.endsWith("。")).toBe(true);
  });

  it("never splits a surrogate pair", () => {
    const out = fitToBudget("😀".repeat(200), 10);
    expect(out.text).toBe("😀".repeat(10));
  });
});

describe("truncation through the analyzer", () => {
  let gemini: FakeGemini;
  beforeAll(async () => {
    gemini = await startFakeGemini({ apiKey: TEST_KEY });
  });
  afterAll(() => gemini.close());

  it("sends only the budgeted part, says so in the prompt and flags the result", async () => {
    const { log, lines } = captureLogger();
    const analyzer = createAnalyzer(testConfig({ GEMINI_BASE_URL: gemini.baseUrl, GEMINI_MAX_INPUT_TOKENS: "200" }), log, { clock: fakeClock() });
    const transcript = Array.from({ length: 200 }, (_, i) => `Item ${i} is on the list.`).join(" ") + " THE-END-MARKER.";

    const out = await analyzer.analyze({ transcript });

    expect(out).toMatchObject({ analysis_truncated: true });
    expect(out.analysis).not.toBeNull();
    const prompt = sentPrompt(gemini.requests.at(-1)!.body);
    expect(prompt).toContain("Item 0 is on the list.");
    expect(prompt).not.toContain("THE-END-MARKER");
    expect(prompt).toContain("The transcript was cut to fit a length limit");
    const sent = /<transcript>\n([\s\S]*)\n<\/transcript>/.exec(prompt)![1]!;
    expect(estimateTokens(sent)).toBeLessThanOrEqual(200);
    expect(sent).toMatch(/list\.$/);
    expect(lines.some((l) => l.includes("transcript cut to the token budget"))).toBe(true);
  });
});
