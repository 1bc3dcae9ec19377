// From settings to a running engine: the settings the sidecar (on the faster-whisper test double) receives.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { createSpeechEngine, type SidecarSpeechEngine } from "../../handler/asr/index.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { DOUBLES, PYTHON, tone } from "./helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("speech settings", () => {
  it("createSpeechEngine hands the configured model, cache, threads and limits to the sidecar", async () => {
    const dir = mkdtempSync(join(tmpdir(), "asr-cfg-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = loadConfig(
      { SIDECAR_PYTHON: PYTHON, WHISPER_MODEL: "small", MODEL_DIR: join(dir, "models"), CPU_THREADS: "3", MAX_CACHED_MODELS: "2", MODEL_DOWNLOAD: "allow" },
      null,
    );
    const callLog = join(dir, "calls.jsonl");
    const engine: SidecarSpeechEngine = createSpeechEngine(
      config,
      { device: "cpu", computeType: "int8", fallbackReason: null },
      {
        logger: createLogger({ level: "silent", destination: { write: () => {} } }),
        env: { PYTHONPATH: DOUBLES, FAKE_FW_CALL_LOG: callLog },
      },
    );
    cleanups.push(() => engine.stop());
    const info = await engine.start();
    expect(info).toMatchObject({ device: "cpu", compute_type: "int8", cpu_threads: 3, test_double: true, fallback_reason: null });
    const r = await engine.transcribe({ requestId: "cfg", pcm: tone(1), durationS: 1, options: {} });
    expect(r.model).toBe("small");
    const call = JSON.parse(readFileSync(callLog, "utf8").trim()) as { model: Record<string, unknown> };
    expect(call.model).toMatchObject({ model_size_or_path: "small", cpu_threads: 3, download_root: join(dir, "models"), device: "cpu", compute_type: "int8" });
  });
});
