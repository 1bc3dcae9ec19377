// `npm run setup` (scripts/setup.sh) in a minimal copy of the project with fake system tools:
// the plan it prints for a GPU and a CPU host, that a second run changes nothing, that a branch
// that cannot be done stops alone, and --tests on this machine.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { asrSettings } from "../../handler/asr/settings.ts";
import { requirementsFor } from "../../handler/preflight/requirements.ts";
import { REPO } from "../preflight/host.ts";
import { ALL_APT, changingCalls, makeSandbox, type Sandbox, type SandboxOptions } from "./sandbox.ts";

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup();
});
function sandbox(opts: SandboxOptions = {}): Sandbox {
  const s = makeSandbox(opts);
  sandboxes.push(s);
  return s;
}

const PIP = "+ sidecar/.venv/bin/python -m pip install -q --disable-pip-version-check -r sidecar/requirements.txt";
/** What --tests changes to install ruff (its venv and pinned requirement) besides npm ci. */
const LINT_CALLS = ["python3 -m venv --clear .lint-venv", "venv-python -m pip install -q --disable-pip-version-check -r scripts/lint-requirements.txt"];

describe("setup --dry-run prints the plan and changes nothing", () => {
  it("a GPU host (nvidia-smi answering): venv, pinned packages plus the CUDA library the pinned ctranslate2 4.6.3 needs", async () => {
    const s = sandbox({ nvidiaSmi: "h100-580" });
    const before = s.snapshot();
    const r = await s.run(["--dry-run"]);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain("[setup] host: GPU (GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-");
    expect(r.output).toContain("[setup] GPU: ctranslate2 4.6.3 needs nvidia-cublas-cu12 from pip");
    expect(r.output).toContain("[setup] + python3 -m venv --clear sidecar/.venv\n");
    expect(r.output).toContain(`${PIP} nvidia-cublas-cu12\n`);
    expect(r.output).not.toContain("nvidia-cudnn");
    expect(r.output).toContain("[setup] + npm ci --no-audit --no-fund\n");
    expect(r.output).toContain(`[setup] + sidecar/.venv/bin/python diagnostics/python/prefetch_model.py turbo ${s.models}\n`);
    expect(r.output).toContain("[setup] + npm run --silent diagnose -- --quick --require-gpu\n");
    expect(r.output).toContain("done (dry run: nothing was changed)");
    expect(changingCalls(r.calls)).toEqual([]);
    expect(s.snapshot()).toEqual(before);
    expect(r.output).not.toContain("test/doubles");
  });

  it("the cuDNN that older pins need comes along: 4.5.0 -> cuDNN 9, 4.4.0 -> cuDNN 8", async () => {
    const v45 = await sandbox({ nvidiaSmi: "h100-580", ct2Pin: "4.5.0" }).run(["--dry-run"]);
    expect(v45.output).toContain(`${PIP} nvidia-cublas-cu12 'nvidia-cudnn-cu12==9.*'\n`);
    const v44 = await sandbox({ nvidiaSmi: "h100-580", ct2Pin: "4.4.0" }).run(["--dry-run"]);
    expect(v44.output).toContain(`${PIP} nvidia-cublas-cu12 'nvidia-cudnn-cu12==8.*'\n`);
  });

  it("a CPU host (no nvidia-smi, or one that cannot reach the driver): no CUDA libraries; --gpu overrides", async () => {
    const none = await sandbox().run(["--dry-run"]);
    expect(none.exitCode).toBe(0);
    expect(none.output).toContain("[setup] host: CPU (no nvidia-smi; --gpu overrides)");
    expect(none.output).toContain(`${PIP}\n`);
    expect(none.output).not.toContain("nvidia-cublas");
    expect(none.output).toContain("[setup] + npm run --silent diagnose -- --quick\n");

    const broken = await sandbox({ nvidiaSmi: "no-driver" }).run(["--dry-run"]);
    expect(broken.output).toContain("host: CPU (nvidia-smi does not answer");
    const forced = await sandbox().run(["--dry-run", "--gpu"]);
    expect(forced.output).toContain("host: GPU (--gpu given)");
    expect(forced.output).toContain(`${PIP} nvidia-cublas-cu12\n`);
    const cpu = await sandbox({ nvidiaSmi: "h100-580" }).run(["--dry-run", "--cpu"]);
    expect(cpu.output).toContain("host: CPU (--cpu given");
    expect(cpu.output).not.toContain("nvidia-cublas");
  });

  it("missing apt packages: the plan shows apt-get, which is not run; --skip-apt reports them and fails", async () => {
    const s = sandbox({ installed: ALL_APT.filter((p) => p !== "ffmpeg" && p !== "redis-server") });
    const r = await s.run(["--dry-run"]);
    expect(r.output).toContain(
      "[setup] + apt-get update -qq\n[setup] + env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg redis-server\n",
    );
    expect(r.calls.filter((c) => c.startsWith("apt-get"))).toEqual([]);
    const skip = await s.run(["--dry-run", "--skip-apt"]);
    expect(skip.exitCode).toBe(1);
    expect(skip.output).toContain("FAILED: apt: missing ffmpeg redis-server (--skip-apt given: install them yourself)");
    expect(skip.output).toContain(`${PIP}\n`); // the other branches still planned
  });
});

describe("setup for real (fake system tools)", () => {
  it("installs on a GPU host, and a second run changes nothing", async () => {
    const s = sandbox({ nvidiaSmi: "h100-580", installed: ALL_APT.filter((p) => p !== "ffmpeg") });
    const first = await s.run([]);
    expect(first.exitCode, first.output).toBe(0);
    expect(changingCalls(first.calls)).toEqual([
      "apt-get update -qq",
      "apt-get install -y -qq --no-install-recommends ffmpeg",
      "npm ci --no-audit --no-fund",
      "python3 -m venv --clear sidecar/.venv",
      "venv-python -m pip install -q --disable-pip-version-check -r sidecar/requirements.txt nvidia-cublas-cu12",
    ]);
    expect(first.output).toMatch(/model: downloaded turbo to \S+models--mobiuslabsgmbh--faster-whisper-large-v3-turbo\/snapshots\//);
    expect(first.calls).toContain("npm run --silent diagnose -- --quick --require-gpu");

    const before = s.snapshot();
    const second = await s.run([]);
    expect(second.exitCode, second.output).toBe(0);
    expect(changingCalls(second.calls)).toEqual([]);
    expect(second.output).toContain("apt packages present");
    expect(second.output).toContain("npm dependencies up to date");
    expect(second.output).toContain("sidecar Python packages up to date (sidecar/requirements.txt + nvidia-cublas-cu12)");
    expect(second.output).toContain("model: turbo already downloaded");
    expect(s.snapshot()).toEqual(before);

    // The stamp covers the CUDA extras: the same checkout set up for the CPU installs again.
    const cpu = await s.run(["--cpu"]);
    expect(changingCalls(cpu.calls)).toEqual(["venv-python -m pip install -q --disable-pip-version-check -r sidecar/requirements.txt"]);
  });

  it("no network to the Python index: that branch stops with a clear message, the rest runs, exit 1", async () => {
    const s = sandbox();
    const r = await s.run([], { FAKE_PIP_FAIL: "1" });
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain("Could not find a version that satisfies the requirement faster-whisper==1.2.1");
    expect(r.output).toContain("FAILED: python: pip could not install sidecar/requirements.txt into sidecar/.venv (no network to the Python package index?");
    expect(r.output).toContain("model: prefetch skipped: faster-whisper is not installed in sidecar/.venv");
    expect(r.calls).toContain("npm ci --no-audit --no-fund");
    expect(r.calls).toContain("npm run --silent diagnose -- --quick");
    expect(r.output).toContain("finished with 1 problem(s):");
  });

  it("a model that cannot be downloaded and a failing diagnose are reported as problems", async () => {
    const s = sandbox();
    const r = await s.run([], { FAKE_FW_OFFLINE: "1", FAKE_DIAGNOSE_RC: "1" });
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain(`FAILED: model: could not download turbo into ${s.models}`);
    expect(r.output).toContain("FAILED: diagnose: a check failed");
  });

  it("WHISPER_MODEL from .env is the model it prefetches", async () => {
    const s = sandbox();
    execFileSync("bash", ["-c", `printf 'WHISPER_MODEL="tiny"\\n' > ${join(s.project, ".env")}`]);
    const r = await s.run(["--dry-run"]);
    expect(r.output).toContain(`prefetch_model.py tiny ${s.models}\n`);
  });

  it("bad options exit 2", async () => {
    const s = sandbox();
    expect((await s.run(["--cpu", "--gpu"])).exitCode).toBe(2);
    expect((await s.run(["--fast"])).exitCode).toBe(2);
  });
});

describe("setup --tests on this machine", () => {
  it("installs nothing it does not need, never faster-whisper or the test double, and exits 0 (twice)", async () => {
    const s = sandbox({ fakeSystem: false });
    const first = await s.run(["--tests"]);
    expect(first.exitCode, first.output).toBe(0);
    expect(first.output).toMatch(/python3 \(\S+\) imports numpy \d/);
    expect(changingCalls(first.calls)).toEqual(["npm ci --no-audit --no-fund", ...LINT_CALLS]);
    expect(first.output).not.toMatch(/faster-whisper|sidecar\/requirements\.txt|test\/doubles|prefetch/);
    const second = await s.run(["--tests"]);
    expect(second.exitCode, second.output).toBe(0);
    expect(changingCalls(second.calls)).toEqual([]);
  });
});

describe("setup --tests: numpy for the python3 the tests run", () => {
  it("Debian's python3 without numpy: python3-numpy from apt; without apt, a failure naming it", async () => {
    const s = sandbox({ python3: "debian", installed: ALL_APT.filter((p) => p !== "python3-numpy") });
    const plan = await s.run(["--tests", "--dry-run"]);
    expect(plan.exitCode, plan.output).toBe(0);
    expect(plan.output).toContain("apt-get install -y -qq --no-install-recommends python3-numpy\n");
    expect(plan.output).toContain("numpy for /usr/bin/python3: from apt's python3-numpy (planned above)");
    const skip = await s.run(["--tests", "--skip-apt"]);
    expect(skip.exitCode).toBe(1);
    expect(skip.output).toContain("FAILED: apt: missing python3-numpy");
    expect(skip.output).toContain(
      "FAILED: python: /usr/bin/python3 cannot import numpy, and pip may not install into this externally-managed Python: sudo apt-get install python3-numpy",
    );
    expect(changingCalls(skip.calls)).toEqual(["npm ci --no-audit --no-fund", ...LINT_CALLS]);
  });

  it("another python3 without numpy: pip installs sidecar/requirements-test.txt (not apt's python3-numpy)", async () => {
    const s = sandbox({ python3: "no-numpy" });
    const r = await s.run(["--tests"]);
    expect(r.exitCode, r.output).toBe(0);
    expect(changingCalls(r.calls)).toEqual([
      "npm ci --no-audit --no-fund",
      "python3 -m pip install -q --disable-pip-version-check -r sidecar/requirements-test.txt",
      ...LINT_CALLS,
    ]);
    const offline = await s.run(["--tests"], { FAKE_PIP3_RC: "1" });
    expect(offline.exitCode).toBe(1);
    expect(offline.output).toContain("FAILED: python: pip could not install sidecar/requirements-test.txt");
  });
});

describe("setup --tests: the linters npm run lint runs", () => {
  it("shellcheck from apt, ruff from scripts/lint-requirements.txt into .lint-venv: planned, installed, then left alone", async () => {
    const s = sandbox({ installed: ALL_APT.filter((p) => p !== "shellcheck") });
    const plan = await s.run(["--tests", "--dry-run"]);
    expect(plan.exitCode, plan.output).toBe(0);
    expect(plan.output).toContain("apt-get install -y -qq --no-install-recommends shellcheck\n");
    expect(plan.output).toContain("[setup] + .lint-venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/lint-requirements.txt\n");
    expect(changingCalls(plan.calls)).toEqual([]);

    const first = await s.run(["--tests"]);
    expect(first.exitCode, first.output).toBe(0);
    expect(changingCalls(first.calls)).toEqual([
      "apt-get update -qq",
      "apt-get install -y -qq --no-install-recommends shellcheck",
      "npm ci --no-audit --no-fund",
      ...LINT_CALLS,
    ]);
    const second = await s.run(["--tests"]);
    expect(changingCalls(second.calls)).toEqual([]);
    expect(second.output).toContain("lint tools up to date (scripts/lint-requirements.txt in .lint-venv)");

    // A new pin installs again.
    execFileSync("bash", ["-c", `echo 'ruff==0.0.1' >> ${join(s.project, "scripts", "lint-requirements.txt")}`]);
    expect(changingCalls((await s.run(["--tests"])).calls)).toEqual([LINT_CALLS[1]]);
  });

  it("no network to the Python index: the lint tools' branch fails alone, with the reason", async () => {
    const s = sandbox();
    const r = await s.run(["--tests"], { FAKE_PIP_FAIL: "1" });
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain(
      "FAILED: lint tools: pip could not install scripts/lint-requirements.txt into .lint-venv (no network to the Python package index?",
    );
    expect(r.calls).toContain("npm ci --no-audit --no-fund");
    expect(r.output).toContain("finished with 1 problem(s):");
  });
});

describe("setup's table of CUDA libraries per ctranslate2 agrees with the preflight's", () => {
  it("for every release range, and refuses what the preflight refuses", () => {
    const versions = ["3.24.0", "4.0.0", "4.3.1", "4.4.0", "4.5.0", "4.6.0", "4.6.2", "4.6.3", "4.6.10", "4.7.0", "4.10.1", "5.0.0", "x"];
    const out = execFileSync(
      "bash",
      ["-c", `source scripts/setup.sh; for v in ${versions.join(" ")}; do echo "$v=$(ct2_cuda_pips "$v" || echo REFUSED)"; done`],
      { cwd: REPO, encoding: "utf8" },
    );
    const fromSetup = Object.fromEntries(
      out
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    for (const v of versions) {
      let want: string;
      try {
        const req = requirementsFor(v);
        want = [req.cublas.pipPackage, ...(req.cudnn ? [req.cudnn.pipPackage] : [])].join(" ");
      } catch {
        want = "REFUSED";
      }
      expect(fromSetup[v], v).toBe(want);
    }
  });

  it("the model it prefetches by default is the worker's default WHISPER_MODEL", () => {
    const text = readFileSync(join(REPO, "scripts", "setup.sh"), "utf8");
    expect(/setting WHISPER_MODEL (\S+)\)/.exec(text)?.[1]).toBe(asrSettings.WHISPER_MODEL.parse(undefined));
  });
});
