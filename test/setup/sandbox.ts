// A minimal copy of the project in a temp folder, with fake system tools first on PATH:
// apt-get/dpkg-query (a package list in a file), npm, sudo, python3 (venv and pip faked, any
// other call goes to the real interpreter), optionally nvidia-smi (the preflight's fixture). Every
// call is logged, so a test can tell what setup ran and what it changed. The lint tools' venv is
// always made by the fake python3 (LINT_BOOTSTRAP_PYTHON): no test reaches the package index.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { FIXTURES, REPO } from "../preflight/host.ts";

export const REAL_PYTHON = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();

export interface Sandbox {
  root: string;
  project: string;
  models: string;
  log: string;
  run(args: string[], env?: Record<string, string | undefined>): Promise<{ exitCode: number; output: string; calls: string[] }>;
  /** Every file and folder under the project and the model cache, with size and mtime. */
  snapshot(): Map<string, string>;
  cleanup(): void;
}

export interface SandboxOptions {
  /** ctranslate2 pin in sidecar/requirements.txt. */
  ct2Pin?: string;
  /** Packages dpkg-query reports installed; default: everything setup asks for. */
  installed?: string[];
  /** nvidia-smi scenario on PATH (test/fixtures/gpu-host), or none. */
  nvidiaSmi?: string;
  /** false: the machine's own python3, dpkg-query and PATH (apt-get, npm and sudo stay fakes). */
  fakeSystem?: boolean;
  /**
   * The python3 on PATH: "fake" (venv and pip faked, the rest run by this machine's python3,
   * which has numpy), "no-numpy" (the same over a bare venv without numpy), "debian"
   * (/usr/bin/python3 itself: externally managed).
   */
  python3?: "fake" | "no-numpy" | "debian";
}

export const ALL_APT = [
  "ffmpeg",
  "redis-server",
  "python3",
  "python3-venv",
  "util-linux",
  "espeak-ng",
  "gcc",
  "libc6-dev",
  "docker-compose",
  "shellcheck",
  "chromium",
  "python3-numpy",
];

function script(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

export function makeSandbox(opts: SandboxOptions = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "vw-setup-test-"));
  const project = join(root, "project");
  const bin = join(root, "bin");
  const models = join(root, "models");
  const log = join(root, "calls.log");
  const db = join(root, "dpkg.db");
  for (const d of [join(project, "scripts"), join(project, "sidecar"), join(project, "diagnostics", "python"), bin]) mkdirSync(d, { recursive: true });
  copyFileSync(join(REPO, "scripts", "setup.sh"), join(project, "scripts", "setup.sh"));
  copyFileSync(join(REPO, "diagnostics", "python", "prefetch_model.py"), join(project, "diagnostics", "python", "prefetch_model.py"));
  copyFileSync(join(REPO, "scripts", "lint-requirements.txt"), join(project, "scripts", "lint-requirements.txt"));
  writeFileSync(join(project, "sidecar", "requirements.txt"), `faster-whisper==1.2.1\nctranslate2==${opts.ct2Pin ?? "4.6.3"}\nnumpy>=1.21,<3\n`);
  writeFileSync(join(project, "sidecar", "requirements-test.txt"), "numpy>=1.21\n");
  writeFileSync(join(project, "package.json"), '{ "name": "sandbox", "private": true }\n');
  writeFileSync(join(project, "package-lock.json"), '{ "name": "sandbox", "lockfileVersion": 3, "packages": {} }\n');
  writeFileSync(db, `${(opts.installed ?? ALL_APT).join("\n")}\n`);

  const doubles = join(REPO, "test", "doubles");
  if (opts.fakeSystem !== false)
    script(
      join(bin, "dpkg-query"),
      `echo "dpkg-query $*" >> "$FAKE_LOG"\npkg=\${!#}\nif grep -qx "$pkg" "${db}"; then printf 'install ok installed'; exit 0; fi\necho "dpkg-query: no packages found matching $pkg" >&2; exit 1`,
    );
  script(
    join(bin, "apt-get"),
    `echo "apt-get $*" >> "$FAKE_LOG"\n[ -n "\${FAKE_APT_FAIL:-}" ] && { echo "E: Unable to locate package" >&2; exit 100; }\nif [[ " $* " == *" install "* ]]; then for a in "$@"; do case $a in -*|install) ;; *) echo "$a" >> "${db}" ;; esac; done; fi\nexit 0`,
  );
  script(join(bin, "sudo"), `echo "sudo $*" >> "$FAKE_LOG"\nexec "$@"`);
  script(
    join(bin, "npm"),
    `echo "npm $*" >> "$FAKE_LOG"\ncase "\${1:-}" in\n  ci) mkdir -p node_modules; echo "added 0 packages" ;;\n  run) echo "[fake npm] $*"; exit "\${FAKE_DIAGNOSE_RC:-0}" ;;\nesac\nexit 0`,
  );
  // The venv's python: pip is faked (a marker says it "installed"); prefetch_model.py runs for
  // real, finding the faster_whisper double once pip "installed" it (its download_model writes
  // the Hugging Face cache layout), and no faster_whisper at all before.
  const venvPython = join(root, "venv-python");
  script(
    venvPython,
    [
      `echo "venv-python $*" >> "$FAKE_LOG"`,
      `here=$(cd "$(dirname "$0")/.." && pwd)`,
      `if [ "\${1:-}" = -m ] && [ "\${2:-}" = pip ]; then`,
      `  if [ -n "\${FAKE_PIP_FAIL:-}" ]; then echo "ERROR: Could not find a version that satisfies the requirement faster-whisper==1.2.1 (from versions: none)" >&2; exit 1; fi`,
      `  touch "$here/.fake-installed"; exit 0`,
      `fi`,
      `case "\${1:-}" in *prefetch_model.py) [ -f "$here/.fake-installed" ] && export PYTHONPATH="${doubles}" ;; esac`,
      `exec "${REAL_PYTHON}" "$@"`,
    ].join("\n"),
  );
  let delegate = REAL_PYTHON;
  if (opts.python3 === "no-numpy") {
    execFileSync(REAL_PYTHON, ["-m", "venv", "--without-pip", join(root, "bare")]);
    delegate = join(root, "bare", "bin", "python");
  }
  const fakePython3 = join(root, "fake-python3");
  script(
    fakePython3,
    [
      `echo "python3 $*" >> "$FAKE_LOG"`,
      `if [ "\${1:-}" = -m ] && [ "\${2:-}" = venv ]; then`,
      `  for a in "\${@:3}"; do case $a in --*) ;; *) dir=$a ;; esac; done`,
      `  rm -rf "$dir"; mkdir -p "$dir/bin"; cp "${venvPython}" "$dir/bin/python"; printf 'home = /usr/bin\\ninclude-system-site-packages = false\\n' > "$dir/pyvenv.cfg"; exit 0`,
      `fi`,
      `if [ "\${1:-}" = -m ] && [ "\${2:-}" = pip ]; then exit "\${FAKE_PIP3_RC:-0}"; fi`,
      `exec "${delegate}" "$@"`,
    ].join("\n"),
  );
  if (opts.fakeSystem !== false && opts.python3 !== "debian") copyFileSync(fakePython3, join(bin, "python3"));
  if (opts.nvidiaSmi) script(join(bin, "nvidia-smi"), `FAKE_NVSMI_SCENARIO=${opts.nvidiaSmi} exec "${REAL_PYTHON}" "${join(FIXTURES, "nvidia-smi")}" "$@"`);

  // The machine's tools (bash, coreutils, sed, grep) but no nvidia-smi, python3 or npm of its own.
  const systemPath = opts.fakeSystem === false ? (process.env.PATH ?? "/usr/bin:/bin") : "/usr/bin:/bin";
  return {
    root,
    project,
    models,
    log,
    async run(args, env = {}) {
      rmSync(log, { force: true });
      const r = await execa("bash", [join(project, "scripts", "setup.sh"), ...args], {
        env: { PATH: `${bin}:${systemPath}`, HOME: root, LANG: "C.UTF-8", FAKE_LOG: log, MODEL_DIR: models, LINT_BOOTSTRAP_PYTHON: fakePython3, ...env },
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 120_000,
      });
      const calls = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
      return { exitCode: r.exitCode ?? -1, output: r.all ?? "", calls };
    },
    snapshot() {
      const out = new Map<string, string>();
      const walk = (dir: string) => {
        if (!existsSync(dir)) return;
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          const st = lstatSync(path);
          out.set(path, `${st.isDirectory() ? "d" : st.size}@${st.mtimeMs}`);
          if (st.isDirectory()) walk(path);
        }
      };
      walk(project);
      walk(models);
      return out;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Calls that change something: installs, venv creation, npm ci, downloads. */
export function changingCalls(calls: string[]): string[] {
  return calls.filter((c) => /^apt-get |^sudo |^npm ci|-m venv|-m pip install/.test(c));
}
