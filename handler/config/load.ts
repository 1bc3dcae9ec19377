import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { configSchema, settingsShape, type Config, type SettingName } from "./schema.ts";
import { fieldMeta } from "./fields.ts";

export interface ConfigProblem {
  variable: string;
  problem: string;
  example?: string;
}

export class ConfigError extends Error {
  readonly code = "invalid_config";
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.variable} ${p.problem}${p.example ? ` (example: ${p.variable}=${p.example})` : ""}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/**
 * Reads the settings from `env`, with an optional `.env` file underneath it (the real
 * environment wins). Throws one ConfigError that lists every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile: string | null = ".env"): Config {
  const fromFile = envFile && existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
  const merged: Record<string, string | undefined> = { ...fromFile, ...env };
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(settingsShape)) input[name] = merged[name];

  const parsed = configSchema.safeParse(input);
  if (parsed.success) return parsed.data;

  const problems = parsed.error.issues.map((issue): ConfigProblem => {
    const variable = String(issue.path[0] ?? "(config)");
    const meta = variable in settingsShape ? fieldMeta(settingsShape[variable as SettingName]) : undefined;
    // Never echo the rejected value: it may be a secret put in the wrong variable.
    return { variable, problem: issue.message, example: meta?.example };
  });
  throw new ConfigError(problems);
}

/** For entry points: print every problem and exit 2 (usage/config error) instead of a stack trace. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
