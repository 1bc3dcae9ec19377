// What may import what among the code folders. The product
// (handler/) imports only itself, and the diagnose settings its one config schema gathers;
// diagnostics/ only itself and the product; the programs (scripts/) and the development peers
// (harness/) never import the tests. Static and dynamic imports and `new URL(..., import.meta.url)`
// assets all count; files outside the code folders (sidecar/, package.json) are not policed here.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const CODE = ["handler", "diagnostics", "scripts", "harness", "test"];
const RULES: Record<string, { may: string[]; except?: string[] } | { mayNot: string[] }> = {
  handler: { may: ["handler"], except: ["diagnostics/settings.ts"] },
  diagnostics: { may: ["diagnostics", "handler"] },
  scripts: { mayNot: ["test"] },
  harness: { mayNot: ["test"] },
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? tsFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** The repository paths a TypeScript source refers to, relative to the repository root. */
export function references(file: string, text: string): string[] {
  const specs = [
    ...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gm),
    ...text.matchAll(/(?:^|[\s;])import\s+["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["'`]([^"'`]+)["'`]\s*\)/g),
    ...text.matchAll(/new URL\(\s*["'`]([^"'`$]+)[^"'`]*["'`],\s*import\.meta\.url\)/g),
  ].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith("./") || s.startsWith("../")).map((s) => normalize(join(dirname(file), s)));
}

export function violations(file: string, text: string): string[] {
  const top = file.split("/")[0]!;
  const rule = RULES[top];
  if (!rule) return [];
  return references(file, text)
    .filter((target) => {
      const where = target.split("/")[0]!;
      if (!CODE.includes(where)) return false;
      if ("may" in rule) return !rule.may.includes(where) && !rule.except?.includes(target);
      return rule.mayNot.includes(where);
    })
    .map((target) => `${file} -> ${target}`);
}

describe("imports between the top-level folders", () => {
  const files = Object.keys(RULES).flatMap(tsFiles);

  it("follow the rules", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((f) => violations(f, readFileSync(f, "utf8")))).toEqual([]);
  });

  it("the check sees real imports (the rule is not passing on nothing)", () => {
    expect(references("handler/main.ts", readFileSync("handler/main.ts", "utf8"))).toContain("handler/local-stack/stack.ts");
    expect(references("handler/queue/scripts.ts", readFileSync("handler/queue/scripts.ts", "utf8"))).toContain("handler/queue/scripts/");
    expect(references("harness/compose-push.ts", readFileSync("harness/compose-push.ts", "utf8"))).toContain("scripts/queue.ts");
  });

  it("catches each kind of forbidden reference", () => {
    expect(violations("handler/queue/x.ts", 'import { a } from "../../harness/gemini-server.ts";')).toHaveLength(1);
    expect(violations("handler/x.ts", 'export type { T } from "../test/helpers/queue.ts";')).toHaveLength(1);
    expect(violations("handler/x.ts", 'const m = await import("../scripts/queue.ts");')).toHaveLength(1);
    expect(violations("diagnostics/x.ts", 'const u = new URL("../test/doubles/", import.meta.url);')).toHaveLength(1);
    expect(violations("scripts/bench.ts", 'import { x } from "../test/fixtures/y.ts";')).toHaveLength(1);
    expect(violations("scripts/bench.ts", 'import { x } from "../harness/gemini-server.ts";')).toEqual([]);
    expect(violations("diagnostics/x.ts", 'import { x } from "../handler/errors.ts";')).toEqual([]);
    expect(violations("handler/x.ts", 'import { x } from "../diagnostics/steps/gpu.ts";')).toHaveLength(1);
  });
});
