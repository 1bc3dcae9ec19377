import { describe, expect, it } from "vitest";
import { createLogger, jobLogger } from "../../handler/log/logger.ts";
import { loadConfig } from "../../handler/config/load.ts";
import { captureLines } from "../helpers/log-capture.ts";

describe("logging", () => {
  it("writes JSON lines with the job context of child loggers", () => {
    const out = captureLines();
    const log = jobLogger(createLogger({ destination: out, level: "debug" }), { jobId: "j-1", attempt: 2, stage: "decode" });
    log.debug({ bytes: 10 }, "decoded");
    const line = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ jobId: "j-1", attempt: 2, stage: "decode", bytes: 10, msg: "decoded", level: 20 });
  });

  it("honours the level", () => {
    const out = captureLines();
    const log = createLogger({ destination: out, level: "warn" });
    log.info("hidden");
    log.warn("shown");
    expect(out.lines).toHaveLength(1);
  });

  it("redacts secret fields and secret values anywhere in a line", () => {
    const c = loadConfig(
      {
        UPSTASH_REDIS_REST_URL: "https://x.upstash.io",
        UPSTASH_REDIS_REST_TOKEN: "tok_LOGGING_SECRET_42",
        GEMINI_API_KEY: "AIzaSyD-logging-test-key-000000000000",
      },
      null,
    );
    const out = captureLines();
    const log = createLogger({ destination: out });
    log.info({ token: "tok_LOGGING_SECRET_42", headers: { authorization: "Bearer tok_LOGGING_SECRET_42" }, cfg: c }, "connecting");
    log.info(`free text mentioning tok_LOGGING_SECRET_42 and ?key=${c.GEMINI_API_KEY!.reveal()}`);
    log.error({ err: new Error("request to https://g.example/v1?key=AIzaSyD-logging-test-key-000000000000 failed") }, "boom");
    const text = out.text();
    expect(text).not.toContain("tok_LOGGING_SECRET_42");
    expect(text).not.toContain("AIzaSyD-logging-test-key");
    expect(text).toContain("[secret]");
    expect(out.lines).toHaveLength(3);
  });
});
