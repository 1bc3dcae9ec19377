import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnalyzer, type AnalysisOutcome } from "../../handler/analysis/index.ts";
import type { GeminiClient } from "../../handler/analysis/gemini.ts";
import { reply, startFakeGemini, type FakeGemini, type ScriptedReply } from "../../harness/gemini-server.ts";
import { captureLogger, fakeClock, TEST_KEY, testConfig } from "./helpers.ts";

// One key shaped like Google's (caught by value and by pattern), one that only the
// registered-secret scrubbing can catch.
const KEYS = [TEST_KEY, "gm-secret-9f8e7d6c5b4a3210"];

/** Failures whose bodies echo the key, as a careless proxy or a verbose error might. */
function echoingFailures(key: string): ScriptedReply[] {
  return [
    reply.custom(500, { error: { code: 500, status: "INTERNAL", message: `upstream rejected key=${key}` } }),
    reply.custom(503, { error: { code: 503, status: "UNAVAILABLE", message: `overloaded for x-goog-api-key: ${key}` } }),
    reply.custom(502, `<html>bad gateway for ${key}</html>`),
    reply.custom(429, {
      error: {
        code: 429,
        status: "RESOURCE_EXHAUSTED",
        message: `quota for ${key}`,
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1s" }],
      },
    }),
  ];
}

describe("the API key never leaks", () => {
  const servers: FakeGemini[] = [];
  beforeAll(async () => {
    for (const key of KEYS) servers.push(await startFakeGemini({ apiKey: key }));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it("appears in no log line, error message or outcome of runs full of failures", async () => {
    const { log, lines } = captureLogger();
    const outcomes: AnalysisOutcome[] = [];

    for (const [i, key] of KEYS.entries()) {
      const gemini = servers[i]!;
      const cfg = testConfig({ GEMINI_API_KEY: key, GEMINI_BASE_URL: gemini.baseUrl, GEMINI_MAX_ATTEMPTS: "4" });
      const analyzer = createAnalyzer(cfg, log, { clock: fakeClock() });

      gemini.script(...echoingFailures(key));
      outcomes.push(await analyzer.analyze({ transcript: "Please call me back." }));
      gemini.script(reply.custom(400, { error: { code: 400, status: "INVALID_ARGUMENT", message: `API key not valid: ${key}` } }));
      outcomes.push(await analyzer.analyze({ transcript: "Second message." }));
      gemini.script(reply.text(`not json, but the key ${key}`), reply.text(`still not json ${key}`));
      outcomes.push(await analyzer.analyze({ transcript: "Third message." }));
      gemini.script(reply.blockedPrompt("SAFETY"));
      outcomes.push(await analyzer.analyze({ transcript: "Fourth message." }));

      // A wrong key: the server's real 400 answer.
      const wrong = createAnalyzer(testConfig({ GEMINI_API_KEY: `${key}-revoked`, GEMINI_BASE_URL: gemini.baseUrl }), log, { clock: fakeClock() });
      outcomes.push(await wrong.analyze({ transcript: "Fifth message." }));

      // A bug that throws with the key in its message still becomes a scrubbed outcome.
      const crashing: GeminiClient = { generate: () => Promise.reject(new Error(`boom with ${key}`)) };
      outcomes.push(await createAnalyzer(cfg, log, { clock: fakeClock(), client: crashing }).analyze({ transcript: "Sixth." }));

      // The key really was in play: sent on every request to the server.
      expect(gemini.requests.length).toBeGreaterThanOrEqual(9);
      expect(gemini.requests.filter((r) => r.headers["x-goog-api-key"] === key).length).toBeGreaterThanOrEqual(8);
    }

    expect(outcomes.map((o) => ("analysis_error" in o ? o.analysis_error.code : "ok"))).toEqual([
      ...["llm_rate_limited", "llm_auth", "llm_invalid_output", "llm_blocked", "llm_auth", "internal_error"],
      ...["llm_rate_limited", "llm_auth", "llm_invalid_output", "llm_blocked", "llm_auth", "internal_error"],
    ]);
    const everything = [...lines, JSON.stringify(outcomes)].join("\n");
    expect(lines.length).toBeGreaterThan(20);
    for (const key of KEYS) {
      expect(everything.includes(key)).toBe(false);
      // Not even a long fragment of it.
      expect(everything.includes(key.slice(4, 24))).toBe(false);
    }
    expect(everything).toContain("[secret]");
  });
});
