import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack, type LocalStack } from "../../harness/local-stack.ts";

let stack: LocalStack;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), "vw-cli-"));
beforeAll(async () => {
  stack = await startLocalStack();
  env = { ...stack.env, QUEUE_PREFIX: `cli-${process.pid}`, XDG_CACHE_HOME: dir };
});
afterAll(async () => {
  await stack.stop();
});

const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
  execa("node", ["--import", "tsx", "scripts/queue.ts", ...args], { env: { ...env, ...extraEnv }, reject: false });

describe("queue admin CLI", () => {
  it("pushes a file and a URL, then reports them in stats/list/show as JSON", async () => {
    const file = join(dir, "voice.ogg");
    writeFileSync(file, Buffer.from("OggS fake voice bytes"));
    const a = await cli(["push", file, "--id", "cli-file", "--priority", "high", "--options", '{"language":"de"}', "--json"]);
    expect(a.exitCode).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ id: "cli-file", created: true, state: "queued" });
    const b = await cli(["push", "https://example.com/v.m4a", "--id", "cli-url"]);
    expect(b.stdout).toContain("queued: cli-url");

    const stats = await cli(["stats", "--json"]);
    expect(stats.exitCode).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ queued: 2, active: 0, retrying: 0, dead: 0, failed: 0, done_total: 0 });

    const list = await cli(["list", "--state", "queued", "--json"]);
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((r) => r.id)).toEqual(["cli-file", "cli-url"]);

    const show = await cli(["show", "cli-file"]);
    expect(show.stdout).toMatch(/STATE\s*|state\s+queued/i);
    expect(show.stdout).toContain("high");
  });

  it("prints a human table for stats", async () => {
    const r = await cli(["stats"]);
    expect(r.stdout).toMatch(/^METRIC\s+VALUE/m);
    expect(r.stdout).toMatch(/^queued\s+\d+/m);
  });

  it("exits 2 with a clear message on misuse", async () => {
    for (const args of [["frobnicate"], ["purge"], ["push"], ["push", "x", "--priority", "urgent"], ["list", "--state", "sleeping"], ["stats", "--bogus"]]) {
      const r = await cli(args);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/usage: npm run queue/);
    }
  });

  it("exits 1 with a typed error when no queue is configured or running", async () => {
    const r = await execa("node", ["--import", "tsx", "scripts/queue.ts", "stats"], { env: { PATH: process.env.PATH ?? "", XDG_CACHE_HOME: dir, UPSTASH_REDIS_REST_URL: "", UPSTASH_REDIS_REST_TOKEN: "" }, reject: false, extendEnv: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/queue_not_configured/);
  });
});
