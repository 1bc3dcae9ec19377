import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAnalyzer, type AnalysisOutcome } from "../../handler/analysis/index.ts";
import { reply, SAMPLE_ANALYSIS, startFakeGemini, type FakeGemini } from "../../harness/gemini-server.ts";
import { captureLogger, fakeClock, TEST_KEY, testConfig } from "./helpers.ts";

const TRANSCRIPT = "Hello, this is Sam. Please send the signed contract by Monday.";

let gemini: FakeGemini;
beforeAll(async () => {
  gemini = await startFakeGemini({ apiKey: TEST_KEY });
});
afterAll(() => gemini.close());
beforeEach(() => {
  gemini.requests.length = 0;
  expect(gemini.pending()).toBe(0);
});

function analyzer(log = captureLogger().log) {
  return createAnalyzer(testConfig({ GEMINI_BASE_URL: gemini.baseUrl }), log, { clock: fakeClock() });
}

function errorOf(out: AnalysisOutcome) {
  if (!("analysis_error" in out)) throw new Error(`expected an analysis_error, got ${JSON.stringify(out)}`);
  return out.analysis_error;
}

describe("blocked content", () => {
  it("reports a blocked prompt as llm_blocked with the blockReason, without retrying", async () => {
    gemini.script(reply.blockedPrompt("PROHIBITED_CONTENT"));
    const out = await analyzer().analyze({ transcript: TRANSCRIPT });
    expect(out).toMatchObject({ analysis: null, analysis_model: "gemini-3.5-flash-lite", analysis_prompt_version: "analysis.v1" });
    expect(errorOf(out)).toEqual({ code: "llm_blocked", message: "Gemini blocked the prompt (blockReason PROHIBITED_CONTENT)", retryable: false });
    expect(gemini.requests).toHaveLength(1);
  });

  it.each(["SAFETY", "RECITATION", "SPII"])("reports a %s stop as llm_blocked", async (finishReason) => {
    gemini.script(reply.safetyStop(finishReason));
    const err = errorOf(await analyzer().analyze({ transcript: TRANSCRIPT }));
    expect(err).toEqual({ code: "llm_blocked", message: `Gemini stopped the answer (finishReason ${finishReason})`, retryable: false });
    expect(gemini.requests).toHaveLength(1);
  });
});

describe("invalid output gets one repair attempt", () => {
  it("repairs malformed JSON: the second request shows the bad answer and asks for a fix", async () => {
    gemini.script(reply.malformedJson(), reply.analysis());
    const out = await analyzer().analyze({ transcript: TRANSCRIPT });
    expect(out).toMatchObject({ analysis: SAMPLE_ANALYSIS, analysis_usage: { requests: 2 } });

    expect(gemini.requests).toHaveLength(2);
    const [first, second] = gemini.requests.map(
      (r) => r.body as { contents: Array<{ role: string; parts: Array<{ text: string }> }>; systemInstruction: unknown; generationConfig: unknown },
    );
    expect(second!.contents).toHaveLength(3);
    expect(second!.contents[0]).toEqual(first!.contents[0]);
    expect(second!.contents[1]).toEqual({ role: "model", parts: [{ text: '{"title": "Dentist appointment", "summary": "Anna says the appo' }] });
    expect(second!.contents[2]!.role).toBe("user");
    expect(second!.contents[2]!.parts[0]!.text).toMatch(
      /^Your previous answer could not be used: the reply is not valid JSON \(it was cut off at the output token limit\)/,
    );
    expect(second!.systemInstruction).toEqual(first!.systemInstruction);
    expect(second!.generationConfig).toEqual(first!.generationConfig);
  });

  it("repairs JSON that breaks the schema, naming the problems", async () => {
    const { urgency: _u, ...noUrgency } = SAMPLE_ANALYSIS;
    gemini.script(reply.analysis({ ...noUrgency, sentiment: "furious" }), reply.analysis());
    const out = await analyzer().analyze({ transcript: TRANSCRIPT });
    expect(out.analysis).toEqual(SAMPLE_ANALYSIS);
    const repairText = (gemini.requests[1]!.body as { contents: Array<{ parts: Array<{ text: string }> }> }).contents[2]!.parts[0]!.text;
    expect(repairText).toContain("does not match the schema");
    expect(repairText).toContain("sentiment");
    expect(repairText).toContain("urgency");
  });

  it("gives llm_invalid_output when the repair is unusable too", async () => {
    gemini.script(reply.text("Sure! Here is the analysis: title Contract"), reply.malformedJson());
    const err = errorOf(await analyzer().analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_invalid_output", retryable: false });
    expect(err.message).toContain("after one repair attempt");
    expect(gemini.requests).toHaveLength(2);
  });

  it("re-asks without a model turn when the reply had no text at all", async () => {
    gemini.script(reply.safetyStop("OTHER"), reply.analysis());
    const out = await analyzer().analyze({ transcript: TRANSCRIPT });
    expect(out.analysis).toEqual(SAMPLE_ANALYSIS);
    const contents = (gemini.requests[1]!.body as { contents: Array<{ role: string }> }).contents;
    expect(contents.map((c) => c.role)).toEqual(["user", "user"]);
  });

  it("accepts JSON wrapped in a Markdown fence without a repair", async () => {
    gemini.script(reply.text("```json\n" + JSON.stringify(SAMPLE_ANALYSIS) + "\n```"));
    const out = await analyzer().analyze({ transcript: TRANSCRIPT });
    expect(out.analysis).toEqual(SAMPLE_ANALYSIS);
    expect(gemini.requests).toHaveLength(1);
  });

  it("still retries transient errors during the repair request", async () => {
    gemini.script(reply.malformedJson(), reply.unavailable(), reply.analysis());
    const out = await analyzer().analyze({ transcript: TRANSCRIPT });
    expect(out).toMatchObject({ analysis: SAMPLE_ANALYSIS, analysis_usage: { requests: 3 } });
  });

  it("keeps transcript and model text out of the logs", async () => {
    const { log, lines } = captureLogger();
    gemini.script(reply.text("PRIVATE-MODEL-TEXT is not json"), reply.text('{"title": "PRIVATE-MODEL-TEXT"}'));
    const out = await analyzer(log).analyze({ transcript: "PRIVATE-TRANSCRIPT-TEXT: my bank PIN is 1234." });
    expect(errorOf(out).code).toBe("llm_invalid_output");
    expect(lines.length).toBeGreaterThan(2);
    const all = lines.join("\n");
    expect(all).not.toContain("PRIVATE-TRANSCRIPT-TEXT");
    expect(all).not.toContain("PRIVATE-MODEL-TEXT");
    expect(errorOf(out).message).not.toContain("PRIVATE-MODEL-TEXT");
  });
});
