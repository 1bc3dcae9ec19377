// A worker in the local default (npm start with no settings) runs the REST server in its own
// process: harmful requests to it are refused, and the worker goes on consuming.
import { execa } from "execa";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { restClient, untilTrue } from "./rest-helpers.ts";

describe("local-mode worker (npm start with no settings)", () => {
  it("survives harmful requests to the REST server in its own process and goes on consuming", { timeout: 180_000 }, async () => {
    const cache = mkdtempSync(join(tmpdir(), "vw-local-harm-"));
    const env = { XDG_CACHE_HOME: cache, LOCAL_REST_PORT: "0", FAKE_FW_TEXT: "Still here after the harmful requests." };
    const worker = startWorkerProcess(env);
    try {
      await worker.waitFor(/consuming the queue/, 90_000);
      const info = JSON.parse(readFileSync(join(cache, "voice-worker", "local-stack.json"), "utf8")) as {
        UPSTASH_REDIS_REST_URL: string;
        UPSTASH_REDIS_REST_TOKEN: string;
      };
      const local = restClient(info.UPSTASH_REDIS_REST_URL, info.UPSTASH_REDIS_REST_TOKEN);
      for (const cmd of [["SUBSCRIBE", "x"], ["MULTI"], ["CLIENT", "REPLY", "OFF"], ["SELECT", "1"], ["BLPOP", "k", "3"], ["HELLO", "3"], ["QUIT"]]) {
        const r = await local.post("/", cmd);
        expect(r.status, `${cmd.join(" ")}: ${r.text}`).toBe(400);
      }
      expect(worker.child.exitCode).toBeNull();
      const cli = (args: string[]) => execa("node", ["--import", "tsx", "scripts/queue.ts", ...args], { env, reject: false });
      const pushed = await cli(["push", "sidecar/smoke/speech.wav", "--id", "after-harm"]);
      expect(pushed.exitCode, pushed.stderr).toBe(0);
      let state = "";
      await untilTrue(
        async () => {
          const shown = await cli(["show", "after-harm", "--json"]);
          state = (JSON.parse(shown.stdout) as { status: { state: string } }).status.state;
          return state === "done" || state === "failed" || state === "dead";
        },
        "the job pushed after the harmful requests to finish",
        120_000,
        250,
      );
      expect(state).toBe("done");
      expect(worker.lines.join("\n")).not.toMatch(/SyntaxError|uncaught|Unhandled/i);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
