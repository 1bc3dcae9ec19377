// docker-compose.yml: validated by docker-compose itself (client side, no engine needed), and its
// harness services run here without docker, with the very commands the file gives them: the
// REST server in front of a separate real redis-server (driven by the real @upstash/redis
// client), and the one-shot pushers against a real worker process (faster-whisper test double).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Redis } from "@upstash/redis";
import { findExecutable } from "../../handler/local-stack/find-executable.ts";
import { startRedisServer, type RedisServer } from "../../handler/local-stack/redis-server.ts";
import { checkRestServer, startRestServer } from "../../scripts/rest-server.ts";
import { startLocalStack } from "../../handler/local-stack/stack.ts";
import { startRunpodDevServer } from "../../harness/runpod-dev-server.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { loadCompose, read } from "./files.ts";

const composeText = read("docker-compose.yml");
const services = loadCompose(composeText, {}).services;
/** `npm run setup -- --tests` installs Debian's docker-compose: it validates the file without an engine. */
function dockerCompose(): string {
  const bin = findExecutable("docker-compose");
  if (!bin) throw new Error("docker-compose is not installed: run `npm run setup -- --tests` (apt-get install docker-compose)");
  return bin;
}
const ALL_PROFILES = ["--profile", "push", "--profile", "runpod", "--profile", "runpod-push"];
const SAY = "Please call me back about the invoice tomorrow.";

/** Runs a compose `command:` (or healthcheck) argv as is, from the repository root. */
const runArgv = (argv: string[], env: Record<string, string>, timeoutMs = 120_000) =>
  execa(argv[0]!, argv.slice(1), { env, reject: false, timeout: timeoutMs, stdin: "ignore" });

/** argv with the value after `flag` replaced (the local port or key instead of compose's). */
const withFlag = (argv: string[], flag: string, value: string) => argv.map((a, i) => (argv[i - 1] === flag ? value : a));

describe("docker compose config (client side)", () => {
  it("accepts docker-compose.yml with every profile", async () => {
    const r = await execa(dockerCompose(), ["-f", "docker-compose.yml", ...ALL_PROFILES, "config", "-q"], { reject: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("rejects a broken copy (the validation is real)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vw-compose-"));
    const broken = composeText
      .replace("condition: service_healthy", "condition: service_ready")
      .replace('network_mode: "service:runpod-dev"', 'network_mode: "service:runpod-devv"');
    writeFileSync(join(dir, "docker-compose.yml"), broken);
    const r = await execa(dockerCompose(), ["-f", join(dir, "docker-compose.yml"), ...ALL_PROFILES, "config", "-q"], { reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/service_ready|runpod-devv/);
  });
});

describe("upstash-rest: scripts/rest-server.ts in front of a separate redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });
  const composeEnv = () => services["upstash-rest"]!.environment!;
  const local = (port: string): Record<string, string> => ({
    ...composeEnv(),
    REDIS_HOST: redis.host,
    REDIS_PORT: String(redis.port),
    REST_HOST: "127.0.0.1",
    REST_PORT: port,
  });

  it("serves the real @upstash/redis client (command, pipeline, transaction); the health check sees it", async () => {
    const env = local("0");
    const server = await startRestServer(env);
    try {
      const client = new Redis({ url: server.url, token: env.UPSTASH_REDIS_REST_TOKEN!, automaticDeserialization: false });
      expect(await client.set("compose:k", "v1")).toBe("OK");
      expect(await client.get("compose:k")).toBe("v1");
      const p = client.pipeline();
      p.incr("compose:n");
      p.incr("compose:n");
      expect(await p.exec()).toEqual([1, 2]);
      const tx = client.multi();
      tx.lpush("compose:l", "a");
      tx.lrange("compose:l", 0, -1);
      expect(await tx.exec()).toEqual([1, ["a"]]);
      const { port } = server;
      expect(await checkRestServer({ ...env, REST_PORT: String(port) })).toBe(true);
      expect(await checkRestServer({ ...env, REST_PORT: String(port), UPSTASH_REDIS_REST_TOKEN: "not-the-token" })).toBe(false);
      const bad = new Redis({ url: server.url, token: "not-the-token", retry: false });
      await expect(bad.get("compose:k")).rejects.toThrow(/Unauthorized/);
    } finally {
      await server.stop();
    }
  });

  it("compose's command and healthcheck, run as written: listens, checks healthy, stops on SIGTERM; no token: exit 2", async () => {
    const command = services["upstash-rest"]!.command!;
    const health = services["upstash-rest"]!.healthcheck!.test!.slice(1);
    const child = runArgv(command, local("0"));
    let port = "";
    try {
      port = await new Promise<string>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.on("line", (line) => {
          const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(line);
          if (m) {
            rl.close();
            resolve(m[1]!);
          }
        });
        void child.then((r) => reject(new Error(`rest-server exited early: ${String(r.stderr)}`)));
      });
      expect((await runArgv(health, local(port), 60_000)).exitCode).toBe(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect((await child).exitCode).toBe(0);
    expect((await runArgv(health, local(port), 60_000)).exitCode).toBe(1); // nothing listens any more

    const { UPSTASH_REDIS_REST_TOKEN: _t, ...noToken } = local("0");
    const refused = await runArgv(command, { ...noToken, UPSTASH_REDIS_REST_TOKEN: "" });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/UPSTASH_REDIS_REST_TOKEN is required/);
  });
});

describe("the one-shot pushers, against a real worker (faster-whisper test double)", () => {
  it("push: compose's command pushes the voice message through the queue and prints the result; a bad file exits 1", async () => {
    const stack = await startLocalStack();
    const env = { ...stack.env, QUEUE_PREFIX: `compose-${process.pid}`, FAKE_FW_TEXT: SAY };
    const worker = startWorkerProcess(env);
    try {
      const push = withFlag(services.push!.command!, "--timeout-s", "90");
      const ok = await runArgv(push, env);
      expect(ok.exitCode, ok.stderr).toBe(0);
      const outcome = JSON.parse(ok.stdout) as { ok: boolean; final: { status: { state: string }; result: Record<string, unknown> } };
      expect(outcome.ok).toBe(true);
      expect(outcome.final.status.state).toBe("done");
      expect(outcome.final.result.transcription).toBe(SAY);
      expect(outcome.final.result.device).toBe("cpu");

      const notAudio = push.map((a) => (a === "sidecar/smoke/speech.wav" ? "package.json" : a));
      const bad = await runArgv(notAudio, env);
      expect(bad.exitCode).toBe(1);
      expect((JSON.parse(bad.stdout) as { final: { status: { state: string } } }).final.status.state).toMatch(/^(failed|dead)$/);
    } finally {
      expect(await worker.stop()).toBe(0);
      await stack.stop();
    }
  });

  it("push-runpod: compose's command sends it through RunPod's /run and /status to a RunPod-mode worker", async () => {
    const command = services["push-runpod"]!.command!;
    const key = command[command.indexOf("--api-key") + 1]!;
    const dev = await startRunpodDevServer({ apiKey: key, pingIntervalMs: 2000 });
    const worker = startWorkerProcess({ ...dev.workerEnv("compose-worker"), FAKE_FW_TEXT: SAY });
    try {
      const argv = withFlag(withFlag(command, "--runpod", `${dev.baseUrl}/${dev.endpointId}`), "--timeout-s", "90");
      const r = await runArgv(argv, {});
      expect(r.exitCode, r.stderr).toBe(0);
      const outcome = JSON.parse(r.stdout) as { ok: boolean; final: { status: string; output: Record<string, unknown> } };
      expect(outcome.final.status).toBe("COMPLETED");
      expect(outcome.final.output.transcription).toBe(SAY);
      expect(r.stdout).not.toContain(key);
    } finally {
      expect(await worker.stop()).toBe(0);
      await dev.close();
    }
  });

  it("misuse exits 2 with the usage line", async () => {
    const r = await runArgv([...services.push!.command!, "--runpod", "http://127.0.0.1:1/v2/x"], {});
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--runpod needs --api-key[\s\S]*usage: npm run compose:push/);
  });
});
