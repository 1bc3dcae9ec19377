// ALLOWED_MODELS (issue 14, item 3): a job cannot make the worker download a repository or read
// a directory the operator did not name. Unit, engine, and both intake paths (queue, RunPod).
import { execa } from "execa";
import { readFileSync, existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { ModelPolicy, parseModelList, STANDARD_MODELS } from "../../handler/asr/models.ts";
import { WorkerError } from "../../handler/errors.ts";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { makeHarness, rejection, tone, type Harness } from "./helpers.ts";
import { doubleEnv, runTestInput, startAudioServer, type AudioServer } from "./worker.ts";

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

describe("both intake paths", () => {
  let audio: AudioServer;
  let stack: LocalStack;
  beforeAll(async () => {
    audio = await startAudioServer();
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await audio.close();
    await stack.stop();
  });

  const loadsOf = (env: Record<string, string>) =>
    existsSync(env.FAKE_FW_LOAD_LOG!) ? readFileSync(env.FAKE_FW_LOAD_LOG!, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { event: string; model: { model_size_or_path: string } }).filter((e) => e.event === "load").map((e) => e.model.model_size_or_path) : [];

  it("RunPod (--test_input): a repo id and a path are FAILED invalid_input naming ALLOWED_MODELS; a listed model runs", async () => {
    const env = doubleEnv({ ALLOWED_MODELS: "tiny,base" });
    for (const model of ["evil-org/some-model", "/etc", "large-v3"]) {
      const r = await runTestInput({ audio: audio.url(2), model }, env);
      expect(r.status, model).toBe("FAILED");
      expect(r.error).toMatchObject({ error_type: "invalid_input", retryable: false });
      expect(r.error!.error_message).toContain("ALLOWED_MODELS");
    }
    const ok = await runTestInput({ audio: audio.url(2), model: "base" }, env);
    expect(ok.status).toBe("COMPLETED");
    expect(loadsOf(env)).toEqual(["base"]);
  });

  it("queue: the same jobs go to the dead letter at once with invalid_input; the worker goes on", async () => {
    const env = { ...stack.env, ...doubleEnv({ ALLOWED_MODELS: "tiny,base", MAX_ATTEMPTS: "3", IDLE_POLL_MAX_MS: "200" }), QUEUE_PREFIX: `allowed-${process.pid}` };
    const worker = startWorkerProcess(env);
    const cli = (args: string[]) => execa("node", ["--import", "tsx", "scripts/queue.ts", ...args], { env, reject: false });
    try {
      await worker.waitFor(/consuming the queue/);
      const jobs = { evil: "evil-org/some-model", path: "/etc", big: "large-v3", good: "base" };
      for (const [id, model] of Object.entries(jobs)) {
        expect((await cli(["push", audio.url(2), "--id", id, "--options", JSON.stringify({ model })])).exitCode).toBe(0);
      }
      const state = async (id: string) => (JSON.parse((await cli(["show", id, "--json"])).stdout) as { status: { state: string; attempts: number; last_error: { code: string; message: string; retryable: boolean } | null } }).status;
      await expect.poll(async () => (await state("good")).state, { timeout: 60_000, interval: 200 }).toBe("done");
      for (const id of ["evil", "path", "big"]) {
        const s = await state(id);
        expect(s, id).toMatchObject({ state: "failed", attempts: 1, last_error: { code: "invalid_input", retryable: false } });
        expect(s.last_error!.message).toContain("ALLOWED_MODELS");
      }
      expect(loadsOf(env)).toEqual(["base"]);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
