// A program that loads bad settings exits 2 with every problem listed, and no stack trace.
import { describe, expect, it } from "vitest";
import { execa } from "execa";

describe("configuration", () => {
  it("an entry point exits 2 and prints every problem", async () => {
    const r = await execa("npx", ["tsx", "-e", 'import("./handler/config/load.ts").then(m => m.loadConfigOrExit())'], {
      reject: false,
      env: { MAX_ATTEMPTS: "x", LOG_FORMAT: "xml" },
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/MAX_ATTEMPTS/);
    expect(r.stderr).toMatch(/LOG_FORMAT/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});
