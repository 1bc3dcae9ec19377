// The dashboard's read-only queue views (handler/queue/views.ts and its Lua scripts) on a real
// redis-server behind the Upstash-compatible REST server: each is one command, never writes,
// and agrees with a model of the queue for every filter.
import fc from "fast-check";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueAdmin } from "../../handler/queue/admin.ts";
import { PRIORITIES } from "../../handler/queue/job.ts";
import { WorkerRegistry } from "../../handler/queue/registry.ts";
import { QueueViews, type ListState } from "../../handler/queue/views.ts";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { fakeClock, queueOn, urlJob } from "../helpers/queue.ts";
import { settle } from "./helpers.ts";
import { workerRows } from "../../handler/dashboard/reads.ts";
import type { WorkerRecord } from "../../handler/queue/registry.ts";

let stack: LocalStack;
let raw: IORedis;
beforeAll(async () => {
  stack = await startLocalStack();
  raw = new IORedis({ host: stack.redis.host, port: stack.redis.port, protocol: 2 });
});
afterAll(async () => {
  raw.disconnect();
  await stack.stop();
});

/** Redis's own count of writes since start: any write by a view would move it. */
async function writesSoFar(): Promise<number> {
  const info = await raw.info("persistence");
  return Number(/rdb_changes_since_last_save:(\d+)/.exec(info)?.[1]);
}

describe("overview view", () => {
  it("counts completions and dead-lettered jobs into their minute over the last hour, the last bucket being the current minute (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            minutesAgo: fc.integer({ min: 0, max: 70 }),
            ms: fc.oneof(fc.constantFrom(0, 1, 59_999), fc.integer({ min: 0, max: 59_999 })),
            fate: fc.constantFrom("done" as const, "failed" as const),
          }),
          { maxLength: 8 },
        ),
        async (events) => {
          const end = 1_763_800_000_000 + 123_456; // not on a minute boundary
          const clock = fakeClock(end - 71 * 60_000);
          const q = queueOn(stack, { now: clock.now, policy: { maxAttempts: 1 } });
          const at = (e: (typeof events)[number]) => end - (end % 60_000) - e.minutesAgo * 60_000 + e.ms;
          const timed = events.map((e, i) => ({ ...e, at: Math.min(at(e), end), id: `e${i}` })).sort((a, b) => a.at - b.at);
          for (const e of timed) {
            clock.advance(e.at - clock.now());
            await settle(q, clock.now, e.id, e.fate);
          }
          clock.advance(end - clock.now());
          const v = await new QueueViews(q, clock.now).overview(["series"]);
          const first = end - (end % 60_000) - 59 * 60_000;
          const model = (fate: string) =>
            Array.from({ length: 60 }, (_, i) => timed.filter((e) => e.fate === fate && e.at >= first + i * 60_000 && e.at < first + (i + 1) * 60_000).length);
          expect(v.series?.first_minute).toBe(first);
          expect(v.series?.done).toEqual(model("done"));
          expect(v.series?.failed).toEqual(model("failed"));
        },
      ),
      { numRuns: 12 },
    );
  });

  it("lists workers with the stage and progress of the job each holds; an expired record stays listed as gone and nothing is pruned", async () => {
    const q = queueOn(stack);
    const busy = new WorkerRegistry(q, { id: "w-busy", mode: "queue", version: "t", device: "cuda", compute_type: "float16" }, 60_000);
    const fading = new WorkerRegistry(
      q,
      { id: "w-fading", mode: "queue", version: "t", device: "cpu", compute_type: "int8", fallback_reason: "no_driver: nvidia-smi not found" },
      100,
    );
    await q.enqueue(urlJob(1), { id: "held" });
    await q.enqueue(urlJob(2), { id: "prefetched" });
    const c = (await q.claim("w-busy")).job!;
    busy.jobStarted("held");
    await q.extendLease(c, { stage: "transcribe", progress: 0.5 });
    await new Promise((r) => setTimeout(r, 5));
    await q.claim("w-busy"); // the one-job prefetch: the next job is claimed while this one runs
    await busy.heartbeat(true);
    await fading.heartbeat(true); // its record lives 3 x 100 ms
    const views = new QueueViews(q);
    const first = await views.overview(["workers"]);
    expect(first.workers?.map((w) => w.id).sort()).toEqual(["w-busy", "w-fading"]);
    const b = first.workers!.find((w) => w.id === "w-busy")!;
    expect(b.record).toMatchObject({ device: "cuda", compute_type: "float16", current_job: "held" });
    expect(b.jobs).toEqual([
      { id: "held", stage: "transcribe", progress: 0.5, attempts: 1, claimed_at: expect.any(Number) as number },
      { id: "prefetched", stage: "claimed", progress: 0, attempts: 1, claimed_at: expect.any(Number) as number },
    ]);
    expect(first.workers!.find((w) => w.id === "w-fading")!.jobs).toEqual([]);
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      if ((await q.redis.exists(`${q.prefix}worker:w-fading`)) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await writesSoFar();
    const later = await views.overview(["workers"]);
    expect(later.workers?.find((w) => w.id === "w-fading")).toMatchObject({ record: null });
    expect(later.workers_total).toBe(2);
    expect(await writesSoFar()).toBe(before);
  });

  it("groups the dead letter by error code, newest first, dead and failed counted apart", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    const plan: Array<[string, "failed" | "dead", string]> = [
      ["a", "failed", "unsupported_format"],
      ["b", "dead", "download_timeout"],
      ["c", "failed", "unsupported_format"],
      ["d", "dead", "unsupported_format"],
    ];
    for (const [id, fate, code] of plan) {
      clock.advance(1000);
      await settle(q, clock.now, id, fate, { code });
    }
    const v = await new QueueViews(q, clock.now).overview(["dead"]);
    expect(v.dead_letter).toMatchObject({ total: 4, scanned: 4 });
    expect(v.dead_letter!.groups).toEqual([
      expect.objectContaining({ code: "unsupported_format", count: 3, failed: 2, dead: 1, newest_id: "d", message: "unsupported_format happened" }),
      expect.objectContaining({ code: "download_timeout", count: 1, failed: 0, dead: 1, retryable: true }),
    ]);
    expect(v.dead_letter!.groups[0]!.newest_at - v.dead_letter!.groups[0]!.oldest_at).toBe(3000);
  });
});

describe("job list view", () => {
  it("agrees with a model of the queue for every state and filter, paging by next_offset (property)", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    const fates = ["queued", "done", "failed", "dead", "retrying", "active"] as const;
    const codes = ["download_failed", "unsupported_format", "llm_timeout"];
    const jobs = Array.from({ length: 36 }, (_, i) => ({
      id: `job-${i}${i % 5 === 0 ? "-urgent" : ""}`,
      fate: fates[i % 6]!,
      priority: PRIORITIES[i % 3]!,
      code: codes[i % 3]!,
    }));
    for (const j of jobs) {
      clock.advance(10);
      await settle(q, clock.now, j.id, j.fate, { code: j.code, priority: j.priority });
    }
    const views = new QueueViews(q, clock.now);
    const states: ListState[] = ["queued", "active", "retrying", "done", "failed", "dead", "dead_letter"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...states),
        fc.option(fc.constantFrom(...PRIORITIES), { nil: undefined }),
        fc.option(fc.constantFrom(...codes), { nil: undefined }),
        fc.option(fc.constantFrom("urgent", "JOB-1", "zzz"), { nil: undefined }),
        fc.integer({ min: 1, max: 7 }),
        async (state, priority, code, text, limit) => {
          const want = jobs
            .filter((j) => (state === "dead_letter" ? j.fate === "dead" || j.fate === "failed" : j.fate === state))
            .filter((j) => (priority ? j.priority === priority : true))
            .filter((j) => (code ? j.fate !== "queued" && j.fate !== "done" && j.fate !== "active" && j.code === code : true))
            .filter((j) => (text ? j.id.toLowerCase().includes(text.toLowerCase()) : true));
          const got: string[] = [];
          let offset = 0;
          for (let pages = 0; pages < 50; pages++) {
            const page = await views.jobs({ state, priority, code, text, offset, limit });
            expect(page.rows.length).toBeLessThanOrEqual(limit);
            got.push(...page.rows.map((r) => r.id));
            if (page.next_offset >= page.total) break;
            offset = page.next_offset;
          }
          expect([...got].sort()).toEqual(want.map((j) => j.id).sort());
        },
      ),
      { numRuns: 40 },
    );
  });

  it("orders the dead letter and completions newest first, waiting jobs in the order they run", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    for (const [id, fate, priority] of [
      ["d1", "done", "normal"],
      ["f1", "failed", "normal"],
      ["d2", "done", "normal"],
      ["f2", "failed", "normal"],
      ["low", "queued", "low"],
      ["high", "queued", "high"],
    ] as const) {
      clock.advance(1000);
      await settle(q, clock.now, id, fate, { priority });
    }
    const views = new QueueViews(q, clock.now);
    expect((await views.jobs({ state: "done" })).rows.map((r) => r.id)).toEqual(["d2", "d1"]);
    expect((await views.jobs({ state: "dead_letter" })).rows.map((r) => r.id)).toEqual(["f2", "f1"]);
    expect((await views.jobs({ state: "queued" })).rows.map((r) => r.id)).toEqual(["high", "low"]);
  });
});

describe("job view", () => {
  it("gives status, payload, result and the stored audio's size and lifetime; the audio itself; null for an unknown job", async () => {
    const q = queueOn(stack);
    const audio = Buffer.from("RIFF\u0000\u0000\u0000\u0000WAVEfmt some bytes");
    await q.enqueueWithAudio({ language: "de" }, audio, { id: "with-audio" });
    const views = new QueueViews(q);
    const v = await views.job("with-audio");
    expect(v.status).toMatchObject({ id: "with-audio", state: "queued", attempts: 0 });
    const payload = JSON.parse(v.payload!) as { input: { language: string; audio_key: string } };
    expect(payload.input.language).toBe("de");
    expect(payload.input.audio_key).toContain("audio:with-audio:");
    expect(v.audio).toMatchObject({ stored: true, base64_chars: audio.toString("base64").length });
    expect(v.audio.ttl_ms).toBeGreaterThan(3_000_000);
    expect(await views.audio("with-audio")).toEqual(audio);

    const c = (await q.claim("w")).job!;
    await q.complete(c, { transcription: "hello" });
    const done = await views.job("with-audio");
    expect(done.status?.state).toBe("done");
    expect(JSON.parse(done.result!)).toEqual({ transcription: "hello" });
    expect(done.audio.stored).toBe(false); // complete.lua deletes the stored bytes
    expect(await views.audio("with-audio")).toBeNull();
    expect(await views.job("nope")).toMatchObject({ status: null, payload: null, result: null, audio: { stored: false } });
  });
});

describe("views cost one command each and never write", () => {
  it("every view is one EVALSHA_RO once the scripts are loaded, and Redis records no write", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    for (const [id, fate] of [
      ["x1", "done"],
      ["x2", "failed"],
      ["x3", "queued"],
    ] as const) {
      clock.advance(1000);
      await settle(q, clock.now, id, fate);
    }
    const views = new QueueViews(q, clock.now);
    const all = () => Promise.all([views.overview(), views.jobs({ state: "dead_letter", code: "download_failed" }), views.job("x2"), views.audio("x3")]);
    await all(); // loads the scripts (a NOSCRIPT answer, then EVAL_RO, the first time on a fresh server)
    const writes = await writesSoFar();
    stack.rest.counter.reset();
    await all();
    expect(stack.rest.counter.snapshot()).toMatchObject({ total: 4, byName: { EVALSHA_RO: 4 } });
    expect(await writesSoFar()).toBe(writes);
  });

  it("purgeDead deletes only jobs still in the dead letter, and the counters follow", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    for (const [id, fate] of [
      ["p1", "failed"],
      ["p2", "dead"],
      ["p3", "done"],
      ["p4", "failed"],
    ] as const) {
      clock.advance(1000);
      await settle(q, clock.now, id, fate);
    }
    const admin = new QueueAdmin(q, clock.now);
    const views = new QueueViews(q, clock.now);
    expect(await views.purgeDead(["p1", "p2", "p3", "unknown"])).toBe(2);
    expect(await admin.status("p3")).toMatchObject({ state: "done" });
    expect(await admin.status("p1")).toBeNull();
    expect(await admin.stats()).toMatchObject({ failed: 1, dead: 0, done_total: 1 });
    expect((await views.jobs({ state: "dead_letter" })).rows.map((r) => r.id)).toEqual(["p4"]);
  });
});

describe("worker rows", () => {
  const record = (id: string, updatedAt: number, more: Partial<WorkerRecord> = {}): WorkerRecord => ({
    id,
    host: "h",
    mode: "queue",
    device: "cpu",
    compute_type: "int8",
    fallback_reason: null,
    gpu: null,
    current_job: null,
    jobs_done: 0,
    jobs_failed: 0,
    started_at: 0,
    updated_at: updatedAt,
    version: "t",
    ...more,
  });
  it("live within 2 heartbeats, stale past them, gone once the record expired (shown for an hour); CPU fallback first; held jobs kept", () => {
    const now = 10_000_000;
    const held = [{ id: "j1", stage: "transcribe", progress: 0.4 }];
    const { rows, hidden } = workerRows(
      [
        { id: "a-live", seen_at: now - 1000, record: record("a-live", now - 1000), jobs: held },
        { id: "d-stale", seen_at: now - 61_000, record: record("d-stale", now - 61_000), jobs: [] },
        { id: "e-gone", seen_at: now - 100_000, record: null, jobs: [{ id: "j9", stage: "decode" }] },
        { id: "f-long-gone", seen_at: now - 3_700_000, record: null, jobs: [] },
        { id: "g-fallback", seen_at: now - 2000, record: record("g-fallback", now - 2000, { fallback_reason: "no_gpu: none" }), jobs: [] },
      ],
      now,
      30_000,
    );
    expect(rows.map((r) => [r.id, r.health])).toEqual([
      ["g-fallback", "live"],
      ["a-live", "live"],
      ["d-stale", "stale"],
      ["e-gone", "gone"],
    ]);
    expect(hidden).toBe(1);
    const by = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(by["a-live"]!.jobs).toEqual(held);
    expect(by["e-gone"]!.jobs).toEqual([{ id: "j9", stage: "decode" }]); // a crashed worker's job, until its lease runs out
    expect(by["d-stale"]!.heartbeat_age_ms).toBe(61_000);
  });
});
