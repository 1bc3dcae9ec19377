// The RunPod-mode worker of docker-compose.yml gets exactly the settings the RunPod dev server
// (`npm run runpod:dev`) prints for compose's pod id and key.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { selectMode } from "../../handler/worker/mode.ts";
import { startRunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { loadCompose, read } from "./files.ts";

const compose = loadCompose(read("docker-compose.yml"), {});

describe("docker-compose.yml environment", () => {
  it("the RunPod-mode worker gets exactly what `npm run runpod:dev` prints for its pod id and key", async () => {
    const svc = compose.services["worker-runpod"]!;
    const env = svc.environment!;
    const cfg = loadConfig(env, null);
    expect(selectMode(cfg).kind).toBe("runpod");
    const devCommand = compose.services["runpod-dev"]!.command!;
    const flag = (f: string) => devCommand[devCommand.indexOf(f) + 1]!;
    const dev = await startRunpodDevServer({ port: 0, apiKey: flag("--api-key") });
    try {
      const expected = dev.workerEnv(flag("--pod-id"));
      const samePort = Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v.replaceAll(`:${dev.port}/`, `:${flag("--port")}/`)]));
      const runpodVars = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("RUNPOD_")));
      expect(runpodVars).toEqual(samePort);
    } finally {
      await dev.close();
    }
    // It shares the dev server's network namespace: the server listens on loopback only.
    expect(svc.network_mode).toBe("service:runpod-dev");
  });
});
