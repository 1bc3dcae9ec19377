// Writes the README's configuration table from the config schema (`npm run config:table`),
// or, with --check, exits 1 when the README is out of date (a test runs that).
import { readFileSync, writeFileSync } from "node:fs";
import { settingGroups } from "../handler/config/schema.ts";
import { fieldMeta } from "../handler/config/fields.ts";
import { z } from "zod";

const START = "<!-- config-table:start -->";
const END = "<!-- config-table:end -->";

function defaultOf(schema: z.ZodType): string {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return "";
  const v: unknown = parsed.data;
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

export function renderConfigTable(): string {
  const rows = ["| Variable | Default | Description | Example |", "| --- | --- | --- | --- |"];
  for (const [group, fields] of Object.entries(settingGroups)) {
    rows.push(`| **${group}** | | | |`);
    for (const [name, schema] of Object.entries(fields) as Array<[string, z.ZodType]>) {
      const meta = fieldMeta(schema);
      const def = defaultOf(schema);
      const doc = (meta?.doc ?? "").replaceAll("|", "\\|") + (meta?.secret ? " Secret: never logged." : "");
      rows.push(`| \`${name}\` | ${def === "" ? "—" : `\`${def}\``} | ${doc} | \`${meta?.example ?? ""}\` |`);
    }
  }
  return rows.join("\n");
}

export function updateReadme(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} / ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${renderConfigTable()}\n${readme.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync("README.md", "utf8");
  const next = updateReadme(readme);
  if (process.argv.includes("--check")) {
    if (next !== readme) {
      process.stderr.write("README.md configuration table is out of date: run `npm run config:table`.\n");
      process.exit(1);
    }
  } else {
    writeFileSync("README.md", next);
  }
}
