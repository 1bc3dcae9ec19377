// Every test file names its tier (CONTRIBUTING.md, "Tests"); a file without one would never run.
// And the unit tier's guard really refuses processes and servers.
import { readdirSync } from "node:fs";
import { createServer } from "node:net";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TierViolation } from "../tiers/guard.ts";

const TIER = /\.(unit|integration|system)\.test\.ts$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name.startsWith(".") ? [] : files(path);
    return [path];
  });
}

describe("test tiers", () => {
  const all = ["test", "handler", "harness", "scripts", "diagnostics"].flatMap(files);

  it("every test file is under test/ and ends in .unit, .integration or .system .test.ts", () => {
    const tests = all.filter((f) => /\.test\.[cm]?[jt]sx?$|\.spec\.[cm]?[jt]sx?$/.test(f));
    expect(tests.length).toBeGreaterThan(60);
    expect(tests.filter((f) => !f.startsWith("test/") || !TIER.test(f))).toEqual([]);
  });

  it("each tier has tests", () => {
    for (const tier of ["unit", "integration", "system"]) expect(all.filter((f) => f.endsWith(`.${tier}.test.ts`)).length, tier).toBeGreaterThan(5);
  });

  it("a unit test cannot start a child process, synchronously or not", () => {
    expect(() => spawn("true")).toThrow(TierViolation);
    expect(() => spawnSync("true")).toThrow(/\*\.integration\.test\.ts/);
  });

  it("a unit test cannot open a server", () => {
    const server = createServer();
    expect(() => server.listen(0, "127.0.0.1")).toThrow(/a unit test opens no server/);
  });
});
