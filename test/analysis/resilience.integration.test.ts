import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../handler/net/ports.ts";
import { createAnalyzer, type AnalysisOutcome } from "../../handler/analysis/index.ts";
import { reply, startFakeGemini, type FakeGemini } from "../../harness/gemini-server.ts";
import { captureLogger, fakeClock, testConfig } from "./helpers.ts";
import { waitUntil } from "../helpers/wait.ts";

const TRANSCRIPT = "Hi, it's Tom. The server room is flooding, call me right now.";

let gemini: FakeGemini;
beforeAll(async () => {
  gemini = await startFakeGemini({ apiKey: "AIzaSyD-fake-test-key-0123456789abcdefghij" });
});
afterAll(() => gemini.close());
beforeEach(() => {
  gemini.requests.length = 0;
  expect(gemini.pending()).toBe(0);
});

/** Analyzer on the fake server with a fake clock (base backoff 100 ms, cap 5 s, no jitter). */
function setup(env: Record<string, string> = {}) {
  const { log, lines } = captureLogger();
  const clock = fakeClock(1);
  const analyzer = createAnalyzer(testConfig({ GEMINI_BASE_URL: gemini.baseUrl, ...env }), log, { clock });
  return { analyzer, clock, lines };
}

function errorOf(out: AnalysisOutcome) {
  if (!("analysis_error" in out)) throw new Error(`expected an analysis_error, got ${JSON.stringify(out)}`);
  return out.analysis_error;
}

describe("retries", () => {
  it("retries 503, 500 and a proxy's 502 with exponential backoff, then succeeds", async () => {
    const { analyzer, clock, lines } = setup();
    gemini.script(reply.unavailable(), reply.internal(), reply.badGateway(), reply.analysis());
    const out = await analyzer.analyze({ transcript: TRANSCRIPT });
    expect(out.analysis).not.toBeNull();
    expect(gemini.requests).toHaveLength(4);
    expect(clock.waits).toEqual([100, 200, 400]);
    if (out.analysis !== null) expect(out.analysis_usage?.requests).toBe(4);
    const retries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "Gemini request failed; retrying");
    expect(retries.map((l) => [l.status, l.attempt, l.wait_ms])).toEqual([
      [503, 1, 100],
      [500, 2, 200],
      [502, 3, 400],
    ]);
  });

  it("applies jitter between half and all of the exponential delay", async () => {
    const { log } = captureLogger();
    const clock = fakeClock(0);
    const analyzer = createAnalyzer(testConfig({ GEMINI_BASE_URL: gemini.baseUrl }), log, { clock });
    gemini.script(reply.unavailable(), reply.unavailable(), reply.analysis());
    await analyzer.analyze({ transcript: TRANSCRIPT });
    expect(clock.waits).toEqual([50, 100]);
  });

  it("gives up with llm_unavailable after GEMINI_MAX_ATTEMPTS", async () => {
    const { analyzer, clock } = setup({ GEMINI_MAX_ATTEMPTS: "3" });
    gemini.script(reply.unavailable(), reply.unavailable(), reply.unavailable());
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_unavailable", retryable: true });
    expect(err.message).toContain("503 UNAVAILABLE: The model is overloaded");
    expect(err.message).toContain("after 3 attempts");
    expect(gemini.requests).toHaveLength(3);
    expect(clock.waits).toEqual([100, 200]);
  });

  it("waits the server's RetryInfo delay on 429", async () => {
    const { analyzer, clock } = setup();
    gemini.script(reply.rateLimited({ retryDelay: "2s" }), reply.rateLimited({ retryDelay: "0.750s" }), reply.analysis());
    const out = await analyzer.analyze({ transcript: TRANSCRIPT });
    expect(out.analysis).not.toBeNull();
    expect(clock.waits).toEqual([2000, 750]);
    expect(gemini.requests).toHaveLength(3);
  });

  it("caps a long RetryInfo delay at GEMINI_BACKOFF_MAX_MS", async () => {
    const { analyzer, clock } = setup();
    gemini.script(reply.rateLimited({ retryDelay: "45s" }), reply.analysis());
    await analyzer.analyze({ transcript: TRANSCRIPT });
    expect(clock.waits).toEqual([5000]);
  });

  it("backs off on a 429 without retry info and reports llm_rate_limited when it persists", async () => {
    const { analyzer, clock } = setup();
    gemini.script(reply.rateLimitedBare(), reply.rateLimited(), reply.rateLimitedBare(), reply.rateLimitedBare());
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_rate_limited", retryable: true });
    expect(err.message).toContain("after 4 attempts");
    expect(clock.waits).toEqual([100, 200, 400]);
    expect(gemini.requests).toHaveLength(4);
  });

  it("does not retry a daily-quota 429, but reports it as retryable", async () => {
    const { analyzer, clock } = setup();
    gemini.script(reply.rateLimited({ daily: true, retryDelay: "3s" }));
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_rate_limited", retryable: true });
    expect(err.message).toContain("daily quota GenerateRequestsPerDayPerProjectPerModel-FreeTier exhausted");
    expect(gemini.requests).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  it("stops retrying when the next wait would pass GEMINI_TOTAL_TIMEOUT_MS", async () => {
    const { analyzer, clock } = setup({ GEMINI_TOTAL_TIMEOUT_MS: "5000", GEMINI_MAX_ATTEMPTS: "10" });
    for (let i = 0; i < 3; i++) gemini.script(reply.rateLimited({ retryDelay: "2s" }));
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }));
    expect(err.code).toBe("llm_rate_limited");
    expect(err.message).toContain("deadline");
    expect(clock.waits).toEqual([2000, 2000]);
    expect(gemini.requests).toHaveLength(3);
  });

  it("retries network errors (connection refused) as llm_unavailable", async () => {
    const { log } = captureLogger();
    const clock = fakeClock(1);
    const port = await freePort();
    const cfg = testConfig({ GEMINI_BASE_URL: `http://127.0.0.1:${port}`, GEMINI_MAX_ATTEMPTS: "2" });
    const err = errorOf(await createAnalyzer(cfg, log, { clock }).analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_unavailable", retryable: true });
    expect(err.message).toMatch(/unreachable.*ECONNREFUSED/);
    expect(clock.waits).toEqual([100]);
  });
});

describe("permanent failures are not retried", () => {
  it("a wrong key is llm_auth (400 API_KEY_INVALID)", async () => {
    const { log } = captureLogger();
    const cfg = testConfig({ GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: "AIzaSyWRONG-key-000000000000000000000000" });
    const err = errorOf(await createAnalyzer(cfg, log, { clock: fakeClock() }).analyze({ transcript: TRANSCRIPT }));
    expect(err).toEqual({ code: "llm_auth", message: "Gemini 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.", retryable: false });
    expect(gemini.requests).toHaveLength(1);
  });

  it("a 403 PERMISSION_DENIED is llm_auth", async () => {
    const { analyzer, clock } = setup();
    gemini.script(reply.permissionDenied());
    expect(errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }))).toMatchObject({ code: "llm_auth", retryable: false });
    expect(gemini.requests).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  it("an unknown model (404) is llm_bad_request", async () => {
    const { analyzer } = setup();
    gemini.script(
      reply.custom(404, {
        error: { code: 404, status: "NOT_FOUND", message: "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent." },
      }),
    );
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_bad_request", retryable: false });
    expect(err.message).toContain("404 NOT_FOUND: models/gemini-9 is not found");
    expect(gemini.requests).toHaveLength(1);
  });
});

describe("timeouts and cancellation (real timers)", () => {
  it("times out a slow attempt after GEMINI_TIMEOUT_MS and retries it", async () => {
    // Generous: the good second attempt must fit in it even on a loaded machine.
    const { analyzer, clock } = setup({ GEMINI_TIMEOUT_MS: "1500" });
    gemini.script(reply.slow(20000), reply.analysis());
    const out = await analyzer.analyze({ transcript: TRANSCRIPT });
    expect(out.analysis).not.toBeNull();
    expect(gemini.requests).toHaveLength(2);
    expect(clock.waits).toEqual([100]);
    // The second request was sent only after the first one's timeout.
    expect(gemini.requests[1]!.at - gemini.requests[0]!.at).toBeGreaterThanOrEqual(1400);
  });

  it("reports llm_timeout when every attempt is too slow", async () => {
    const { analyzer } = setup({ GEMINI_TIMEOUT_MS: "200", GEMINI_MAX_ATTEMPTS: "2" });
    gemini.script(reply.slow(5000), reply.slow(5000));
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT }));
    expect(err).toMatchObject({ code: "llm_timeout", retryable: true });
    expect(err.message).toContain("did not answer within 200 ms (after 2 attempts)");
    expect(gemini.requests).toHaveLength(2);
  });

  it("stops at once when the caller aborts, keeping the outcome an error (not a throw)", async () => {
    const { analyzer } = setup();
    gemini.script(reply.slow(5000));
    const ctl = new AbortController();
    // Abort once the request is really in flight (the fake has it), whatever the machine's load.
    void waitUntil(() => gemini.requests.length === 1, "the request reached Gemini").then(() => ctl.abort());
    const err = errorOf(await analyzer.analyze({ transcript: TRANSCRIPT, signal: ctl.signal }));
    expect(err).toMatchObject({ code: "llm_cancelled", retryable: true });
    expect(gemini.requests).toHaveLength(1);
  });

  it("really waits between attempts with the system clock", async () => {
    const { log } = captureLogger();
    const analyzer = createAnalyzer(testConfig({ GEMINI_BASE_URL: gemini.baseUrl, GEMINI_BACKOFF_BASE_MS: "300" }), log);
    gemini.script(reply.unavailable(), reply.analysis());
    await analyzer.analyze({ transcript: TRANSCRIPT });
    expect(gemini.requests).toHaveLength(2);
    // Equal jitter: at least half the base delay passed between the two requests.
    expect(gemini.requests[1]!.at - gemini.requests[0]!.at).toBeGreaterThanOrEqual(150);
  });
});
