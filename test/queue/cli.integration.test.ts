import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";

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

/** Runs `fn` over `items`, `size` at a time (each CLI run is a node process: two cores). */
async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

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

  it("exits 2 with a clear message on every command's misuse, before it reads settings or contacts the queue", { timeout: 180_000 }, async () => {
    const file = join(dir, "misuse.ogg");
    writeFileSync(file, Buffer.from("OggS fake voice bytes"));
    const empty = join(dir, "empty.ogg");
    writeFileSync(empty, "");
    const misuse = [
      ["frobnicate"],
      ["stats", "--bogus"],
      ["--id"],
      ["push"],
      ["push", file, "extra"],
      ["push", file, "--priority", "urgent"],
      ["push", file, "--id", "bad id"],
      ["push", file, "--id", ""],
      ["push", "https://example.com/v.ogg", "--id", "x".repeat(129)],
      ["push", dir],
      ["push", empty],
      ["push", join(dir, "missing.ogg")],
      ["push", file, "--options", "[1]"],
      ["push", file, "--options", '{"audio_key":"k"}'],
      ["push", file, "--state", "queued"],
      ["list", "extra"],
      ["list", "--state", "sleeping"],
      ["list", "--priority", "high"],
      ["show"],
      ["show", "a", "b"],
      ["show", "bad/id"],
      ["show", "a", "--yes"],
      ["errors", "x"],
      ["errors", "--id", "a"],
      ["stats", "x"],
      ["workers", "x"],
      ["workers", "--all-dead"],
      ["retry"],
      ["retry", "a", "--all-dead"],
      ["retry", "a", "bad id"],
      ["retry", "a", "--state", "dead"],
      ["purge"],
      ["purge", "x", "--yes"],
      ["purge", "--state", "nope", "--yes"],
      ["purge", "--all-dead", "--yes"],
    ];
    // A queue nobody answers: a command that got as far as contacting it would exit 1, not 2.
    const unreachable = { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9", UPSTASH_REDIS_REST_TOKEN: "unreachable-token" };
    const results = await inBatches(misuse, 3, (args) => cli(args, unreachable));
    for (const [i, r] of results.entries()) {
      const args = misuse[i]!.join(" ");
      expect(r.exitCode, `${args}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args).toMatch(/usage: npm run queue/);
      expect(r.stderr, args).not.toMatch(/queue_unavailable|queue_not_configured/);
    }
  });

  it("push --id with a bad id stores no audio: nothing is left under the queue's keys", async () => {
    const file = join(dir, "orphan.ogg");
    writeFileSync(file, Buffer.from("OggS fake voice bytes"));
    const prefix = `orphan-${process.pid}`;
    const runs = [];
    for (const id of ["bad id", "x".repeat(129), "ünïcode"]) runs.push(await cli(["push", file, "--id", id], { QUEUE_PREFIX: prefix }));
    const keys = await fetch(stack.env.UPSTASH_REDIS_REST_URL, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.env.UPSTASH_REDIS_REST_TOKEN}` },
      body: JSON.stringify(["KEYS", `{${prefix}}:*`]),
    }).then((res) => res.json() as Promise<{ result: string[] }>);
    expect(keys.result).toEqual([]);
    for (const r of runs) {
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/not a job id/);
    }
  });

  it("exits 1 with a typed error when no queue is configured or running", async () => {
    const r = await execa("node", ["--import", "tsx", "scripts/queue.ts", "stats"], {
      env: { PATH: process.env.PATH ?? "", XDG_CACHE_HOME: dir, UPSTASH_REDIS_REST_URL: "", UPSTASH_REDIS_REST_TOKEN: "" },
      reject: false,
      extendEnv: false,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/queue_not_configured/);
  });
});
