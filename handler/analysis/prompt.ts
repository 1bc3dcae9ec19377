import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WorkerError } from "../errors.ts";

/**
 * The system instruction and prompts, read from a versioned Markdown file:
 *
 *   ---
 *   version: analysis.v1
 *   ---
 *   ## System      (the system instruction)
 *   ## Prompt      (the user turn; must contain {{transcript}}; may use {{language_hint}}, {{truncation_note}})
 *   ## Repair      (sent after an unusable reply; must contain {{errors}})
 *
 * The version is recorded in every result, so an analysis can be traced to the prompt that made it.
 */
export interface PromptTemplate {
  version: string;
  system: string;
  prompt: string;
  repair: string;
}

export const DEFAULT_PROMPT_FILE = fileURLToPath(new URL("./prompts/analysis.v1.md", import.meta.url));

const SECTIONS = ["system", "prompt", "repair"] as const;
const PLACEHOLDERS: Record<"prompt" | "repair", { required: string[]; allowed: string[] }> = {
  prompt: { required: ["transcript"], allowed: ["transcript", "language_hint", "truncation_note"] },
  repair: { required: ["errors"], allowed: ["errors"] },
};

function invalid(path: string, problem: string): WorkerError {
  return new WorkerError("llm_prompt_invalid", `Prompt file ${path}: ${problem}`, { retryable: false });
}

/** Reads and checks a prompt file; throws WorkerError `llm_prompt_invalid` (a start-up error). */
export function loadPrompt(path: string = DEFAULT_PROMPT_FILE): PromptTemplate {
  let text: string;
  try {
    text = readFileSync(path, "utf8").replace(/\r\n/g, "\n");
  } catch (err) {
    throw invalid(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const front = /^---\n([\s\S]*?)\n---\n/.exec(text);
  const version = front?.[1]
    ?.split("\n")
    .map((l) => /^version:\s*(\S.*?)\s*$/.exec(l)?.[1])
    .find(Boolean);
  if (!front || !version) throw invalid(path, "must start with a front matter block holding `version: <name>`");

  const sections: Partial<Record<(typeof SECTIONS)[number], string>> = {};
  const parts = text.slice(front[0].length).split(/^##[ \t]+(\w+)[ \t]*$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i]!.toLowerCase() as (typeof SECTIONS)[number];
    if (!SECTIONS.includes(name)) throw invalid(path, `unknown section "## ${parts[i]}" (expected System, Prompt, Repair)`);
    sections[name] = (parts[i + 1] ?? "").trim();
  }
  for (const name of SECTIONS) {
    if (!sections[name]) throw invalid(path, `section "## ${name[0]!.toUpperCase()}${name.slice(1)}" is missing or empty`);
  }
  for (const name of ["prompt", "repair"] as const) {
    const used = [...sections[name]!.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!);
    const { required, allowed } = PLACEHOLDERS[name];
    const unknown = used.filter((p) => !allowed.includes(p));
    if (unknown.length) throw invalid(path, `unknown placeholder {{${unknown[0]}}} in ${name} (allowed: ${allowed.join(", ")})`);
    const missing = required.filter((p) => !used.includes(p));
    if (missing.length) throw invalid(path, `${name} must contain {{${missing[0]}}}`);
  }
  return { version, system: sections.system!, prompt: sections.prompt!, repair: sections.repair! };
}

// One pass, with a function replacement: a transcript containing "{{errors}}" or "$&" stays literal.
function fill(template: string, values: Record<string, string>): string {
  return template
    .replace(/\{\{(\w+)\}\}/g, (_m, name: string) => values[name] ?? "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

const LANGUAGE_CODE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$/;

export function renderPrompt(t: PromptTemplate, input: { transcript: string; language?: string; truncated: boolean }): string {
  // The transcript sits between <transcript> tags; it must not be able to close them itself.
  const transcript = input.transcript.replace(/<\s*(\/?)\s*transcript\s*>/gi, "($1transcript)");
  const language = input.language && LANGUAGE_CODE.test(input.language) ? input.language : undefined;
  return fill(t.prompt, {
    transcript,
    language_hint: language ? `The speech recognizer detected the language "${language}".` : "",
    truncation_note: input.truncated ? "The transcript was cut to fit a length limit: it ends before the message does. Analyse the part given." : "",
  });
}

export function renderRepair(t: PromptTemplate, errors: string): string {
  return fill(t.repair, { errors });
}
