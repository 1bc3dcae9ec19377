import { loadConfig } from "../../handler/config/load.ts";
import type { Config } from "../../handler/config/schema.ts";
import { createLogger, type Logger } from "../../handler/log/logger.ts";
import type { Clock } from "../../handler/analysis/retry.ts";
import type { WireRequestBody } from "../../harness/gemini-server.ts";

// Shaped like a real key, so both scrubbing paths (registered value, AIza pattern) apply.
export const TEST_KEY = "AIzaSyD-fake-test-key-0123456789abcdefghij";

/** Config as the worker loads it, with fast retry settings unless overridden. */
export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({ GEMINI_API_KEY: TEST_KEY, GEMINI_BACKOFF_BASE_MS: "100", GEMINI_BACKOFF_MAX_MS: "5000", ...env }, null);
}

/** A logger whose every serialized line is kept, exactly as it would be written. */
export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: "trace", destination: { write: (line: string) => void lines.push(line) } });
  return { log, lines };
}

/** Time that moves only when the analyzer waits: records every wait, never sleeps. */
export function fakeClock(random = 1): Clock & { waits: number[]; t: number } {
  const clock = {
    t: 0,
    waits: [] as number[],
    now: () => clock.t,
    random: () => random,
    sleep: async (ms: number, signal?: AbortSignal) => {
      clock.waits.push(ms);
      clock.t += ms;
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw new Error("aborted");
    },
  };
  return clock;
}

/** Text of the single user turn the analyzer sent. */
export function sentPrompt(body: WireRequestBody): string {
  return body.contents[0]!.parts.map((p) => p.text ?? "").join("");
}

/** Text of the system instruction sent. */
export function sentSystem(body: WireRequestBody): string | undefined {
  return body.systemInstruction?.parts.map((p) => p.text ?? "").join("");
}
