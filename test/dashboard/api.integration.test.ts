// The dashboard's JSON API on the local stack: /api/stats is `queue stats --json`, what a page
// refresh costs in Upstash commands (counted by the REST server), that polling never writes,
// the actions, and that no secret reaches the browser.
import { readFileSync } from "node:fs";
import { execa } from "execa";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../handler/config/load.ts";
import { Secret } from "../../handler/config/secret.ts";
import { WorkerRegistry } from "../../handler/queue/registry.ts";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { TOKEN, dashboardOn, settle, type TestDashboard } from "./helpers.ts";

const SPEECH = "sidecar/smoke/speech.wav";
const auth = { authorization: `Bearer ${TOKEN}` };
let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(async () => {
  await stack.stop();
});

const queueCli = (args: string[], env: Record<string, string>) => execa("node", ["--import", "tsx", "scripts/queue.ts", ...args], { env, reject: false });
const json = async <T = Record<string, unknown>>(r: Response | Promise<Response>) => (await (await r).json()) as T;

async function withDashboard<T>(env: Record<string, string>, fn: (d: TestDashboard) => Promise<T>, s = stack): Promise<T> {
  const d = await dashboardOn(s, env);
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

describe("GET /api/stats", () => {
  it("answers exactly what `npm run queue -- stats --json` prints (the same QueueAdmin.stats)", async () => {
    await withDashboard({}, async (d) => {
      for (const [id, fate] of [
        ["s1", "done"],
        ["s2", "done"],
        ["s3", "failed"],
        ["s4", "dead"],
        ["s5", "retrying"],
        ["s6", "active"],
      ] as const)
        await settle(d.queue, Date.now, id, fate);
      const cli = await queueCli(["stats", "--json"], d.env);
      expect(cli.exitCode, cli.stderr).toBe(0);
      const api = await json(d.get("/api/stats"));
      expect(api).toEqual(JSON.parse(cli.stdout));
      expect(api).toMatchObject({ done_total: 2, failed: 1, dead: 1, retrying: 1, active: 1, queued: 0, oldest_waiting_ms: null });

      // With a job waiting, only the age differs: by the time between the two calls.
      await settle(d.queue, Date.now, "s7", "queued");
      const t0 = Date.now();
      const later = JSON.parse((await queueCli(["stats", "--json"], d.env)).stdout) as Record<string, number>;
      const fromApi = await json<Record<string, number>>(d.get("/api/stats"));
      expect(Object.keys(fromApi).sort()).toEqual(Object.keys(later).sort());
      expect({ ...fromApi, oldest_waiting_ms: 0 }).toEqual({ ...later, oldest_waiting_ms: 0 });
      expect(fromApi.oldest_waiting_ms! - later.oldest_waiting_ms!).toBeGreaterThanOrEqual(0);
      expect(fromApi.oldest_waiting_ms! - later.oldest_waiting_ms!).toBeLessThanOrEqual(Date.now() - t0 + 5);
    });
  });
});

describe("what a page refresh costs", () => {
  it("an overview refresh is 2 Upstash commands (4 the very first time, loading the scripts), each page's cost is in x-upstash-commands, and nothing is written", async () => {
    const fresh = await startLocalStack(); // a redis that has never seen the scripts
    const raw = new IORedis({ host: fresh.redis.host, port: fresh.redis.port, protocol: 2 });
    try {
      await withDashboard(
        {},
        async (d) => {
          await settle(d.queue, Date.now, "c1", "done");
          await settle(d.queue, Date.now, "c2", "failed");
          await d.queue.enqueueWithAudio({}, readFileSync(SPEECH), { id: "c3" });
          const registry = new WorkerRegistry(d.queue, { id: "w-gone", mode: "queue", version: "t" }, 100);
          await registry.heartbeat(true); // its record expires in 300 ms; the id stays listed
          for (const deadline = Date.now() + 10_000; Date.now() < deadline && (await raw.exists(`${d.queue.prefix}worker:w-gone`)) === 1;)
            await new Promise((r) => setTimeout(r, 50));
          const counter = fresh.rest.counter;
          const cost = async (path: string) => {
            counter.reset();
            const r = await d.get(path);
            expect(r.status, path).toBe(200);
            await r.arrayBuffer();
            const header = Number(r.headers.get("x-upstash-commands"));
            expect(header, `${path}: the header agrees with the REST server's count`).toBe(counter.total);
            return { total: counter.total, byName: counter.snapshot().byName };
          };
          expect((await cost("/api/overview")).total).toBe(4); // EVALSHA, EVALSHA_RO: NOSCRIPT; then EVAL, EVAL_RO
          const writes = Number(/rdb_changes_since_last_save:(\d+)/.exec(await raw.info("persistence"))?.[1]);
          const pages = {
            "/api/overview": { total: 2, byName: { EVALSHA: 1, EVALSHA_RO: 1 } },
            "/api/workers": { total: 1, byName: { EVALSHA_RO: 1 } },
            "/api/dead-letter": { total: 1, byName: { EVALSHA_RO: 1 } },
            "/api/jobs?state=dead_letter&code=download_failed": { total: 1, byName: { EVALSHA_RO: 1 } },
            "/api/jobs/c1": { total: 1, byName: { EVALSHA_RO: 1 } },
            "/api/jobs/c3/audio": { total: 1, byName: { EVALSHA_RO: 1 } },
            "/api/stats": { total: 1, byName: { EVALSHA: 1 } },
            "/api/session": { total: 0, byName: {} },
          };
          for (const path of Object.keys(pages)) await cost(path); // the first use of each script loads it (NOSCRIPT, then EVAL_RO)
          for (const [path, want] of Object.entries(pages)) expect(await cost(path), path).toEqual(want);
          for (let i = 0; i < 5; i++) expect((await cost("/api/overview")).total).toBe(2);
          // Static files and the page itself never touch Upstash.
          expect((await cost("/")).total).toBe(0);
          expect((await cost("/static/app.js")).total).toBe(0);
          // No poll wrote anything (the expired worker was not pruned either).
          expect(Number(/rdb_changes_since_last_save:(\d+)/.exec(await raw.info("persistence"))?.[1])).toBe(writes);
          const ov = await json<{ commands_total: number }>(d.get("/api/overview"));
          expect(ov.commands_total).toBe(d.dashboard.meter.total);
        },
        fresh,
      );
    } finally {
      raw.disconnect();
      await fresh.stop();
    }
  });

  it("the README states the measured cost", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toMatch(/overview\s+refresh\s+costs\s+\*\*2\s+Upstash\s+commands\*\*/);
    expect(loadConfig({}, null).DASHBOARD_REFRESH_S).toBe(10); // 3600 / 10 x 2 = 720
    expect(readme).toMatch(/At\s+the\s+default\s+10\s+s\s+an\s+open\s+overview\s+costs\s+720\s+commands\s+an\s+hour/);
  });

  it("the README links the screenshots of the overview and a job page, and they are PNG files", () => {
    const readme = readFileSync("README.md", "utf8");
    for (const png of ["docs/dashboard-overview.png", "docs/dashboard-job.png"]) {
      expect(readme).toContain(`](${png})`);
      expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
  });
});

describe("actions", () => {
  it("retry one, retry every job of an error code, retry all; purge one, a code, all: each touching only the dead letter", async () => {
    await withDashboard({ DASHBOARD_TOKEN: TOKEN }, async (d) => {
      const plan = [
        ["r1", "failed", "download_failed"],
        ["r2", "failed", "unsupported_format"],
        ["r3", "dead", "download_failed"],
        ["r4", "failed", "download_failed"],
        ["r5", "done", ""],
        ["r6", "failed", "llm_auth"],
        ["r7", "failed", "llm_auth"],
      ] as const;
      for (const [id, fate, code] of plan) await settle(d.queue, Date.now, id, fate, { code });
      expect(await json(d.post("/api/retry", { id: "r2" }, auth))).toEqual({ requeued: 1, complete: true });
      expect(await json(d.post("/api/retry", { id: "r5" }, auth))).toEqual({ requeued: 0, complete: true }); // done: not in the dead letter
      expect(await json(d.post("/api/retry", { code: "download_failed" }, auth))).toEqual({ requeued: 3, complete: true });
      expect(await d.admin.status("r3")).toMatchObject({ state: "queued", attempts: 0, stage: "requeued" });
      expect(await json(d.post("/api/purge", { code: "llm_auth" }, auth))).toEqual({ deleted: 2, complete: true });
      expect(await d.admin.status("r6")).toBeNull();
      expect(await d.admin.stats()).toMatchObject({ failed: 0, dead: 0, queued: 4, done_total: 1 });
      await settle(d.queue, Date.now, "r8", "failed");
      await settle(d.queue, Date.now, "r9", "dead");
      expect(await json(d.post("/api/purge", { id: "r8" }, auth))).toEqual({ deleted: 1, complete: true });
      await settle(d.queue, Date.now, "r10", "failed");
      expect(await json(d.post("/api/retry", { all: true }, auth))).toEqual({ requeued: 2, complete: true });
      await settle(d.queue, Date.now, "r11", "failed");
      expect(await json(d.post("/api/purge", { all: true }, auth))).toEqual({ deleted: 1, complete: true });
      expect(await d.admin.stats()).toMatchObject({ failed: 0, dead: 0, done_total: 1 });
    });
  });

  it("a selection must be exactly one of id, ids, code, all: anything else is a 400 and changes nothing", async () => {
    await withDashboard({ DASHBOARD_TOKEN: TOKEN }, async (d) => {
      await settle(d.queue, Date.now, "k1", "failed");
      for (const body of [{}, { id: "k1", all: true }, { all: false }, { ids: [] }, { id: "bad id with spaces" }, { code: "x y" }, [1], "k1"]) {
        const r = await d.post("/api/purge", body, auth);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect((await json<{ error: { code: string } }>(r)).error.code).toBe("invalid_input");
      }
      const r = await fetch(`${d.base}/api/retry`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{not json" });
      expect(r.status).toBe(400);
      expect(await d.admin.status("k1")).toMatchObject({ state: "failed" });
    });
  });

  it("push queues exactly what `npm run queue -- push` queues, for a URL and for a file; the file's audio plays back with its type", async () => {
    await withDashboard({ DASHBOARD_TOKEN: TOKEN }, async (d) => {
      const options = { language: "de", word_timestamps: true, llm: { enabled: false } };
      const url = "https://example.com/voice.ogg";
      expect((await queueCli(["push", url, "--id", "cli-url", "--priority", "high", "--options", JSON.stringify(options)], d.env)).exitCode).toBe(0);
      const pushed = await json(d.post("/api/push", { url, id: "web-url", priority: "high", options }, auth));
      expect(pushed).toEqual({ created: true, id: "web-url", state: "queued", attempts: 0 });
      const stored = async (id: string) =>
        JSON.parse((await d.queue.redis.hget<string>(`${d.queue.prefix}job:${id}`, "payload"))!) as { input: Record<string, unknown> };
      expect(await stored("web-url")).toEqual(await stored("cli-url"));
      expect((await d.admin.status("web-url"))?.priority).toBe("high");

      expect((await queueCli(["push", SPEECH, "--id", "cli-file", "--options", JSON.stringify(options)], d.env)).exitCode).toBe(0);
      const wav = readFileSync(SPEECH);
      const r = await fetch(`${d.base}/api/push?${new URLSearchParams({ id: "web-file", options: JSON.stringify(options) })}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/octet-stream" },
        body: wav,
      });
      expect(r.status).toBe(200);
      const [web, cli] = [await stored("web-file"), await stored("cli-file")];
      expect({ ...web.input, audio_key: "k" }).toEqual({ ...cli.input, audio_key: "k" });
      const audio = await d.get("/api/jobs/web-file/audio");
      expect(audio.headers.get("content-type")).toBe("audio/wav");
      expect(Buffer.from(await audio.arrayBuffer())).toEqual(wav);
      // The same id again: already known, nothing replaced.
      expect(await json(d.post("/api/push", { url, id: "web-url" }, auth))).toMatchObject({ created: false, id: "web-url" });
    });
  });

  it("push refuses what the CLI refuses: options that set the audio, a non-http URL, a bad priority, a file over MAX_AUDIO_MB", async () => {
    await withDashboard({ DASHBOARD_TOKEN: TOKEN, MAX_AUDIO_MB: "1" }, async (d) => {
      for (const body of [
        { url: "https://x.example/a.ogg", options: { audio_base64: "AAAA" } },
        { url: "file:///etc/passwd" },
        { url: "https://x.example/a.ogg", priority: "urgent" },
        { url: "https://x.example/a.ogg", options: [1] },
        {},
      ]) {
        const r = await d.post("/api/push", body, auth);
        expect(r.status, JSON.stringify(body)).toBe(400);
      }
      const big = await fetch(`${d.base}/api/push`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/octet-stream" },
        body: Buffer.alloc(1024 * 1024 + 1),
      });
      expect(big.status).toBe(413);
      expect((await json<{ error: { code: string } }>(big)).error.code).toBe("audio_too_large");
      expect(await d.admin.stats()).toMatchObject({ queued: 0 });
    });
  });
});

describe("no secret reaches the browser", () => {
  it("presigned URL signatures, the Upstash token, the Gemini key and stored-audio keys never appear in any answer; user text comes back as data", async () => {
    const gemini = new Secret(`AIzaDashTest${Date.now()}abcdefghijklmnopqrstu`); // registered, as config does
    await withDashboard({ DASHBOARD_TOKEN: TOKEN }, async (d) => {
      const sig = `Sig${Date.now()}SECRETsignature`;
      const presigned = `https://bucket.s3.amazonaws.com/voice.ogg?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=${sig}`;
      const leak = `upstream said: token ${stack.env.UPSTASH_REDIS_REST_TOKEN} key ${gemini.reveal()} while fetching ${presigned}`;
      await settle(d.queue, Date.now, "leaky", "failed", { payload: { input: { audio: presigned } }, message: leak });
      const transcript = `<script>window.__pwned = 1</script><img src=x onerror="alert(1)"> see ${presigned}`;
      await settle(d.queue, Date.now, "scripted", "done", {
        payload: { input: { audio: presigned } },
        result: { transcription: transcript, segments: [{ start: 0, end: 1, text: transcript }] },
      });
      await d.queue.enqueueWithAudio({}, Buffer.from("OggS fake"), { id: "stored" });
      const audioKey = (await d.queue.redis.hget<string>(`${d.queue.prefix}job:stored`, "audio_key"))!;
      const bodies: string[] = [];
      for (const path of [
        "/api/overview",
        "/api/dead-letter",
        "/api/jobs?state=dead_letter",
        "/api/jobs?state=done",
        "/api/jobs/leaky",
        "/api/jobs/scripted",
        "/api/jobs/stored",
        "/api/session",
        "/",
      ]) {
        bodies.push(await (await d.get(path)).text());
      }
      const all = bodies.join("\n");
      for (const secret of [sig, "AKIAEXAMPLE", stack.env.UPSTASH_REDIS_REST_TOKEN, gemini.reveal(), TOKEN, audioKey]) expect(all).not.toContain(secret);
      const job = await json<{ payload: { input: { audio: string } }; result: { transcription: string }; status: { last_error: unknown } }>(
        d.get("/api/jobs/scripted"),
      );
      expect(job.payload.input.audio).toBe("https://bucket.s3.amazonaws.com/voice.ogg?…");
      expect(job.result.transcription).toContain('<script>window.__pwned = 1</script><img src=x onerror="alert(1)">');
      const stored = await json<{ payload: { input: { audio_key: string } }; audio: { stored: boolean } }>(d.get("/api/jobs/stored"));
      expect(stored).toMatchObject({ payload: { input: { audio_key: "[stored audio]" } }, audio: { stored: true } });
    });
  });
});
