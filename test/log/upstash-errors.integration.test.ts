// The Upstash client puts the failing command into its error message: through a real local stack,
// that payload reaches the log scrubbed of the token and truncated.
import { describe, expect, it } from "vitest";
import { Redis } from "@upstash/redis";
import { createLogger } from "../../handler/log/logger.ts";
import { WorkerError } from "../../handler/errors.ts";
import { startLocalStack } from "../../handler/local-stack/stack.ts";
import { captureLines } from "../helpers/log-capture.ts";

describe("logging", () => {
  it("scrubs and truncates the payload the Upstash client puts into its error message", async () => {
    const stack = await startLocalStack();
    try {
      const out = captureLines();
      const log = createLogger({ destination: out });
      // Without auto-pipelining a failing command gets HTTP 400, and the client appends the command to the message.
      const redis = new Redis({ url: stack.env.UPSTASH_REDIS_REST_URL, token: stack.env.UPSTASH_REDIS_REST_TOKEN, enableAutoPipelining: false });
      await redis.set("s", "text");
      const payload = `${"x".repeat(50_000)} ${stack.env.UPSTASH_REDIS_REST_TOKEN}`;
      const err = await redis.eval("return redis.call('INCR', KEYS[1])", ["s"], [payload]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain("command was:"); // the client really embeds the command
      log.error({ err: new WorkerError("queue_unavailable", (err as Error).message, { retryable: true, cause: err }) }, "claim failed");
      const line = out.lines[0]!;
      expect(line.length).toBeLessThan(12_000);
      expect(line).not.toContain("x".repeat(2000));
      expect(line).not.toContain(stack.env.UPSTASH_REDIS_REST_TOKEN);
      expect((JSON.parse(line) as { err: { code: string } }).err.code).toBe("queue_unavailable");
    } finally {
      await stack.stop();
    }
  });
});
