import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { QueueAdmin } from "../../handler/queue/admin.ts";
import { QueueConsumer, type JobHandler } from "../../handler/queue/consumer.ts";
import { WorkerRegistry, listWorkers } from "../../handler/queue/registry.ts";
import { VoiceQueue } from "../../handler/queue/queue.ts";
import { createUpstashClient } from "../../handler/queue/redis.ts";
import { Secret } from "../../handler/config/secret.ts";
import { WorkerError } from "../../handler/errors.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { captureLines } from "../helpers/log-capture.ts";
import { fakeClock, queueOn, testPolicy, urlJob } from "../helpers/queue.ts";

/** Polls `check` until it holds; fails after `ms` (a deadline, never a sleep that decides). */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(async () => {
  await stack.stop();
});

const silent = createLogger({ level: "silent" });

function consumerFor(q: VoiceQueue, handler: JobHandler, id = "w", opts: { extendEveryMs?: number; log?: ReturnType<typeof createLogger> } = {}) {
  const registry = new WorkerRegistry(q, { id, mode: "queue", version: "test" }, 30_000);
  return {
    registry,
    consumer: new QueueConsumer(q, registry, handler, { idleMinMs: 5, idleMaxMs: 20, log: opts.log ?? silent, extendEveryMs: opts.extendEveryMs }),
  };
}

describe("queue consumer", () => {
  it("2 concurrent consumers x 200 jobs: every job completed exactly once, no double claim", { timeout: 150_000 }, async () => {
    const producer = queueOn(stack);
    const prefix = producer.prefix.slice(1, -2);
    const ids = Array.from({ length: 200 }, (_, i) => `job-${i}`);
    for (const id of ids) await producer.enqueue(urlJob(id), { id });
    const runs = new Map<string, number>();
    const handler: JobHandler = async (job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await sleep(Math.random() * 2);
      return { echo: job.payload.input.audio };
    };
    // Two consumers, each with its own Upstash client, as two worker processes would have.
    const clients = [0, 1].map(
      () =>
        new VoiceQueue(
          createUpstashClient({ url: stack.env.UPSTASH_REDIS_REST_URL, token: new Secret(stack.env.UPSTASH_REDIS_REST_TOKEN), timeoutMs: 5000 }),
          prefix,
          testPolicy,
        ),
    );
    const stop = new AbortController();
    const workers = clients.map((q, i) => consumerFor(q, handler, `w${i}`).consumer);
    const running = workers.map((c) => c.run(stop.signal));
    const admin = new QueueAdmin(producer);
    await until(async () => (await admin.stats()).done_total >= 200, "200 jobs done", 120_000);
    stop.abort();
    await Promise.all(running);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(runs.size).toBe(200);
    const s = await admin.stats();
    expect(s).toMatchObject({ done_total: 200, queued: 0, active: 0, retrying: 0, dead: 0, failed: 0 });
    for (const id of ["job-0", "job-199"]) expect(await admin.result(id)).toEqual({ echo: `https://example.com/voice-${id}.ogg` });
  });

  it("a payload that is not JSON or fails the schema goes to the dead letter as invalid_job; the consumer goes on", async () => {
    const q = queueOn(stack);
    // Written straight into the queue, as a foreign producer might.
    await q.enqueue("{not json", { id: "garbage" }).catch(() => undefined);
    await q.redis.hset(`${q.prefix}job:garbage`, { payload: "{not json" });
    await q.enqueue({ input: { audio: "https://x/a.ogg", audio_base64: "AAAA" } }, { id: "two-sources" });
    await q.enqueue({ nope: true }, { id: "no-input" });
    await q.enqueue(urlJob(1), { id: "good" });
    const seen: string[] = [];
    const { consumer } = consumerFor(q, async (job) => void seen.push(job.id));
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await consumer.processNext());
    expect(outcomes.map((o) => [o.id, o.outcome])).toEqual([
      ["garbage", "failed"],
      ["two-sources", "failed"],
      ["no-input", "failed"],
      ["good", "done"],
    ]);
    expect(seen).toEqual(["good"]);
    const dead = await new QueueAdmin(q).deadLetter();
    expect(dead.every((d) => d.last_error?.code === "invalid_job")).toBe(true);
    expect(dead.find((d) => d.id === "two-sources")?.last_error?.message).toMatch(/exactly one of audio/);
  });

  it("a handler error is recorded with its code: retryable waits for a retry, permanent fails at once", async () => {
    const q = queueOn(stack);
    await q.enqueue(urlJob(1), { id: "net" });
    await q.enqueue(urlJob(2), { id: "perm" });
    const { consumer, registry } = consumerFor(q, async (job) => {
      throw job.id === "net"
        ? new WorkerError("download_timeout", "timed out", { retryable: true })
        : new WorkerError("no_audio_stream", "video only", { retryable: false });
    });
    expect((await consumer.processNext()).outcome).toBe("retrying");
    expect((await consumer.processNext()).outcome).toBe("failed");
    const admin = new QueueAdmin(q);
    expect((await admin.status("net"))?.last_error).toEqual({ code: "download_timeout", message: "timed out", retryable: true });
    expect(registry.record.jobs_failed).toBe(2);
  });

  it("a consumer that loses its lease abandons the job (signal aborted), its late result is not stored", async () => {
    const q = queueOn(stack, { policy: { leaseMs: 1200 } });
    await q.enqueue(urlJob(1), { id: "stolen" });
    let aborted = false;
    let markStarted = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const { consumer } = consumerFor(
      q,
      async (_job, ctx) => {
        markStarted();
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => ((aborted = true), resolve())));
        return { text: "late" };
      },
      "slow-worker",
      { extendEveryMs: 400 },
    );
    const run = consumer.processNext();
    await started;
    // Another worker takes the job over (as after an expiry) by rewriting the lease token.
    await q.redis.hset(`${q.prefix}job:stolen`, { lease_token: "someone-else" });
    const r = await run;
    expect(aborted).toBe(true);
    expect(r.outcome).toBe("abandoned");
    expect(await new QueueAdmin(q).result("stolen")).toBeNull();
  });

  it("survives an unreachable Upstash: typed error, backoff, no crash, and no job lost", async () => {
    const q = queueOn(stack);
    await q.enqueue(urlJob(1), { id: "kept" });
    const down = new VoiceQueue(createUpstashClient({ url: "http://127.0.0.1:9", token: new Secret("x"), timeoutMs: 300 }), "down", testPolicy);
    const { consumer } = consumerFor(down, async () => ({}));
    const err = await consumer.processNext().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).code).toBe("queue_unavailable");
    expect((err as WorkerError).retryable).toBe(true);
    const lines = captureLines();
    const { consumer: looping } = consumerFor(down, async () => ({}), "w", { log: createLogger({ destination: lines }) });
    const stop = new AbortController();
    const run = looping.run(stop.signal);
    await until(() => /queue unavailable; backing off/.test(lines.text()), "the backoff log line");
    stop.abort();
    await expect(run).resolves.toMatchObject({ done: 0 });
    expect(lines.text()).toMatch(/queue unavailable; backing off/);
    expect((await new QueueAdmin(q).status("kept"))?.state).toBe("queued");
  });

  it("keeps the worker registry: the record rides along with claims and expires with its TTL", async () => {
    const q = queueOn(stack);
    // The registry's clock decides when the record is due; Redis's own TTL decides when it expires.
    const clock = fakeClock();
    const registry = new WorkerRegistry(
      q,
      { id: "gpu-worker-1", mode: "queue", version: "1.2.3", device: "cuda", compute_type: "float16" },
      200,
      async () => ({ name: "NVIDIA H100 80GB HBM3", memory_used_mb: 1024, memory_total_mb: 81559, utilization_pct: 12 }),
      clock.now,
    );
    await registry.heartbeat(true);
    const [w] = await listWorkers(q);
    expect(w).toMatchObject({
      id: "gpu-worker-1",
      device: "cuda",
      compute_type: "float16",
      version: "1.2.3",
      gpu: { name: "NVIDIA H100 80GB HBM3", memory_total_mb: 81559 },
    });
    expect(registry.piggyback()).toBe(""); // written just now: nothing to carry
    clock.advance(250);
    const carried = registry.piggyback();
    expect(carried).not.toBe("");
    await q.claim("gpu-worker-1", { workerRecord: carried, workerTtlMs: registry.ttlMs });
    const [after] = await listWorkers(q);
    expect(after?.updated_at).toBe(clock.now()); // the claim wrote the record
    const ttl = await q.redis.pttl(`${q.prefix}worker:gpu-worker-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(registry.ttlMs); // 3 intervals
    // Nothing writes it again: it is gone once that TTL has run out (polled, not slept).
    await until(async () => (await listWorkers(q)).length === 0, "the record to expire");
    expect(await q.redis.zcard(`${q.prefix}workers`)).toBe(0); // the forgotten id was pruned too
  });
});

describe("prefetch and draining", () => {
  it("prepares the next job while the current one executes, and drains until empty", async () => {
    const q = queueOn(stack);
    for (const id of ["a", "b", "c"]) await q.enqueue(urlJob(id), { id });
    const events: string[] = [];
    const prepared = new Map<string, () => void>();
    const preparing = (id: string) => new Promise<void>((resolve) => prepared.set(id, resolve));
    const waits = { a: preparing("b"), b: preparing("c") } as Record<string, Promise<void> | undefined>;
    const handler = {
      async prepare(job: { id: string }) {
        events.push(`prepare ${job.id}`);
        prepared.get(job.id)?.();
        return job.id.toUpperCase();
      },
      async execute(job: { id: string }, value: unknown) {
        events.push(`execute ${job.id} start`);
        // Finishes only once the next job is being prepared (or after 20 s, when the order check fails).
        await Promise.race([waits[job.id] ?? Promise.resolve(), sleep(20_000)]);
        events.push(`execute ${job.id} end`);
        return { prepared: value };
      },
    };
    const { consumer } = consumerFor(q, handler);
    const counts = await consumer.run(new AbortController().signal, { untilEmpty: true });
    expect(counts.done).toBe(3);
    // b is prepared while a executes, c while b executes.
    expect(events.indexOf("prepare b")).toBeLessThan(events.indexOf("execute a end"));
    expect(events.indexOf("prepare c")).toBeLessThan(events.indexOf("execute b end"));
    expect(await new QueueAdmin(q).result("b")).toEqual({ prepared: "B" });
  });

  it("on shutdown finishes the running job and hands the prefetched one back without counting it", async () => {
    const q = queueOn(stack);
    for (const id of ["first", "second"]) await q.enqueue(urlJob(id), { id });
    const stop = new AbortController();
    let secondPrepared = () => {};
    const prefetched = new Promise<void>((resolve) => (secondPrepared = resolve));
    const handler = {
      prepare: async (job: { id: string }) => void (job.id === "second" && secondPrepared()),
      async execute(job: { id: string }) {
        if (job.id === "first") {
          await Promise.race([prefetched, sleep(20_000)]);
          stop.abort(); // SIGTERM arrives while "first" runs and "second" is prefetched
        }
        return { ok: job.id };
      },
    };
    const { consumer } = consumerFor(q, handler);
    const counts = await consumer.run(stop.signal);
    expect(counts).toMatchObject({ done: 1, handed_back: 1 });
    const admin = new QueueAdmin(q);
    expect((await admin.status("first"))?.state).toBe("done");
    expect(await admin.status("second")).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("stops at max_jobs when draining", async () => {
    const q = queueOn(stack);
    for (let i = 0; i < 5; i++) await q.enqueue(urlJob(i), { id: `m${i}` });
    const { consumer } = consumerFor(q, async () => ({}));
    const counts = await consumer.run(new AbortController().signal, { untilEmpty: true, maxJobs: 2 });
    expect(counts.done).toBe(2);
    expect((await new QueueAdmin(q).stats()).queued).toBe(3);
  });
});

describe("billed Upstash commands (counted at the REST server)", () => {
  it("a successful job costs at most 4 commands; an idle hour at maximum backoff at most 400", async () => {
    const q = queueOn(stack);
    await q.enqueue(urlJob(0), { id: "warm" }); // loads the scripts once (EVALSHA + EVAL fallback)
    const { consumer } = consumerFor(q, async () => ({ ok: true }));
    await consumer.processNext();
    await consumer.processNext();

    const counter = stack.rest.counter;
    counter.reset();
    const jobs = 20;
    for (let i = 0; i < jobs; i++) await q.enqueue(urlJob(i), { id: `b${i}` });
    for (let i = 0; i < jobs; i++) expect((await consumer.processNext()).outcome).toBe("done");
    const perJob = counter.total / jobs;

    counter.reset();
    const polls = 10;
    for (let i = 0; i < polls; i++) expect((await consumer.processNext()).outcome).toBeNull();
    const perPoll = counter.total / polls;
    const idleMaxMs = 10_000; // IDLE_POLL_MAX_MS default
    const perIdleHour = (3_600_000 / idleMaxMs) * perPoll;
    console.info(`[billing] commands per job: ${perJob}; per idle poll: ${perPoll}; per idle hour at ${idleMaxMs} ms: ${perIdleHour}`);
    expect(perJob).toBeLessThanOrEqual(4);
    expect(perIdleHour).toBeLessThanOrEqual(400);
  });
});
