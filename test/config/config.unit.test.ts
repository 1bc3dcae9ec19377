import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../handler/config/load.ts";
import { Secret } from "../../handler/config/secret.ts";

describe("configuration", () => {
  it("applies defaults with units in the names", () => {
    const c = loadConfig({}, null);
    expect(c.MAX_ATTEMPTS).toBe(3);
    expect(c.LEASE_MS).toBe(60000);
    expect(c.MAX_AUDIO_MB).toBe(25);
    expect(c.UPSTASH_REDIS_REST_URL).toBeUndefined();
  });

  it("lists every bad variable in one error, with an example, without echoing values", () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({ MAX_ATTEMPTS: "three", LOG_LEVEL: "loud", UPSTASH_REDIS_REST_URL: "ftp://host", ALLOW_PRIVATE_URLS: "perhaps", LEASE_MS: "5" }, null);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const vars = err!.problems.map((p) => p.variable).sort();
    expect(vars).toEqual(["ALLOW_PRIVATE_URLS", "LEASE_MS", "LOG_LEVEL", "MAX_ATTEMPTS", "UPSTASH_REDIS_REST_URL"]);
    for (const v of vars) expect(err!.message).toContain(`${v} `);
    expect(err!.message).toContain("example: MAX_ATTEMPTS=");
    expect(err!.message).not.toContain("perhaps");
    expect(err!.message).not.toContain("three");
  });

  it("requires the token when the Upstash URL is set", () => {
    expect(() => loadConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }, null)).toThrow(/UPSTASH_REDIS_REST_TOKEN is required/);
  });

  it("types secrets so they never print", () => {
    const c = loadConfig(
      { UPSTASH_REDIS_REST_URL: "https://x.upstash.io", UPSTASH_REDIS_REST_TOKEN: "tok_ABCDEF123456", GEMINI_API_KEY: "AIzaFAKEFAKEFAKE" },
      null,
    );
    const token = c.UPSTASH_REDIS_REST_TOKEN;
    expect(token).toBeInstanceOf(Secret);
    expect(token!.reveal()).toBe("tok_ABCDEF123456");
    const shown = [String(token), `${String(token)}`, JSON.stringify(c), inspect(c), inspect(token)].join("\n");
    expect(shown).not.toContain("tok_ABCDEF123456");
    expect(shown).not.toContain("AIzaFAKEFAKEFAKE");
  });

  it("reads an optional .env file, the real environment winning", () => {
    const dir = mkdtempSync(join(tmpdir(), "vw-env-"));
    const file = join(dir, ".env");
    writeFileSync(file, "MAX_ATTEMPTS=7\nLEASE_MS=90000\n# comment\n");
    const c = loadConfig({ LEASE_MS: "30000" }, file);
    expect(c.MAX_ATTEMPTS).toBe(7);
    expect(c.LEASE_MS).toBe(30000);
  });
});
