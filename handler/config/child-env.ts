import { settingsShape } from "./schema.ts";
import { fieldMeta } from "./fields.ts";
import { registeredSecrets } from "./secret.ts";

const SECRET_SETTINGS = new Set(
  Object.entries(settingsShape)
    .filter(([, schema]) => fieldMeta(schema)?.secret)
    .map(([name]) => name),
);

/**
 * The environment for a child process that never needs our credentials (ffmpeg parsing hostile
 * files, the Python sidecar): this process's environment without the secret settings and
 * without any variable whose value is a known secret, plus `extra`.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const secrets = registeredSecrets();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || SECRET_SETTINGS.has(k) || secrets.has(v)) continue;
    out[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out;
}
