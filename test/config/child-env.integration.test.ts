import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { execa } from "execa";
import { childEnv } from "../../handler/config/child-env.ts";
import { registerSecret } from "../../handler/config/secret.ts";

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
});

describe("child process environment", () => {
  it("drops secret settings and any variable holding a known secret, keeps the rest", () => {
    process.env.GEMINI_API_KEY = "AIza-child-env-test-key-000000000000";
    process.env.UPSTASH_REDIS_REST_TOKEN = "tok-child-env-test";
    process.env.SOME_COPY_OF_TOKEN = "copied-secret-value-123";
    registerSecret("copied-secret-value-123");
    process.env.HARMLESS = "yes";
    const env = childEnv({ LC_ALL: "C" });
    expect(env.GEMINI_API_KEY).toBeUndefined();
    expect(env.UPSTASH_REDIS_REST_TOKEN).toBeUndefined();
    expect(env.SOME_COPY_OF_TOKEN).toBeUndefined();
    expect(env).toMatchObject({ HARMLESS: "yes", LC_ALL: "C", PATH: process.env.PATH });
  });

  it("a real child started with it cannot see the secrets", async () => {
    process.env.RUNPOD_AI_API_KEY = "rpa-child-env-test-secret";
    const child = execa("sleep", ["5"], { env: childEnv(), extendEnv: false, reject: false });
    const environ = readFileSync(`/proc/${child.pid}/environ`, "utf8");
    child.kill();
    await child;
    expect(environ).not.toContain("rpa-child-env-test-secret");
    expect(environ).toContain("PATH=");
  });
});
