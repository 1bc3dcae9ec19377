// Readers for the deployment files, shared by the test/deploy suites: the Dockerfile (stages,
// ENV/ARG, exec-form commands), docker-compose.yml (with compose's ${VAR:-default} interpolation),
// runpod.toml, the RunPod Hub files, package.json scripts and .dockerignore.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { parse as parseToml } from "smol-toml";

export const read = (path: string) => readFileSync(path, "utf8");

// ---------------------------------------------------------------- Dockerfile

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Stages in file order; instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i]!;
    if (/^\s*(#|$)/.test(logical)) continue;
    while (logical.trimEnd().endsWith("\\") && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue; // comments inside a continued instruction are dropped by the builder
      logical = `${logical.trimEnd().slice(0, -1).trimEnd()} ${next.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(logical);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot parse "${logical}"`);
    const ins: Instruction = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 };
    if (ins.keyword === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!f) throw new Error(`Dockerfile line ${ins.line}: FROM without a stage name`);
      stages.push({ base: f[1]!, name: f[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** Shell-like words of an ENV/ARG line: `A=1 B="two words"` -> ["A=1", "B=two words"]. */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g;
  for (const m of s.matchAll(re)) out.push(m[0].replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g, (_a, d?: string, q?: string) => d ?? q ?? ""));
  return out;
}

/** `ENV K=V ...` / `ARG K[=V]` as [name, value|undefined] pairs. */
export function assignments(ins: Instruction): Array<[string, string | undefined]> {
  return words(ins.args).map((w) => {
    const eq = w.indexOf("=");
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** The JSON array of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK ... CMD [...]). */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`not an exec-form array: ${args}`);
  return parsed;
}

export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === "ENV")) {
    for (const [k, v] of assignments(ins)) env[k] = v ?? "";
  }
  return env;
}

export const instructionsOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

// ---------------------------------------------------------------- docker-compose.yml

export interface ComposeService {
  build?: { context: string; target?: string; args?: Record<string, string> };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
  network_mode?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

/** Compose's interpolation: `$$` is a literal `$`, `${VAR}` / `${VAR:-default}` come from `vars`. */
export function interpolate(value: string, vars: Record<string, string | undefined>, names?: Set<string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (all, name?: string, def?: string) => {
    if (all === "$$") return "$";
    names?.add(name!);
    const v = vars[name!];
    return v === undefined || v === "" ? (def ?? "") : v;
  });
}

function interpolateDeep(node: unknown, vars: Record<string, string | undefined>, names: Set<string>): unknown {
  if (typeof node === "string") return interpolate(node, vars, names);
  if (Array.isArray(node)) return node.map((n) => interpolateDeep(n, vars, names));
  if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateDeep(v, vars, names)]));
  return node;
}

/** The compose file with anchors merged and `${...}` resolved against `vars` (the host environment). */
export function loadCompose(text: string, vars: Record<string, string | undefined> = {}) {
  const raw = parseYaml(text, { merge: true }) as { services: Record<string, ComposeService> };
  const hostVariables = new Set<string>();
  const resolved = interpolateDeep(raw, vars, hostVariables) as { services: Record<string, ComposeService> };
  return { services: resolved.services, hostVariables };
}

// ---------------------------------------------------------------- RunPod files

export interface RunpodToml {
  name: string;
  project: {
    uuid: string;
    base_image: string;
    gpu_types: string[];
    gpu_count: number;
    volume_mount_path: string;
    container_disk_size_gb: number;
    env_vars: Record<string, string>;
  };
  endpoint: Record<string, unknown>;
  runtime: { python_version: string; handler_path: string; requirements_path: string };
}

export const loadRunpodToml = () => parseToml(read("runpod.toml")) as unknown as RunpodToml;

export interface HubEnvEntry {
  key: string;
  value?: string;
  input?: {
    name: string;
    type: "string" | "number" | "boolean" | "huggingface";
    description: string;
    default?: string | number | boolean;
    options?: Array<{ label: string; value: string }>;
    min?: number;
    max?: number;
    advanced?: boolean;
  };
}

export interface HubJson {
  title: string;
  description: string;
  type: string;
  category: string;
  config: {
    runsOn: string;
    containerDiskInGb: number;
    gpuCount: number;
    gpuIds: string;
    allowedCudaVersions: string[];
    presets?: Array<{ name: string; defaults: Record<string, string | number | boolean> }>;
    env: HubEnvEntry[];
  };
}

export interface TestsJson {
  tests: Array<{ name: string; input: Record<string, unknown>; timeout?: number }>;
  config: { gpuTypeId: string; gpuCount: number; env?: Array<{ key: string; value: string }>; allowedCudaVersions?: string[] };
}

export const loadHub = () => JSON.parse(read(".runpod/hub.json")) as HubJson;
export const loadHubTests = () => JSON.parse(read(".runpod/tests.json")) as TestsJson;

// ---------------------------------------------------------------- package.json scripts

export const packageJson = () => JSON.parse(read("package.json")) as { version: string; scripts: Record<string, string> };

/**
 * What an npm script runs, as [program file, ...args]: `tsx FILE ARGS` (the scripts) and
 * `node --import tsx FILE ARGS` (the image's exec form) name the same program.
 */
export function program(argv: string[]): string[] {
  if (argv[0] === "tsx") return argv.slice(1);
  if (argv[0] === "node" && argv[1] === "--import" && argv[2] === "tsx") return argv.slice(3);
  throw new Error(`not a TypeScript program launch: ${argv.join(" ")}`);
}

// ---------------------------------------------------------------- .dockerignore

/** Docker's .dockerignore rules: in order, last match wins, `!` re-includes, a match on a parent folder counts. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      const re = new RegExp(
        `^${pattern
          .split(/(\*\*\/?|\*|\?)/)
          .map((part) =>
            part === "**/" || part === "**" ? "(?:.*/)?" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
          )
          .join("")}$`,
      );
      return { negate, re };
    });
  return (path: string) => {
    const parts = path.split("/");
    const prefixes = parts.map((_p, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return !excluded;
  };
}
