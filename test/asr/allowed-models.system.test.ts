// ALLOWED_MODELS through both intake paths of a real worker process (on the faster-whisper test
// double): RunPod's --test_input and the queue.
import { execa } from "execa";
import { readFileSync, existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { doubleEnv, runTestInput, startAudioServer, type AudioServer } from "./worker.ts";

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
    existsSync(env.FAKE_FW_LOAD_LOG!)
      ? readFileSync(env.FAKE_FW_LOAD_LOG!, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; model: { model_size_or_path: string } })
          .filter((e) => e.event === "load")
          .map((e) => e.model.model_size_or_path)
      : [];

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
    const env = {
      ...stack.env,
      ...doubleEnv({ ALLOWED_MODELS: "tiny,base", MAX_ATTEMPTS: "3", IDLE_POLL_MAX_MS: "200" }),
      QUEUE_PREFIX: `allowed-${process.pid}`,
    };
    const worker = startWorkerProcess(env);
    const cli = (args: string[]) => execa("node", ["--import", "tsx", "scripts/queue.ts", ...args], { env, reject: false });
    try {
      await worker.waitFor(/consuming the queue/);
      const jobs = { evil: "evil-org/some-model", path: "/etc", big: "large-v3", good: "base" };
      for (const [id, model] of Object.entries(jobs)) {
        expect((await cli(["push", audio.url(2), "--id", id, "--options", JSON.stringify({ model })])).exitCode).toBe(0);
      }
      const state = async (id: string) =>
        (
          JSON.parse((await cli(["show", id, "--json"])).stdout) as {
            status: { state: string; attempts: number; last_error: { code: string; message: string; retryable: boolean } | null };
          }
        ).status;
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
