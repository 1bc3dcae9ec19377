// Step 8 against real peers: the local stack (a real redis-server behind the Upstash-compatible
// REST server, driven by the project's own Upstash client) and the fake Gemini API (Google's
// wire format, reached through GEMINI_BASE_URL); plus the fitness-style memory and disk checks.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "@upstash/redis";
import { loadDiagnoseConfig } from "../../diagnostics/config.ts";
import { runDiagnose } from "../../diagnostics/run.ts";
import type { DiagnoseFlags, StepResult } from "../../diagnostics/types.ts";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { freePort } from "../../handler/net/ports.ts";
import { reply, startFakeGemini, type FakeGemini } from "../../harness/gemini-server.ts";

const GEMINI_KEY = "AIzaSyDiagnoseTestKey0123456789abcdefghij";

let stack: LocalStack;
let gemini: FakeGemini;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vw-diag-services-"));
  [stack, gemini] = await Promise.all([startLocalStack(), startFakeGemini({ apiKey: GEMINI_KEY })]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), gemini?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Step 8 with these settings; PATH has redis-server (the local default) and the model cache is a temp dir. */
async function services(env: Record<string, string | undefined>, flags: Partial<DiagnoseFlags> = {}): Promise<StepResult> {
  const full = { PATH: process.env.PATH, HOME: dir, MODEL_DIR: join(dir, "models"), WHISPER_MODEL: "tiny", DIAGNOSE_MIN_MEMORY_MB: "16", ...env };
  const report = await runDiagnose(
    { config: loadDiagnoseConfig(full, null), env: full, flags: { requireGpu: false, quick: false, deep: false, ...flags } },
    { only: ["services"] },
  );
  const r = report.steps[0];
  if (!r) throw new Error("no services step");
  return r;
}

describe("step 8: the queue", () => {
  it("Upstash (the local stack): PING latency and a write/read/delete round trip that leaves no key", async () => {
    const r = await services({ ...stack.env, QUEUE_PREFIX: "diagtest" });
    expect(r.status).toBe("pass");
    expect(r.detail).toMatch(/queue: Upstash 127\.0\.0\.1:\d+: PING \d+ ms, write\/read\/delete of diagtest:diagnose:\* ok;/);
    const client = new Redis({ url: stack.env.UPSTASH_REDIS_REST_URL, token: stack.env.UPSTASH_REDIS_REST_TOKEN });
    expect(await client.keys("diagtest:*")).toEqual([]);
  });

  it("wrong Redis token: fails, the token is rejected, and the fix names the setting", async () => {
    const r = await services({ UPSTASH_REDIS_REST_URL: stack.env.UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN: "not-the-token-at-all" });
    expect(r.status).toBe("fail");
    expect(r.detail).toMatch(/queue: Upstash 127\.0\.0\.1:\d+ rejected the token \(PING: Unauthorized\)/);
    expect(r.fix).toContain("Set UPSTASH_REDIS_REST_TOKEN to the database's REST token");
    expect(`${r.detail} ${r.fix}`).not.toContain("not-the-token-at-all");
  });

  it("Redis unreachable (nothing listens on the URL's port): fails with the URL to check", async () => {
    const port = await freePort();
    const r = await services({ UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`, UPSTASH_REDIS_REST_TOKEN: "some-token-value" });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain(`queue: Upstash 127.0.0.1:${port} unreachable (PING: fetch failed, ECONNREFUSED)`);
    expect(r.fix).toContain("Check UPSTASH_REDIS_REST_URL");
  });

  it("--quick does not contact Upstash; no Upstash at all means the local default, with redis-server found", async () => {
    const port = await freePort();
    const quick = await services({ UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`, UPSTASH_REDIS_REST_TOKEN: "some-token-value" }, { quick: true });
    expect(quick.status).toBe("pass");
    expect(quick.detail).toContain("not contacted: --quick");

    const local = await services({});
    expect(local.detail).toMatch(/queue: no UPSTASH_REDIS_REST_URL, the local default will be used \(redis-server at \S+redis-server\)/);
    const missing = await services({ REDIS_SERVER_BIN: join(dir, "no-redis-server") });
    expect(missing.status).toBe("fail");
    expect(missing.fix).toContain("sudo apt-get install redis-server");
  });
});

describe("step 8: Gemini", () => {
  it("a rejected key fails with the fix, and the key never appears in the report", async () => {
    const wrong = "AIzaSyWrongKeyWrongKeyWrongKey0123456789";
    const before = gemini.requests.length;
    const r = await services({ GEMINI_API_KEY: wrong, GEMINI_BASE_URL: gemini.baseUrl });
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("Gemini rejected GEMINI_API_KEY (Gemini 400 INVALID_ARGUMENT: API key not valid. Please pass a valid API key.)");
    expect(r.fix).toContain("Set GEMINI_API_KEY to a valid key");
    expect(JSON.stringify(r)).not.toContain(wrong);
    expect(gemini.requests.slice(before).map((q) => q.headers["x-goog-api-key"])).toEqual([wrong]);
  });

  it("a valid key passes with one small request to the configured model; no key or --quick makes none", async () => {
    const before = gemini.requests.length;
    const ok = await services({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl, GEMINI_MODEL: "gemini-3.5-flash-lite" });
    expect(ok.detail).toMatch(/Gemini: key valid, gemini-3\.5-flash-lite answered in \d+ ms/);
    const sent = gemini.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: "POST", model: "gemini-3.5-flash-lite" });
    expect(sent[0]?.body.generationConfig?.maxOutputTokens).toBe(16);

    const none = await services({ GEMINI_BASE_URL: gemini.baseUrl });
    expect(none.detail).toContain("Gemini: skipped, GEMINI_API_KEY unset");
    const quick = await services({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl }, { quick: true });
    expect(quick.detail).toContain("not checked: --quick");
    expect(gemini.requests.length).toBe(before + 1);
  });

  it("an unknown model fails; a rate limit is only a warning", async () => {
    gemini.script(reply.custom(404, { error: { code: 404, message: "models/gemini-0 is not found for API version v1beta", status: "NOT_FOUND" } }));
    const missing = await services({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl, GEMINI_MODEL: "gemini-0" });
    expect(missing.status).toBe("fail");
    expect(missing.fix).toContain("Set GEMINI_MODEL");
    gemini.script(reply.rateLimited({ retryDelay: "20s" }));
    const limited = await services({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl });
    expect(limited.status).toBe("warn");
    expect(limited.detail).toContain("Gemini 429 RESOURCE_EXHAUSTED");
  });
});

describe("step 8: host resources (RunPod's fitness checks)", () => {
  it("reports available memory and free disk where the model cache lives; fails below the minimums", async () => {
    const ok = await services({});
    expect(ok.detail).toMatch(/memory: [\d.]+ (GiB|MiB) available/);
    expect(ok.detail).toMatch(new RegExp(`disk: [\\d.]+ (GiB|MiB) free \\(\\d+%\\) at ${dir}`));

    const mem = await services({ DIAGNOSE_MIN_MEMORY_MB: String(64 * 1024 * 1024) });
    expect(mem.status).toBe("fail");
    expect(mem.detail).toContain(`below ${64 * 1024 * 1024} MiB (RunPod's fitness check refuses such a worker)`);
    expect(mem.fix).toContain("DIAGNOSE_MIN_MEMORY_MB");

    const disk = await services({ DIAGNOSE_MIN_DISK_PERCENT: "100" });
    expect(disk.status).toBe("fail");
    expect(disk.fix).toContain("DIAGNOSE_MIN_DISK_PERCENT");
  });
});
