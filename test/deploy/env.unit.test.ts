// Every environment variable the deployment files name must be a setting of the worker's
// config schema, or one of a few named non-settings that the image or the harness legitimately
// use; and every value they give must pass the schema (loadConfig), so a typo or a stale name
// fails here instead of being silently ignored by the worker.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { settingsShape } from "../../handler/config/schema.ts";
import { selectMode } from "../../handler/worker/mode.ts";
import { restServerSettings } from "../../scripts/rest-server.ts";
import { assignments, loadCompose, loadHub, loadHubTests, loadRunpodToml, instructionsOf, parseDockerfile, read, stageEnv } from "./files.ts";

/** Variables that are not worker settings, each with why it may appear. */
const NON_SETTINGS: Record<string, string> = {
  NODE_ENV: "Dockerfile ENV: production mode for Node libraries (and LOG_FORMAT=auto's JSON choice)",
  PYTHONDONTWRITEBYTECODE: "Dockerfile ENV: /app is read-only for the worker user; Python must not try to write .pyc files",
  HF_HUB_OFFLINE: "Dockerfile ENV: huggingface_hub never touches the network; the model is baked in",
  DEBIAN_FRONTEND: "Dockerfile build-time ARG only (never in the final image): apt-get without tzdata prompts",
  REDIS_HOST: "scripts/rest-server.ts: the redis it serves (compose's upstash-rest service)",
  REDIS_PORT: "scripts/rest-server.ts: the redis it serves",
  REST_HOST: "scripts/rest-server.ts: where it listens",
  REST_PORT: "scripts/rest-server.ts: where it listens",
  RUNPOD_DEV_API_KEY: "compose interpolation only: the development key runpod-dev and its worker share",
};

const SETTINGS = new Set(Object.keys(settingsShape));
const known = (name: string) => SETTINGS.has(name) || name in NON_SETTINGS;

const dockerfile = parseDockerfile(read("Dockerfile"));
const finalStages = dockerfile.stages.filter((s) => s.name === "gpu" || s.name === "cpu");
const compose = loadCompose(read("docker-compose.yml"), {});
const toml = loadRunpodToml();
const hub = loadHub();
const hubTests = loadHubTests();

/** Where each file names variables. */
function namesByFile(): Record<string, string[]> {
  const dockerNames = [
    ...dockerfile.globalArgs.flatMap((i) => assignments(i).map(([k]) => k)),
    ...dockerfile.stages.flatMap((s) => [...instructionsOf(s, "ENV"), ...instructionsOf(s, "ARG")].flatMap((i) => assignments(i).map(([k]) => k))),
  ];
  const composeNames = [
    ...Object.values(compose.services).flatMap((s) => [...Object.keys(s.environment ?? {}), ...Object.keys(s.build?.args ?? {})]),
    ...compose.hostVariables,
  ];
  return {
    Dockerfile: dockerNames,
    "docker-compose.yml": composeNames,
    "runpod.toml": Object.keys(toml.project.env_vars),
    ".runpod/hub.json": [...hub.config.env.map((e) => e.key), ...(hub.config.presets ?? []).flatMap((p) => Object.keys(p.defaults))],
    ".runpod/tests.json": (hubTests.config.env ?? []).map((e) => e.key),
  };
}

describe("environment variable names in the deployment files", () => {
  it("are all worker settings or named non-settings", () => {
    const unknown = Object.entries(namesByFile()).flatMap(([file, names]) => names.filter((n) => !known(n)).map((n) => `${file}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it("the allow-list has no stale entries: each non-setting is used by some file", () => {
    const used = new Set(Object.values(namesByFile()).flat());
    expect(Object.keys(NON_SETTINGS).filter((n) => !used.has(n))).toEqual([]);
    // And none of them shadows a real setting (that would hide a typo check).
    expect(Object.keys(NON_SETTINGS).filter((n) => SETTINGS.has(n))).toEqual([]);
  });

  it("the check itself catches a misspelt name", () => {
    const misspelt = loadCompose(read("docker-compose.yml").replace("UPSTASH_REDIS_REST_URL:", "UPSTASH_REDIS_URL:"), {});
    const names = Object.values(misspelt.services).flatMap((s) => Object.keys(s.environment ?? {}));
    expect(names.filter((n) => !known(n))).toEqual(["UPSTASH_REDIS_URL"]);
  });

  it("scripts/rest-server.ts reads exactly the REDIS_/REST_ names compose gives it", () => {
    const env = compose.services["upstash-rest"]!.environment!;
    const s = restServerSettings(env);
    expect(s).toEqual({ redis: { host: "redis", port: 6379 }, host: "0.0.0.0", port: 8079, token: env.UPSTASH_REDIS_REST_TOKEN });
  });
});

describe("Dockerfile environment", () => {
  it("has a gpu (default, last) and a cpu target", () => {
    expect(finalStages.map((s) => s.name).sort()).toEqual(["cpu", "gpu"]);
    expect(dockerfile.stages.at(-1)!.name).toBe("gpu");
  });

  it.each(["gpu", "cpu"])("%s: the image's ENV is a valid config, offline, with the baked model", (name) => {
    const stage = finalStages.find((s) => s.name === name)!;
    const defaultModel = dockerfile.globalArgs.flatMap(assignments).find(([k]) => k === "WHISPER_MODEL")?.[1];
    const env = Object.fromEntries(Object.entries(stageEnv(stage)).map(([k, v]) => [k, v.replace("${WHISPER_MODEL}", defaultModel ?? "")]));
    const cfg = loadConfig(env, null);
    // The model the image bakes by default is the schema's default model.
    expect(defaultModel).toBe(loadConfig({}, null).WHISPER_MODEL);
    expect(env.WHISPER_MODEL).toBe(defaultModel);
    expect(cfg.MODEL_DOWNLOAD).toBe("never");
    expect(env.HF_HUB_OFFLINE).toBe("1");
    expect(cfg.DEVICE).toBe(name === "cpu" ? "cpu" : "auto");
    // MODEL_DIR is where the model stage downloads to; SIDECAR_PYTHON is the venv the image copies.
    const modelRun = dockerfile.stages.find((s) => s.name === "model")!.instructions.find((i) => i.keyword === "RUN")!.args;
    expect(modelRun).toContain(`"$WHISPER_MODEL" ${cfg.MODEL_DIR}`);
    expect(cfg.SIDECAR_PYTHON).toBe("/opt/venv/bin/python");
    expect(instructionsOf(stage, "COPY").map((i) => i.args)).toContain("--from=sidecar-venv /opt/venv /opt/venv");
    // No secret is ever baked into an image.
    expect(Object.keys(env).filter((k) => /KEY|TOKEN|SECRET|PASSWORD/.test(k))).toEqual([]);
  });
});

describe("docker-compose.yml environment", () => {
  it("the queue worker gets the REST server's URL and token, and runs in queue mode", () => {
    const worker = compose.services.worker!.environment!;
    const rest = compose.services["upstash-rest"]!.environment!;
    const cfg = loadConfig(worker, null);
    expect(selectMode(cfg).kind).toBe("queue");
    expect(cfg.UPSTASH_REDIS_REST_URL).toBe(`http://upstash-rest:${rest.REST_PORT}`);
    expect(cfg.UPSTASH_REDIS_REST_TOKEN?.reveal()).toBe(rest.UPSTASH_REDIS_REST_TOKEN);
    // A token set in the host environment reaches both sides.
    const mine = loadCompose(read("docker-compose.yml"), { UPSTASH_REDIS_REST_TOKEN: "my-own-token-123" }).services;
    expect(mine.worker!.environment!.UPSTASH_REDIS_REST_TOKEN).toBe("my-own-token-123");
    expect(mine["upstash-rest"]!.environment!.UPSTASH_REDIS_REST_TOKEN).toBe("my-own-token-123");
  });

  it("the one-shot pusher uses the same queue as the worker", () => {
    const push = loadConfig(compose.services.push!.environment, null);
    const worker = loadConfig(compose.services.worker!.environment, null);
    expect(push.UPSTASH_REDIS_REST_URL).toBe(worker.UPSTASH_REDIS_REST_URL);
    expect(push.QUEUE_PREFIX).toBe(worker.QUEUE_PREFIX);
    expect(push.UPSTASH_REDIS_REST_TOKEN?.reveal()).toBe(worker.UPSTASH_REDIS_REST_TOKEN?.reveal());
  });

  it("the baked model comes from the same WHISPER_MODEL default as the image", () => {
    for (const svc of Object.values(compose.services).filter((s) => s.build)) {
      expect(svc.build!.args!.WHISPER_MODEL).toBe(loadConfig({}, null).WHISPER_MODEL);
    }
    const large = loadCompose(read("docker-compose.yml"), { WHISPER_MODEL: "large-v3" }).services;
    expect(large.worker!.build!.args!.WHISPER_MODEL).toBe("large-v3");
  });
});

describe("RunPod files environment", () => {
  it("runpod.toml's env_vars are a valid config (a secret reference for the Gemini key)", () => {
    const env = toml.project.env_vars;
    const cfg = loadConfig(env, null);
    expect(cfg.GEMINI_API_KEY?.reveal()).toMatch(/^\{\{ RUNPOD_SECRET_[a-z_]+ \}\}$/);
    expect(selectMode(cfg).kind).toBe("local"); // RunPod itself adds RUNPOD_WEBHOOK_GET_JOB
    expect(selectMode(loadConfig({ ...env, RUNPOD_WEBHOOK_GET_JOB: "https://api.runpod.ai/v2/x/job-take/$ID?gpu=A" }, null)).kind).toBe("runpod");
  });

  it("hub.json inputs agree with the schema: defaults, options and ranges", () => {
    const schemaDefaults = loadConfig({}, null) as unknown as Record<string, unknown>;
    for (const e of hub.config.env) {
      if (e.value !== undefined) {
        expect(() => loadConfig({ [e.key]: e.value }, null), e.key).not.toThrow();
        continue;
      }
      const input = e.input!;
      if (input.default !== undefined) {
        expect(String(input.default), `${e.key} default`).toBe(String(schemaDefaults[e.key]));
      }
      for (const o of input.options ?? []) expect(() => loadConfig({ [e.key]: o.value }, null), `${e.key}=${o.value}`).not.toThrow();
      if (input.options && input.default !== undefined) expect(input.options.map((o) => o.value)).toContain(input.default);
      for (const bound of [input.min, input.max]) {
        if (bound !== undefined) expect(() => loadConfig({ [e.key]: String(bound) }, null), `${e.key}=${bound}`).not.toThrow();
      }
    }
    for (const p of hub.config.presets ?? []) {
      expect(() => loadConfig(Object.fromEntries(Object.entries(p.defaults).map(([k, v]) => [k, String(v)])), null), p.name).not.toThrow();
    }
  });

  it("tests.json's env is a valid config", () => {
    const env = Object.fromEntries((hubTests.config.env ?? []).map((e) => [e.key, e.value]));
    expect(() => loadConfig(env, null)).not.toThrow();
  });
});
