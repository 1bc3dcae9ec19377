// ALLOWED_MODELS (issue 14, item 3): a job cannot make the worker download a repository or read
// a directory the operator did not name. The policy and the engine here; both intake paths of a
// real worker (queue, RunPod) in allowed-models.system.test.ts.
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { ModelPolicy, parseModelList, STANDARD_MODELS } from "../../handler/asr/models.ts";
import { WorkerError } from "../../handler/errors.ts";
import { makeHarness, rejection, tone, type Harness } from "./helpers.ts";

const HOSTILE = ["evil-org/some-model", "/etc", "../../models/x", "/root/.cache/huggingface", "tiny ", "Systran/faster-whisper-tiny"];

describe("ModelPolicy", () => {
  it("allows WHISPER_MODEL and faster-whisper's standard names by default, a job's default is WHISPER_MODEL", () => {
    const p = new ModelPolicy("/models/turbo", null);
    expect(p.allowed).toEqual(["/models/turbo", ...STANDARD_MODELS]);
    expect(p.resolve(undefined)).toBe("/models/turbo");
    expect(p.resolve("large-v3")).toBe("large-v3");
    expect(p.resolve("/models/turbo")).toBe("/models/turbo"); // the operator's own directory
  });

  it.each(HOSTILE)("refuses %j with invalid_input naming ALLOWED_MODELS", (model) => {
    const p = new ModelPolicy("turbo", null);
    let err: unknown;
    try {
      p.resolve(model);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: "invalid_input", retryable: false });
    expect((err as WorkerError).message).toContain("ALLOWED_MODELS");
  });

  it("ALLOWED_MODELS replaces the standard list (WHISPER_MODEL stays allowed)", () => {
    const config = loadConfig({ WHISPER_MODEL: "turbo", ALLOWED_MODELS: " tiny, org/private-model ,, /models/mine" }, null);
    const p = new ModelPolicy(config.WHISPER_MODEL, parseModelList(config.ALLOWED_MODELS));
    expect(p.allowed).toEqual(["turbo", "tiny", "org/private-model", "/models/mine"]);
    expect(() => p.resolve("large-v3")).toThrow(/ALLOWED_MODELS/);
    expect(parseModelList(undefined)).toBeNull();
    expect(parseModelList(" , ")).toBeNull();
  });
});

describe("the engine never hands a job's model outside the list to the sidecar", () => {
  const harnesses: Harness[] = [];
  afterEach(async () => Promise.all(harnesses.splice(0).map((h) => h.cleanup())));

  it.each(HOSTILE)("%j: invalid_input, nothing loaded, nothing downloaded", async (model) => {
    const h = makeHarness();
    harnesses.push(h);
    const err = await rejection(h.engine.transcribe({ requestId: "m", pcm: tone(1), durationS: 1, options: { model } }));
    expect(err).toMatchObject({ code: "invalid_input", retryable: false });
    expect(h.loads()).toEqual([]);
    expect(existsSync(h.modelDir)).toBe(false);
  });
});
