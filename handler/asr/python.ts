import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file lives in handler/asr/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SIDECAR_SCRIPT = join(REPO_ROOT, "sidecar", "main.py");

/** SIDECAR_PYTHON, else the sidecar's own venv, else python3 from PATH. */
export function resolveSidecarPython(configured: string | undefined, root = REPO_ROOT): string {
  if (configured) return configured;
  const venv = join(root, "sidecar", ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}
