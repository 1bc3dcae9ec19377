// From settings to a running engine: interpreter choice and the settings the sidecar receives.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../handler/config/load.ts";
import { createSpeechEngine, type SidecarSpeechEngine } from "../../handler/asr/index.ts";
import { resolveSidecarPython } from "../../handler/asr/python.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { DOUBLES, PYTHON, tone } from "./helpers.ts";

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

  it("createSpeechEngine hands the configured model, cache, threads and limits to the sidecar", async () => {
    const dir = mkdtempSync(join(tmpdir(), "asr-cfg-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadConfig(
      { SIDECAR_PYTHON: PYTHON, WHISPER_MODEL: "small", MODEL_DIR: join(dir, "models"), CPU_THREADS: "3", MAX_CACHED_MODELS: "2", MODEL_DOWNLOAD: "allow" },
      null,
    );
    const callLog = join(dir, "calls.jsonl");
    const engine: SidecarSpeechEngine = createSpeechEngine(config, { device: "cpu", computeType: "int8", fallbackReason: null }, {
      logger: createLogger({ level: "silent", destination: { write: () => {} } }),
      env: { PYTHONPATH: DOUBLES, FAKE_FW_CALL_LOG: callLog },
    });
    cleanups.push(() => engine.stop());
    const info = await engine.start();
    expect(info).toMatchObject({ device: "cpu", compute_type: "int8", cpu_threads: 3, test_double: true, fallback_reason: null });
    const r = await engine.transcribe({ requestId: "cfg", pcm: tone(1), durationS: 1, options: {} });
    expect(r.model).toBe("small");
    const call = JSON.parse(readFileSync(callLog, "utf8").trim()) as { model: Record<string, unknown> };
    expect(call.model).toMatchObject({ model_size_or_path: "small", cpu_threads: 3, download_root: join(dir, "models"), device: "cpu", compute_type: "int8" });
  });
});
