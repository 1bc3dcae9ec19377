// npm run lint [-- --write]: every checker this repository uses, in one run, each reported on
// its own line; exit 0 when all are clean, 1 otherwise (a problem found, or a tool missing: the
// line says how to install it). `npm run format` is `-- --write`: prettier and ruff rewrite the
// files they own, then everything is checked.
//   prettier --check        TypeScript, JavaScript, JSON, YAML (.prettierignore leaves Markdown alone)
//   eslint                  typescript-eslint's type-aware rules (eslint.config.js)
//   ruff check, ruff format --check   the Python: sidecar, diagnostics, test doubles (ruff.toml)
//   shellcheck              every shell script, found by its .sh name or its #! line
import { existsSync, openSync, readSync, closeSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { usageError } from "./usage.ts";

const USAGE = "Usage: npm run lint [-- --write]   (npm run format is --write)";
const SETUP_HINT = "run `npm run setup -- --tests`";

export interface Check {
  name: string;
  /** The executable and its arguments; null when the tool is not installed. */
  argv: string[] | null;
  /** What to do when the tool is missing. */
  install: string;
}

/** The first of `candidates` that exists as a file, else `name` found on PATH, else null. */
export function locate(name: string, candidates: string[] = []): string | null {
  for (const c of candidates) if (existsSync(c)) return c;
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** A shell script: named *.sh or *.bash, or starting with a #! line that names sh, bash or dash. */
export function isShellScript(path: string, head: string): boolean {
  if (/\.(sh|bash)$/.test(path)) return true;
  const first = head.split("\n", 1)[0] ?? "";
  return /^#!\s*\S*\/(env\s+)?(ba|da)?sh\b/.test(first);
}

function head(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(128);
    return buf.subarray(0, readSync(fd, buf, 0, 128, 0)).toString("latin1");
  } catch {
    return ""; // a folder or an unreadable file: not a script
  } finally {
    closeSync(fd);
  }
}

async function repoFiles(): Promise<string[]> {
  const { stdout } = await execa("git", ["ls-files", "--cached", "--others", "--exclude-standard"]);
  return stdout.split("\n").filter((f) => f && existsSync(f));
}

/** What `npm run lint` runs, in order; `find` locates a tool (see `locate`). */
export function checks(write: boolean, shellScripts: string[], find: typeof locate = locate): Check[] {
  const bin = (name: string) => find(name, [join("node_modules", ".bin", name)]);
  const ruff = find("ruff", [join(".lint-venv", "bin", "ruff")]);
  const prettier = bin("prettier");
  const eslint = bin("eslint");
  const shellcheck = find("shellcheck");
  const npmHint = `${SETUP_HINT} (or npm ci): it is a devDependency`;
  const ruffHint = `${SETUP_HINT}: it installs scripts/lint-requirements.txt into .lint-venv/`;
  return [
    ...(write ? [{ name: "prettier --write", argv: prettier ? [prettier, "--write", "--log-level", "warn", "."] : null, install: npmHint }] : []),
    ...(write ? [{ name: "ruff format", argv: ruff ? [ruff, "format", "--quiet", "."] : null, install: ruffHint }] : []),
    { name: "prettier --check", argv: prettier ? [prettier, "--check", "--log-level", "warn", "."] : null, install: npmHint },
    { name: "eslint", argv: eslint ? [eslint, "."] : null, install: npmHint },
    { name: "ruff check", argv: ruff ? [ruff, "check", "--quiet", "."] : null, install: ruffHint },
    { name: "ruff format --check", argv: ruff ? [ruff, "format", "--check", "--quiet", "."] : null, install: ruffHint },
    { name: "shellcheck", argv: shellcheck ? [shellcheck, ...shellScripts] : null, install: `${SETUP_HINT}: it installs Debian's shellcheck package` },
  ];
}

async function main(): Promise<number> {
  let write: boolean;
  try {
    write = parseArgs({ options: { write: { type: "boolean", default: false } }, strict: true, allowPositionals: false }).values.write;
  } catch (err) {
    usageError(USAGE, (err as Error).message);
  }
  const shellScripts = (await repoFiles()).filter((f) => isShellScript(f, head(f)));
  const results: string[] = [];
  let failed = false;
  for (const check of checks(write, shellScripts)) {
    if (!check.argv) {
      failed = true;
      results.push(`${check.name}: NOT INSTALLED: ${check.install}`);
      continue;
    }
    const started = Date.now();
    const r = await execa(check.argv[0]!, check.argv.slice(1), { stdio: "inherit", reject: false });
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (r.exitCode === 0) {
      results.push(`${check.name}: ok (${took})`);
    } else {
      failed = true;
      results.push(
        `${check.name}: FAILED (exit ${r.exitCode ?? r.signal}; its report is above)${check.name.startsWith("prettier") || check.name.startsWith("ruff format") ? ": npm run format fixes it" : ""}`,
      );
    }
  }
  for (const line of results) process.stdout.write(`[lint] ${line}\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`lint: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
