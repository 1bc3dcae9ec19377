// `npm run lint:docker` as CI runs it: the Dockerfile passes, and a broken copy fails with
// file:line:col and exit 1 (dockerfile-utils, every warning an error).
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lintDockerfile } from "../../scripts/lint-dockerfile.ts";
import { read } from "./files.ts";

const text = read("Dockerfile");

const lintFile = async (content: string) => {
  const dir = mkdtempSync(join(tmpdir(), "vw-dockerfile-"));
  writeFileSync(join(dir, "Dockerfile"), content);
  return execa("node", ["--import", "tsx", "scripts/lint-dockerfile.ts", join(dir, "Dockerfile")], { reject: false });
};

describe("Dockerfile lint through the CLI", () => {
  it("the Dockerfile passes, through the CLI CI runs", async () => {
    const r = await lintFile(text);
    expect(r.stdout).toContain("no problems");
    expect(r.exitCode).toBe(0);
  });

  it("the linter catches what the builder would reject, and the warnings this project treats as errors", async () => {
    const broken = text
      .replace("--interval=60s", "--interval=60") // no unit: the builder rejects it
      .replace("COPY --from=deps", "COPY --form=deps") // unknown flag
      .replace("WORKDIR /app", "WORKDIR app"); // relative WORKDIR (a warning raised to an error)
    const problems = lintDockerfile(broken).map((p) => p.message);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/missing unit in duration/),
        expect.stringMatching(/Unknown flag: form/),
        expect.stringMatching(/WORKDIR paths should be absolute/),
      ]),
    );
    const r = await lintFile(broken);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/Dockerfile:\d+:\d+: .*missing unit in duration/);
  });
});
