// The settings diagnose reads: the whole worker config plus diagnose's own (parsed here until
// config/schema.ts carries diagnoseSettings; then the loaded config already has them).
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { z } from "zod";
import { fieldMeta } from "../handler/config/fields.ts";
import { ConfigError, loadConfig } from "../handler/config/load.ts";
import type { Config } from "../handler/config/schema.ts";
import { diagnoseSettings } from "./settings.ts";

export type DiagnoseSettings = z.infer<z.ZodObject<typeof diagnoseSettings>>;
export type DiagnoseConfig = Config & DiagnoseSettings;

function parseDiagnoseSettings(env: Record<string, string | undefined>): DiagnoseSettings {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(diagnoseSettings)) input[name] = env[name];
  const parsed = z.object(diagnoseSettings).safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? "(config)");
      return { variable, problem: issue.message, example: fieldMeta(diagnoseSettings[variable as keyof typeof diagnoseSettings])?.example };
    }),
  );
}

/** Like loadConfig (the environment wins over `envFile`); throws one ConfigError listing every bad variable. */
export function loadDiagnoseConfig(env: Record<string, string | undefined>, envFile: string | null): DiagnoseConfig {
  const config = loadConfig(env, envFile);
  const fromFile = envFile && existsSync(envFile) ? parseEnv(readFileSync(envFile, "utf8")) : {};
  const own = parseDiagnoseSettings({ ...fromFile, ...env });
  return { ...own, ...config };
}
