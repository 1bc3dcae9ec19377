// The commands the deployment files run must be the package's own scripts and programs: the
// Dockerfile's CMD is `npm start`'s program, its HEALTHCHECK is `npm run diagnose -- --quick`,
// compose's `command:`s are package scripts, runpod.toml's handler is the start program, and
// every file those programs load is in the image (the .dockerignore lets it in) while test/
// never is.
import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { dockerignore, execForm, loadCompose, loadRunpodToml, instructionsOf, packageJson, parseDockerfile, program, read } from "./files.ts";

const scripts = packageJson().scripts;
const dockerfile = parseDockerfile(read("Dockerfile"));
const finals = dockerfile.stages.filter((s) => s.name === "gpu" || s.name === "cpu");
const compose = loadCompose(read("docker-compose.yml"), {}).services;
const inImage = dockerignore(read(".dockerignore"));
const repoFiles = execaSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"])
  .stdout.split("\n")
  .filter((f) => f && existsSync(f));

/** The program behind an npm script, e.g. "start" -> ["handler/main.ts"]. */
function scriptProgram(name: string): string[] {
  const line = scripts[name];
  if (line === undefined) throw new Error(`package.json has no "${name}" script`);
  return program(line.split(/\s+/));
}

/** Every repository file a TypeScript entry loads: relative imports and `new URL("...", import.meta.url)` assets. */
function loadedFiles(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = read(entry);
  const refs = [
    ...[...text.matchAll(/(?:^|\s)(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/new URL\(\s*[`"](\.{1,2}\/[^`"$]+)[`"],\s*import\.meta\.url\)/g)].map((m) => m[1]!),
  ];
  for (const ref of refs) {
    const target = normalize(join(dirname(entry), ref));
    if (target.endsWith(".ts")) loadedFiles(target, seen);
    else if (target.endsWith("/")) for (const f of repoFiles.filter((r) => r.startsWith(target))) seen.add(f);
    else seen.add(target);
  }
  return seen;
}

describe("Dockerfile entry commands", () => {
  it.each(["gpu", "cpu"])("%s: CMD runs `npm start`'s program under tini, ENTRYPOINT is tini", (name) => {
    const stage = finals.find((s) => s.name === name)!;
    const cmd = execForm(instructionsOf(stage, "CMD").at(-1)!.args);
    expect(program(cmd)).toEqual(scriptProgram("start"));
    expect(cmd[0]).toBe("node"); // no npm wrapper: signals reach the worker directly
    expect(execForm(instructionsOf(stage, "ENTRYPOINT").at(-1)!.args)).toEqual(["/usr/bin/tini", "--"]);
    expect(instructionsOf(stage, "RUN").some((r) => /apt-get install[^&]*\btini\b/.test(r.args))).toBe(true);
  });

  it.each(["gpu", "cpu"])("%s: HEALTHCHECK is `npm run diagnose -- --quick`'s program", (name) => {
    const hc = instructionsOf(
      finals.find((s) => s.name === name)!,
      "HEALTHCHECK",
    ).at(-1)!;
    expect(program(execForm(hc.args))).toEqual([...scriptProgram("diagnose"), "--quick"]);
  });

  it("runpod.toml's handler is the start program and its requirements the ones the image installs", () => {
    const toml = loadRunpodToml();
    expect([toml.runtime.handler_path]).toEqual(scriptProgram("start"));
    expect(existsSync(toml.runtime.requirements_path)).toBe(true);
    const venv = dockerfile.stages.find((s) => s.name === "sidecar-venv")!;
    expect(instructionsOf(venv, "COPY").map((c) => c.args.split(/\s+/)[0])).toContain(toml.runtime.requirements_path);
  });
});

describe("package scripts", () => {
  it("`npm run probe` is kept as an alias of `npm run preflight` (its name before the rename) and runs the same program", () => {
    expect(scriptProgram("preflight")).toEqual(["scripts/preflight.ts"]);
    expect(scriptProgram("probe")).toEqual(scriptProgram("preflight"));
  });
});

describe("docker-compose.yml commands", () => {
  const commands = Object.entries(compose).flatMap(([svc, s]) => [
    ...(s.command ? [{ svc, what: "command", argv: s.command }] : []),
    ...(s.healthcheck?.test && s.healthcheck.test[0] === "CMD" ? [{ svc, what: "healthcheck", argv: s.healthcheck.test.slice(1) }] : []),
  ]);
  const ours = commands.filter((c) => compose[c.svc]!.image === "voice-worker:cpu");
  /** The package script whose program a compose command runs. */
  const scriptOf = (argv: string[]) =>
    Object.keys(scripts).find((name) => {
      try {
        return scriptProgram(name)[0] === program(argv)[0];
      } catch {
        return false; // a script that is not a TypeScript program (setup, test...)
      }
    });

  it("every command in this project's image runs a package script's program, directly with node (no npm in between)", () => {
    expect(ours.length).toBeGreaterThanOrEqual(5);
    for (const c of ours) {
      const label = `${c.svc} ${c.what}: ${c.argv.join(" ")}`;
      expect(c.argv.slice(0, 3), label).toEqual(["node", "--import", "tsx"]);
      expect(scriptOf(c.argv), label).toBeDefined();
      const [file] = program(c.argv);
      expect(existsSync(file!), label).toBe(true);
      expect(inImage(file!), `${label}: ${file} must be in the image`).toBe(true);
    }
  });

  it("the harness services run the scripts the test suite runs: rest-server, runpod:dev, compose:push", () => {
    expect(scriptOf(compose["upstash-rest"]!.command!)).toBe("rest-server");
    expect(scriptOf(compose["upstash-rest"]!.healthcheck!.test!.slice(1))).toBe("rest-server");
    expect(scriptOf(compose["runpod-dev"]!.command!)).toBe("runpod:dev");
    expect(scriptOf(compose.push!.command!)).toBe("compose:push");
    expect(scriptOf(compose["push-runpod"]!.command!)).toBe("compose:push");
    // The workers run the image's CMD (npm start's program): no command of their own.
    expect(compose.worker!.command).toBeUndefined();
    expect(compose["worker-runpod"]!.command).toBeUndefined();
  });

  it("the pushers send a voice message that is in the image", () => {
    for (const svc of ["push", "push-runpod"]) {
      const file = program(compose[svc]!.command!)[1]!;
      expect(file).toBe("sidecar/smoke/speech.wav");
      expect(existsSync(file)).toBe(true);
      expect(inImage(file)).toBe(true);
    }
  });
});

describe("the image's build context (.dockerignore)", () => {
  it("never contains test/ (the faster-whisper test double returns fake transcripts)", () => {
    expect(repoFiles.some((f) => f.startsWith("test/doubles/"))).toBe(true);
    expect(repoFiles.filter((f) => f.startsWith("test/") && inImage(f))).toEqual([]);
    expect(repoFiles.filter((f) => /(^|\/)\.venv\/|__pycache__|^node_modules\/|^\.git\//.test(f) && inImage(f))).toEqual([]);
  });

  it("contains every file the image's programs load", () => {
    const entries = [
      ...scriptProgram("start"),
      ...scriptProgram("diagnose"),
      ...scriptProgram("queue"),
      ...scriptProgram("preflight"),
      "scripts/rest-server.ts",
      "harness/runpod-dev.ts",
      "harness/compose-push.ts",
    ];
    const needed = new Set<string>(["package.json", "package-lock.json", "sidecar/main.py", "sidecar/requirements.txt"]);
    for (const e of entries) for (const f of loadedFiles(e)) needed.add(f);
    for (const f of repoFiles.filter((r) => r.startsWith("sidecar/asr_sidecar/") || r.startsWith("sidecar/preflight/"))) needed.add(f);
    expect(needed.size).toBeGreaterThan(40);
    expect([...needed].filter((f) => !existsSync(f))).toEqual([]);
    expect([...needed].filter((f) => !inImage(f))).toEqual([]);
  });

  it("every TypeScript file in the image loads only files that are in the image (a tool that needs test/ stays out)", () => {
    const shipped = repoFiles.filter((f) => f.endsWith(".ts") && inImage(f));
    expect(shipped).toContain("handler/main.ts");
    expect(shipped.filter((f) => f.startsWith("scripts/bench") || f.startsWith("scripts/chaos"))).toEqual([]);
    const missing = shipped.flatMap((f) => [...loadedFiles(f)].filter((g) => !inImage(g)).map((g) => `${f} -> ${g}`));
    expect(missing).toEqual([]);
  });

  it("the image's programs import only production dependencies (the image installs with npm ci --omit=dev)", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const entries = [
      ...scriptProgram("start"),
      ...scriptProgram("diagnose"),
      ...scriptProgram("queue"),
      "scripts/rest-server.ts",
      "harness/runpod-dev.ts",
      "harness/compose-push.ts",
    ];
    const bare = new Set<string>();
    for (const e of entries) {
      for (const f of [...loadedFiles(e)].filter((x) => x.endsWith(".ts"))) {
        for (const m of read(f).matchAll(/(?:^|\s)(?:import|export)\s(?!type\s)[^;]*?from\s+"([^".][^"]*)"|import\(\s*"([^".][^"]*)"\s*\)/gm)) {
          const spec = m[1] ?? m[2]!;
          if (spec.startsWith("node:")) continue;
          bare.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
        }
      }
    }
    expect(bare.size).toBeGreaterThanOrEqual(4);
    expect([...bare].filter((name) => !(name in pkg.dependencies))).toEqual([]);
  });

  it("the matcher follows Docker's rules (last match wins, parents count, ! re-includes)", () => {
    const m = dockerignore("*\n!src/\nsrc/secret\n**/*.pyc\n");
    expect(m("src/a/b.ts")).toBe(true);
    expect(m("src/secret/key")).toBe(false);
    expect(m("src/x/y.pyc")).toBe(false);
    expect(m("other/file")).toBe(false);
    expect(m("README.md")).toBe(false);
  });
});
