// The settings diagnose reads: the worker's config (which includes diagnose's own settings).
import { loadConfig } from "../handler/config/load.ts";
import type { Config } from "../handler/config/schema.ts";

export type DiagnoseConfig = Config;

/** loadConfig: the environment wins over `envFile`; one ConfigError lists every bad variable. */
export function loadDiagnoseConfig(env: Record<string, string | undefined>, envFile: string | null): DiagnoseConfig {
  return loadConfig(env, envFile);
}
