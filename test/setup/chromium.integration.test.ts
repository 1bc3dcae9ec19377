// `npm run setup -- --tests` installs Debian's chromium: the dashboard's browser test drives it
// with playwright-core (which never downloads a browser of its own).
import { afterEach, describe, expect, it } from "vitest";
import { ALL_APT, changingCalls, makeSandbox, type Sandbox } from "./sandbox.ts";

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup();
});

describe("setup --tests: chromium for the dashboard's browser test", () => {
  it("plans apt's chromium when it is missing, installs it, and finds it the second time", async () => {
    const s = makeSandbox({ installed: ALL_APT.filter((p) => p !== "chromium") });
    sandboxes.push(s);
    const plan = await s.run(["--tests", "--dry-run"]);
    expect(plan.exitCode, plan.output).toBe(0);
    expect(plan.output).toContain("apt-get install -y -qq --no-install-recommends chromium\n");
    const first = await s.run(["--tests"]);
    expect(first.exitCode, first.output).toBe(0);
    expect(changingCalls(first.calls).filter((c) => c.includes("apt-get install"))).toEqual(["apt-get install -y -qq --no-install-recommends chromium"]);
    const second = await s.run(["--tests"]);
    expect(second.output).toMatch(/apt packages present: .*chromium/);
    expect(changingCalls(second.calls).filter((c) => c.includes("apt-get"))).toEqual([]);
  });

  it("without --tests (the worker's own install) chromium is not installed", async () => {
    const s = makeSandbox({ installed: ALL_APT.filter((p) => p !== "chromium") });
    sandboxes.push(s);
    const plan = await s.run(["--dry-run"]);
    expect(plan.output).not.toContain("chromium");
  });
});
