// `npm run lint`: what it runs, which files shellcheck gets, and what it says when a tool is missing.
import { describe, expect, it } from "vitest";
import { checks, isShellScript } from "../../scripts/lint.ts";

describe("npm run lint", () => {
  it("finds shell scripts by name or #! line, and nothing else", () => {
    expect(isShellScript("scripts/setup.sh", "")).toBe(true);
    expect(isShellScript(".ci/run", "#!/usr/bin/env bash\nset -e\n")).toBe(true);
    expect(isShellScript("test/diagnostics/fixtures/fake-ffmpeg", "#!/bin/sh\nexit 0\n")).toBe(true);
    expect(isShellScript("x", "#!/bin/dash\n")).toBe(true);
    expect(isShellScript("test/fixtures/gpu-host/nvidia-smi", "#!/usr/bin/env python3\n")).toBe(false);
    expect(isShellScript("handler/main.ts", "// `npm start`: picks a mode\n")).toBe(false);
    expect(isShellScript("notes.txt", "mentions #!/bin/sh on a later line\n#!/bin/sh")).toBe(false);
  });

  it("checks formatting (prettier, ruff format), ESLint, ruff and shellcheck; --write formats first", () => {
    const found = (name: string) => `/bin/${name}`;
    expect(checks(false, ["scripts/setup.sh"], found).map((c) => c.name)).toEqual([
      "prettier --check",
      "eslint",
      "ruff check",
      "ruff format --check",
      "shellcheck",
    ]);
    const write = checks(true, [], found);
    expect(write.map((c) => c.name).slice(0, 2)).toEqual(["prettier --write", "ruff format"]);
    expect(checks(false, ["scripts/setup.sh", ".ci/run"], found).find((c) => c.name === "shellcheck")!.argv).toEqual([
      "/bin/shellcheck",
      "scripts/setup.sh",
      ".ci/run",
    ]);
  });

  it("prefers the pinned ruff in .lint-venv, and says how to install every tool that is missing", () => {
    const onlyVenvRuff = (name: string, candidates: string[] = []) => candidates.find((c) => c === ".lint-venv/bin/ruff") ?? null;
    const list = checks(false, [], onlyVenvRuff);
    expect(list.find((c) => c.name === "ruff check")!.argv).toEqual([".lint-venv/bin/ruff", "check", "--quiet", "."]);
    const missing = list.filter((c) => c.argv === null);
    expect(missing.map((c) => c.name)).toEqual(["prettier --check", "eslint", "shellcheck"]);
    for (const c of missing) expect(c.install).toContain("npm run setup -- --tests");
    expect(checks(false, [], () => null).find((c) => c.name === "ruff check")!.install).toMatch(/scripts\/lint-requirements\.txt into \.lint-venv/);
  });
});
