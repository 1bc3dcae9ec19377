// Step 8: the services the worker talks to (the Upstash queue or the local default, Gemini)
// and RunPod's fitness-style host checks (memory, disk for the model cache).
import { randomUUID } from "node:crypto";
import { findOnPath } from "../../handler/preflight/nvidia-smi.ts";
import { createGeminiClient } from "../../handler/analysis/gemini.ts";
import { LlmFailure } from "../../handler/analysis/failure.ts";
import { createUpstashClient } from "../../handler/queue/redis.ts";
import { scrubMessage } from "../../handler/log/scrub.ts";
import type { HostFacts } from "../facts.ts";
import { availableMemory, diskSpace } from "../host-resources.ts";
import { approxModelMB, inspectModelDir } from "../model-files.ts";
import { combine, fail, pass, warn, type Check } from "../types.ts";
import { formatBytes } from "./model.ts";

export async function servicesStep(f: HostFacts): Promise<Check> {
  const parts = await Promise.all([queueCheck(f), geminiCheck(f), memoryCheck(f), diskCheck(f)]);
  return combine(parts);
}

function origin(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(invalid URL)";
  }
}

async function queueCheck(f: HostFacts): Promise<Check> {
  const c = f.config;
  if (c.RUNPOD_WEBHOOK_GET_JOB) return pass("queue: RunPod mode (jobs come from RunPod, no Redis needed)");
  if (!c.UPSTASH_REDIS_REST_URL || !c.UPSTASH_REDIS_REST_TOKEN) {
    const bin = c.REDIS_SERVER_BIN ?? "redis-server";
    const found =
      findOnPath(bin, f.env) ??
      (bin.includes("/") ? null : ["/usr/sbin", "/usr/local/sbin", "/sbin"].map((d) => findOnPath(`${d}/${bin}`, f.env)).find(Boolean));
    if (found) return pass(`queue: no UPSTASH_REDIS_REST_URL, the local default will be used (redis-server at ${found})`);
    return fail(
      `queue: no UPSTASH_REDIS_REST_URL, and the local default cannot start: ${bin} not found`,
      "`sudo apt-get install redis-server` (or `npm run setup`), or set REDIS_SERVER_BIN, or set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN",
    );
  }
  const host = origin(c.UPSTASH_REDIS_REST_URL);
  if (f.flags.quick) return pass(`queue: Upstash ${host} configured (not contacted: --quick)`);
  const client = createUpstashClient({ url: c.UPSTASH_REDIS_REST_URL, token: c.UPSTASH_REDIS_REST_TOKEN, timeoutMs: f.timeoutMs(c.REDIS_COMMAND_TIMEOUT_MS) });
  const key = `${c.QUEUE_PREFIX}:diagnose:${randomUUID()}`;
  const value = randomUUID();
  let op = "PING";
  try {
    const started = Date.now();
    await client.ping();
    const pingMs = Date.now() - started;
    op = "SET";
    await client.set(key, value, { ex: 60 });
    op = "GET";
    const got = await client.get<string>(key);
    op = "DEL";
    const deleted = await client.del(key);
    if (got !== value)
      return fail(
        `queue: Upstash ${host} read back ${JSON.stringify(got)} instead of the value written to ${key}`,
        "Check that UPSTASH_REDIS_REST_URL points at a Redis (not a cache proxy that drops writes)",
      );
    return pass(
      `queue: Upstash ${host}: PING ${pingMs} ms, write/read/delete of ${c.QUEUE_PREFIX}:diagnose:* ok${deleted === 1 ? "" : " (delete found no key)"}`,
    );
  } catch (err) {
    return upstashFailure(err, op, host);
  }
}

function upstashFailure(err: unknown, op: string, host: string): Check {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const message = scrubMessage((e.message ?? String(err)).split(", command was:")[0] ?? "", 300);
  if (/unauthori[sz]ed|WRONGPASS|NOAUTH|invalid.*(password|token)/i.test(message)) {
    return fail(
      `queue: Upstash ${host} rejected the token (${op}: ${message})`,
      "Set UPSTASH_REDIS_REST_TOKEN to the database's REST token (Upstash console > database > REST API)",
    );
  }
  if (/NOPERM/i.test(message)) {
    return fail(
      `queue: the Upstash token may not write (${op}: ${message})`,
      "Use the database's standard REST token, not the read-only one, in UPSTASH_REDIS_REST_TOKEN",
    );
  }
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    return fail(
      `queue: Upstash ${host} did not answer ${op} in time`,
      "Check UPSTASH_REDIS_REST_URL and the network (firewall, proxy), or raise REDIS_COMMAND_TIMEOUT_MS",
    );
  }
  const cause = e.cause?.code ?? e.cause?.message;
  return fail(
    `queue: Upstash ${host} unreachable (${op}: ${message}${cause ? `, ${cause}` : ""})`,
    "Check UPSTASH_REDIS_REST_URL (https://<name>.upstash.io) and the network (DNS, firewall, proxy)",
  );
}

async function geminiCheck(f: HostFacts): Promise<Check> {
  const c = f.config;
  if (!c.GEMINI_API_KEY) return pass("Gemini: skipped, GEMINI_API_KEY unset (transcripts only, no analysis)");
  if (f.flags.quick) return pass(`Gemini: key set for ${c.GEMINI_MODEL} (not checked: --quick)`);
  const client = createGeminiClient({ apiKey: c.GEMINI_API_KEY, ...(c.GEMINI_BASE_URL ? { baseUrl: c.GEMINI_BASE_URL } : {}) });
  const timeoutMs = f.timeoutMs(c.GEMINI_TIMEOUT_MS);
  const started = Date.now();
  try {
    // The smallest real request: it proves the key, the model name and the quota at once.
    await client.generate({
      model: c.GEMINI_MODEL,
      systemInstruction: "Answer with an empty JSON object.",
      turns: [{ role: "user", text: "ping" }],
      responseJsonSchema: { type: "object" },
      maxOutputTokens: 16,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return pass(`Gemini: key valid, ${c.GEMINI_MODEL} answered in ${Date.now() - started} ms`);
  } catch (err) {
    if (err instanceof LlmFailure) {
      if (err.code === "llm_auth")
        return fail(
          `Gemini rejected GEMINI_API_KEY (${err.message})`,
          "Set GEMINI_API_KEY to a valid key (Google AI Studio > Get API key), or unset it to run without analysis",
        );
      if (err.status === 404) return fail(`Gemini has no model ${c.GEMINI_MODEL} (${err.message})`, "Set GEMINI_MODEL to a model your key can use");
      if (err.code === "llm_bad_request") return fail(`Gemini refused the request (${err.message})`, "Check GEMINI_MODEL and GEMINI_BASE_URL");
      return warn(
        `Gemini: ${err.message}`,
        err.code === "llm_rate_limited"
          ? "Wait for the quota to reset, or raise it (Google AI Studio > usage)"
          : "Check the network to generativelanguage.googleapis.com (or GEMINI_BASE_URL); analysis retries on its own",
      );
    }
    const name = (err as { name?: string }).name;
    if (name === "TimeoutError" || name === "AbortError")
      return warn(`Gemini: no answer within ${timeoutMs} ms`, "Check the network to generativelanguage.googleapis.com (or GEMINI_BASE_URL)");
    return warn(`Gemini: ${scrubMessage(err instanceof Error ? err.message : String(err), 300)}`, "Check GEMINI_BASE_URL and the network");
  }
}

async function memoryCheck(f: HostFacts): Promise<Check> {
  const mem = availableMemory();
  const minBytes = f.config.DIAGNOSE_MIN_MEMORY_MB * 1024 ** 2;
  const text = `memory: ${formatBytes(mem.availableBytes)} available${mem.source === "cgroup" ? " (container limit)" : ""}`;
  if (mem.availableBytes >= minBytes) return pass(text);
  return fail(
    `${text}, below ${f.config.DIAGNOSE_MIN_MEMORY_MB} MiB (RunPod's fitness check refuses such a worker)`,
    "Free memory or use a larger instance; or lower DIAGNOSE_MIN_MEMORY_MB if a smaller WHISPER_MODEL fits",
  );
}

async function diskCheck(f: HostFacts): Promise<Check> {
  const loc = await f.model();
  if (loc.kind !== "hub") return pass("disk: model is a local directory (no download)");
  const d = await diskSpace(loc.cacheDir);
  const pct = d.totalBytes > 0 ? (100 * d.freeBytes) / d.totalBytes : 0;
  const text = `disk: ${formatBytes(d.freeBytes)} free (${pct.toFixed(0)}%) at ${d.path}`;
  const complete = loc.snapshot !== null && inspectModelDir(loc.snapshot, loc.repoId).missing.length === 0;
  const need = approxModelMB(loc.repoId) * 1024 ** 2 * 1.1;
  if (!complete && d.freeBytes < need) {
    return fail(`${text}: the model download needs about ${formatBytes(need)}`, `Free space there, or set MODEL_DIR to a folder on a larger volume`);
  }
  if (pct < f.config.DIAGNOSE_MIN_DISK_PERCENT) {
    return fail(
      `${text}, below ${f.config.DIAGNOSE_MIN_DISK_PERCENT}% (RunPod's fitness check refuses such a worker)`,
      "Free disk space or use a larger volume; or lower DIAGNOSE_MIN_DISK_PERCENT",
    );
  }
  return pass(text);
}
