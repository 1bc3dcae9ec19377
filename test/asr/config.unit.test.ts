// Speech settings: interpreter choice and refused values (the running engine: config.integration.test.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../handler/config/load.ts";
import { resolveSidecarPython } from "../../handler/asr/python.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("resolveSidecarPython", () => {
  it("prefers SIDECAR_PYTHON, then sidecar/.venv/bin/python, then python3", () => {
    const root = mkdtempSync(join(tmpdir(), "asr-root-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    expect(resolveSidecarPython("/opt/py/bin/python", root)).toBe("/opt/py/bin/python");
    expect(resolveSidecarPython(undefined, root)).toBe("python3");
    mkdirSync(join(root, "sidecar", ".venv", "bin"), { recursive: true });
    writeFileSync(join(root, "sidecar", ".venv", "bin", "python"), "");
    expect(resolveSidecarPython(undefined, root)).toBe(join(root, "sidecar", ".venv", "bin", "python"));
  });
});

describe("speech settings", () => {
  it("rejects bad values with the variable's name", () => {
    expect(() => loadConfig({ MODEL_DOWNLOAD: "sometimes" }, null)).toThrow(ConfigError);
    expect(() => loadConfig({ TRANSCRIBE_TIMEOUT_BASE_MS: "10" }, null)).toThrow(/TRANSCRIBE_TIMEOUT_BASE_MS/);
  });
});
