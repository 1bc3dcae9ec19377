// The Dockerfile: the linter catches problems (the CLI run is lint-dockerfile.integration.test.ts), the CUDA base follows
// the ctranslate2 pin, the cpu and gpu targets are one recipe on two bases, and the image
// follows the rules this project needs (pinned bases, non-root, healthcheck, lean apt layers).
import { describe, expect, it } from "vitest";
import { lintDockerfile } from "../../scripts/lint-dockerfile.ts";
import { instructionsOf, parseDockerfile, read, type Stage } from "./files.ts";

const text = read("Dockerfile");
const dockerfile = parseDockerfile(text);
const stage = (name: string) => dockerfile.stages.find((s) => s.name === name)!;

/**
 * What the pinned ctranslate2 needs from the image (faster-whisper notes; ctranslate2's
 * release notes): CUDA runtime series, cuDNN major (null: none), minimum driver.
 */
function cudaNeeds(ct2: string): { cuda: string; cudnn: number | null; driver: number } {
  const [maj, min, patch] = ct2.split(".").map(Number) as [number, number, number];
  if (maj !== 4) throw new Error(`ctranslate2 ${ct2}: only 4.x is mapped (3.x needs CUDA 11 + cuDNN 8, 5.x is unknown)`);
  if (min > 6 || (min === 6 && patch >= 3)) return { cuda: "12.8", cudnn: null, driver: 570 };
  if (min >= 5) return { cuda: "12", cudnn: 9, driver: 525 };
  return { cuda: "12", cudnn: 8, driver: 525 };
}

describe("Dockerfile lint (dockerfile-utils, every warning an error)", () => {
  it("a second CMD in a stage fails (only the last one would take effect)", () => {
    const doubled = text.replace(
      'CMD ["node", "--import", "tsx", "handler/main.ts"]',
      'CMD ["node", "x.js"]\nCMD ["node", "--import", "tsx", "handler/main.ts"]',
    );
    expect(lintDockerfile(doubled).map((p) => p.message)).toContainEqual(expect.stringMatching(/only be one CMD/));
  });
});

describe("CUDA base image follows the ctranslate2 pin", () => {
  const pin = /^ctranslate2==(\S+)$/m.exec(read("sidecar/requirements.txt"))?.[1];

  it("the gpu target's base matches what ctranslate2 needs (CUDA series, cuDNN or none)", () => {
    expect(pin).toBeDefined();
    const needs = cudaNeeds(pin!);
    const base = stage("gpu").base;
    const m = /^nvidia\/cuda:(\d+\.\d+)\.\d+-(runtime|cudnn-runtime)-ubuntu(\d+\.\d+)$/.exec(base);
    expect(m, base).not.toBeNull();
    expect(m![1]!.startsWith(needs.cuda)).toBe(true);
    expect(m![2]).toBe(needs.cudnn === null ? "runtime" : "cudnn-runtime");
    // The rule is written next to the FROM line for the next person who bumps the pin.
    expect(text).toMatch(/ctranslate2 >= 4\.6\.3 Linux wheels are built WITHOUT cuDNN/);
    expect(text).toContain(`driver >= ${needs.driver}`);
  });

  it("the mapping itself: 4.6.3 needs no cuDNN, 4.5-4.6.2 cuDNN 9, 4.0-4.4 cuDNN 8", () => {
    expect(cudaNeeds("4.6.3")).toEqual({ cuda: "12.8", cudnn: null, driver: 570 });
    expect(cudaNeeds("4.7.0").cudnn).toBeNull();
    expect(cudaNeeds("4.6.2").cudnn).toBe(9);
    expect(cudaNeeds("4.5.0").cudnn).toBe(9);
    expect(cudaNeeds("4.4.0").cudnn).toBe(8);
  });

  it("the venv is built on the same Ubuntu release as both runtimes (its python3 symlink and ABI)", () => {
    const release = (s: Stage) => /ubuntu:?(\d+\.\d+)$/.exec(s.base.replace("-ubuntu", "ubuntu:"))?.[1];
    expect(release(stage("sidecar-venv"))).toBe("24.04");
    expect(release(stage("cpu"))).toBe("24.04");
    expect(release(stage("gpu"))).toBe("24.04");
  });

  it("the sidecar requirements never pull torch (it makes importing faster_whisper seconds slower)", () => {
    expect(read("sidecar/requirements.txt")).not.toMatch(/^torch/m);
    expect(
      instructionsOf(stage("sidecar-venv"), "RUN")
        .map((r) => r.args)
        .join("\n"),
    ).toContain("find_spec('torch')");
  });
});

describe("cpu and gpu targets", () => {
  const body = (s: Stage) => s.instructions.map((i) => `${i.keyword} ${i.args}`).filter((l) => !l.startsWith("ENV "));
  const envWithout = (s: Stage, k: string) => instructionsOf(s, "ENV").map((i) => i.args.replace(new RegExp(`\\s*${k}=\\S+`), ""));

  it("are the same recipe: only the base image and DEVICE differ", () => {
    expect(body(stage("cpu"))).toEqual(body(stage("gpu")));
    expect(envWithout(stage("cpu"), "DEVICE")).toEqual(envWithout(stage("gpu"), "DEVICE"));
    expect(stage("cpu").base).toBe("ubuntu:24.04");
  });

  it.each(["cpu", "gpu"])("%s: runs as a non-root user, with a healthcheck, and ships no tests", (name) => {
    const s = stage(name);
    const user = instructionsOf(s, "USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user);
    const lastWrite = Math.max(...s.instructions.map((i, n) => (i.keyword === "COPY" || i.keyword === "RUN" ? n : -1)));
    expect(s.instructions.findIndex((i) => i.keyword === "USER")).toBeGreaterThan(lastWrite);
    expect(instructionsOf(s, "HEALTHCHECK")).toHaveLength(1);
    expect(instructionsOf(s, "HEALTHCHECK")[0]!.args).toMatch(/--start-period=\d+s/); // the model load must not count as unhealthy
    expect(instructionsOf(s, "COPY").filter((c) => /\btest\b/.test(c.args))).toEqual([]);
    // The model is baked, root-owned (read-only for the worker), from the model stage.
    expect(instructionsOf(s, "COPY").map((c) => c.args)).toContain("--from=model /models /models");
  });
});

describe("image hygiene", () => {
  it("every base image has an explicit version tag", () => {
    for (const s of dockerfile.stages) {
      if (dockerfile.stages.some((o) => o.name === s.base)) continue; // FROM an earlier stage
      expect(s.base, s.name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      expect(s.base).not.toMatch(/:latest$/);
    }
  });

  it("apt-get: no prompts, no recommends, lists removed in the same layer", () => {
    const runs = dockerfile.stages.flatMap((s) => instructionsOf(s, "RUN")).filter((r) => r.args.includes("apt-get"));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const r of runs) {
      expect(r.args, `line ${r.line}`).toMatch(/apt-get update && apt-get install -y --no-install-recommends /);
      expect(r.args, `line ${r.line}`).toContain("rm -rf /var/lib/apt/lists/*");
    }
    for (const s of dockerfile.stages.filter((st) => instructionsOf(st, "RUN").some((r) => r.args.includes("apt-get")))) {
      expect(
        instructionsOf(s, "ARG").map((a) => a.args),
        s.name,
      ).toContain("DEBIAN_FRONTEND=noninteractive");
    }
  });

  it("npm installs exactly the lockfile's production dependencies (tsx among them: it runs the code)", () => {
    const deps = instructionsOf(stage("deps"), "RUN")
      .map((r) => r.args)
      .join("\n");
    expect(deps).toContain("npm ci --omit=dev");
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain("tsx");
  });
});
