// `npm run diagnose` as users run it (the entry script in a child process), on this machine:
// no faster-whisper installed. And the runner's guarantees.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { formatStep, useColour } from "../../diagnostics/report.ts";
import { runStep } from "../../diagnostics/run.ts";
import { STEPS, type StepResult } from "../../diagnostics/types.ts";
import { REPO } from "../preflight/host.ts";

const cwd = mkdtempSync(join(tmpdir(), "vw-diag-cli-")); // no .env there
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** This machine's environment without service settings a developer may have exported. */
function machineEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined };
  for (const name of Object.keys(env)) if (/^(UPSTASH_|GEMINI_|RUNPOD_)/.test(name)) env[name] = undefined;
  return env;
}

const TSX = join(REPO, "node_modules", "tsx", "dist", "cli.mjs");

function diagnose(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [TSX, join(REPO, "scripts", "diagnose.ts"), ...args], {
    cwd,
    env: { ...machineEnv(), ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

describe("npm run diagnose on this machine", () => {
  it("--json prints all 8 steps in order and exits 1: faster-whisper is missing, and step 6's fix names npm run setup", async () => {
    const r = await diagnose(["--json"]);
    expect(r.exitCode, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; steps: StepResult[] };
    expect(out.ok).toBe(false);
    expect(out.steps.map((s) => [s.id, s.name])).toEqual(STEPS.map((s) => [s.id, s.name]));
    for (const s of out.steps) {
      expect(Object.keys(s)).toEqual(["id", "name", "status", "detail", "fix", "ms"]);
      expect(["pass", "warn", "fail"]).toContain(s.status);
      expect(s.detail.length).toBeGreaterThan(0);
      expect(s.fix === null).toBe(s.status === "pass");
      expect(s.ms).toBeGreaterThanOrEqual(0);
    }
    const packages = out.steps[5]!;
    expect(packages).toMatchObject({ id: "python-packages", status: "fail" });
    expect(packages.detail).toContain("faster-whisper is not installed");
    expect(packages.fix).toContain("npm run setup");
  });

  it("human output: `[n/8] name  status  detail`, the fix on the next line, no colour into a pipe", async () => {
    const r = await diagnose(["--quick"]);
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.split("\n");
    const stepLines = lines.filter((l) => /^\[\d\/8\] /.test(l));
    expect(stepLines.map((l) => l.slice(0, 6))).toEqual(["[1/8] ", "[2/8] ", "[3/8] ", "[4/8] ", "[5/8] ", "[6/8] ", "[7/8] ", "[8/8] "]);
    expect(stepLines[2]).toMatch(/^\[3\/8\] cuDNN +(pass|warn|fail) {2}\S/);
    const six = lines.findIndex((l) => l.startsWith("[6/8] Python packages"));
    expect(lines[six]).toMatch(/ fail {2}faster-whisper is not installed/);
    expect(lines[six + 1]).toMatch(/^ {6}fix: .*npm run setup/);
    expect(r.stdout).not.toContain("\u001b[");
    expect(lines.at(-1)).toMatch(/^diagnose: NOT ready: \d pass, \d warn, \d fail \(\d+\.\d s\)$/);
  });

  it("usage errors exit 2", async () => {
    const bad = await diagnose(["--bogus"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("Usage: npm run diagnose");
    expect((await diagnose(["--quick", "--deep"])).exitCode).toBe(2);
    const env = await diagnose([], { DIAGNOSE_TIMEOUT_MS: "soon" });
    expect(env.exitCode).toBe(2);
    expect(env.stderr).toContain("DIAGNOSE_TIMEOUT_MS must be a number");
  });
});

describe("the runner", () => {
  it("a check that throws becomes a fail with its message; one that overruns its deadline becomes a fail", async () => {
    const thrown = await runStep(
      "model",
      "Whisper model files",
      async () => {
        throw new TypeError("cannot read properties of undefined");
      },
      5000,
    );
    expect(thrown).toMatchObject({ id: "model", status: "fail" });
    expect(thrown.detail).toContain("cannot read properties of undefined");
    expect(thrown.fix).not.toBeNull();

    const hung = await runStep("ffmpeg", "FFmpeg", () => new Promise(() => {}), 300);
    expect(hung).toMatchObject({ status: "fail", detail: "the check did not finish within 300 ms" });
    expect(hung.fix).toContain("DIAGNOSE_TIMEOUT_MS");
  });

  it("colour only on a terminal and never with NO_COLOR", () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    const r: StepResult = { id: "cudnn", name: "cuDNN", status: "fail", detail: "d", fix: "f", ms: 1 };
    expect(formatStep(r, true)).toContain("\u001b[31mfail\u001b[0m");
    expect(formatStep(r, false)).toBe("[3/8] cuDNN                fail  d\n      fix: f\n");
  });
});
