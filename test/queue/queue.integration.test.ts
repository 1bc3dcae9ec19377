import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { QueueAdmin } from "../../handler/queue/admin.ts";
import { retryDelayMs } from "../../handler/queue/backoff.ts";
import { fakeClock, queueOn, urlJob } from "../helpers/queue.ts";

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(async () => {
  await stack.stop();
});

describe("voice queue operations", () => {
  it("enqueue is idempotent by job id", async () => {
    const q = queueOn(stack);
    const a = await q.enqueue(urlJob(1), { id: "job-1" });
    const b = await q.enqueue(urlJob(999), { id: "job-1" });
    expect(a).toMatchObject({ created: true, state: "queued" });
    expect(b).toMatchObject({ created: false, state: "queued", id: "job-1" });
    const first = await q.claim("w1");
    expect(JSON.parse(first.job!.rawPayload)).toEqual(urlJob(1));
    expect((await q.claim("w1")).job).toBeNull();
  });

  it("refuses a payload over the Upstash request limit as a permanent error, storing nothing", async () => {
    const q = queueOn(stack);
    const err = await q.enqueue({ input: { audio_base64: "A".repeat(11 * 2 ** 20) } }, { id: "huge" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "payload_too_large", retryable: false });
    expect(await new QueueAdmin(q).status("huge")).toBeNull();
  });

  it("claims by priority, FIFO within a priority", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    for (const [id, priority] of [
      ["l1", "low"],
      ["n1", "normal"],
      ["h1", "high"],
      ["n2", "normal"],
      ["h2", "high"],
    ] as const) {
      await q.enqueue(urlJob(id), { id, priority });
      clock.advance(5);
    }
    const order: string[] = [];
    for (;;) {
      const c = await q.claim("w");
      if (!c.job) break;
      order.push(c.job.id);
    }
    expect(order).toEqual(["h1", "h2", "n1", "n2", "l1"]);
  });

  it("FIFO inside a priority follows arrival order, also for jobs enqueued in the same millisecond or from a clock that runs behind", async () => {
    // A sorted set orders equal scores by member: with scores at millisecond resolution, two
    // jobs enqueued in one millisecond were claimed in id order ("good" before "no-input").
    const ids = fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/), { minLength: 2, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        ids.chain((list) =>
          fc.tuple(
            fc.constant(list),
            fc.array(fc.constantFrom("high", "normal", "low"), { minLength: list.length, maxLength: list.length }),
            fc.array(fc.constantFrom(0, 0, 0, 1, -3), { minLength: list.length, maxLength: list.length }),
          ),
        ),
        async ([list, priorities, steps]) => {
          const clock = fakeClock();
          const q = queueOn(stack, { now: clock.now });
          for (const [i, id] of list.entries()) {
            await q.enqueue(urlJob(id), { id, priority: priorities[i] });
            clock.advance(steps[i]!);
          }
          const rank = { high: 0, normal: 1, low: 2 } as const;
          const expected = list
            .map((id, i) => ({ id, r: rank[priorities[i]!] }))
            .sort((a, b) => a.r - b.r)
            .map((j) => j.id);
          const order: string[] = [];
          for (let c = await q.claim("w"); c.job; c = await q.claim("w")) order.push(c.job.id);
          expect(order).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a replayed claim (same token) returns the same job, never a second one", async () => {
    const q = queueOn(stack);
    await q.enqueue(urlJob(1), { id: "a" });
    await q.enqueue(urlJob(2), { id: "b" });
    const first = await q.claim("w", { token: "tok-1" });
    const replay = await q.claim("w", { token: "tok-1" });
    expect(replay.job?.id).toBe(first.job?.id);
    expect(replay.job?.attempt).toBe(1);
    const other = await q.claim("w", { token: "tok-2" });
    expect(other.job?.id).not.toBe(first.job?.id);
    expect((await new QueueAdmin(q).stats()).active).toBe(2);
  });

  it("re-delivers a job whose lease expired; the stale holder's complete is refused", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now });
    await q.enqueue(urlJob(1), { id: "slow" });
    const a = (await q.claim("worker-a")).job!;
    expect((await q.extendLease(a, { stage: "transcribe", progress: 0.5 })).ok).toBe(true);
    expect((await q.claim("worker-b")).job).toBeNull(); // still leased
    clock.advance(q.policy.leaseMs + 1);
    const b = (await q.claim("worker-b")).job!;
    expect(b.id).toBe("slow");
    expect(b.attempt).toBe(2);
    expect(await q.extendLease(a, { stage: "transcribe", progress: 0.9 })).toMatchObject({ ok: false, reason: "lease_lost" });
    expect(await q.complete(a, { text: "stale" })).toMatchObject({ ok: false, reason: "lease_lost" });
    expect(await q.complete(b, { text: "fresh" })).toEqual({ ok: true });
    expect(await q.complete(b, { text: "fresh" })).toEqual({ ok: true, duplicate: true }); // replay is harmless
    const admin = new QueueAdmin(q);
    expect(await admin.result("slow")).toEqual({ text: "fresh" });
    expect((await admin.status("slow"))?.last_error?.code).toBe("lease_expired");
  });

  it("retries with exponential backoff and jitter, then dead-letters after MAX_ATTEMPTS", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now, random: () => 0.5, policy: { maxAttempts: 3, retryBaseMs: 1000 } });
    const admin = new QueueAdmin(q);
    await q.enqueue(urlJob(1), { id: "flaky" });
    const err = { code: "download_failed", message: "HTTP 503", retryable: true };
    for (const attempt of [1, 2]) {
      const job = (await q.claim("w")).job!;
      expect(job.attempt).toBe(attempt);
      const r = await q.fail(job, err);
      const expected = retryDelayMs(attempt, 1000, 60_000, () => 0.5); // 750, then 1500
      expect(r).toMatchObject({ ok: true, outcome: "retrying", not_before: clock.now() + expected });
      expect((await admin.status("flaky"))?.state).toBe("retrying");
      clock.advance(expected - 1);
      expect((await q.claim("w")).job).toBeNull(); // not before its time
      clock.advance(1);
    }
    const last = (await q.claim("w")).job!;
    expect(last.attempt).toBe(3);
    expect(await q.fail(last, err)).toMatchObject({ ok: true, outcome: "dead" });
    const dead = await admin.deadLetter();
    expect(dead.map((d) => [d.id, d.state, d.last_error?.code])).toEqual([["flaky", "dead", "download_failed"]]);
    expect(await q.fail(last, err)).toMatchObject({ ok: true, duplicate: true, outcome: "dead" });
  });

  it("backoff delays grow exponentially within the jitter bounds and respect the cap", () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const exp = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      expect(retryDelayMs(attempt, 1000, 60_000, () => 0)).toBe(exp / 2);
      expect(retryDelayMs(attempt, 1000, 60_000, () => 1)).toBe(exp);
    }
  });

  it("a permanent error goes to the dead letter at once, as failed", async () => {
    const q = queueOn(stack);
    await q.enqueue(urlJob(1), { id: "bad-audio" });
    const job = (await q.claim("w")).job!;
    expect(await q.fail(job, { code: "unsupported_format", message: "not audio", retryable: false })).toMatchObject({ outcome: "failed" });
    const s = await new QueueAdmin(q).stats();
    expect(s).toMatchObject({ failed: 1, dead: 0, queued: 0, retrying: 0, active: 0 });
  });

  it("hand back on shutdown returns the job to the queue without counting the attempt", async () => {
    const q = queueOn(stack);
    await q.enqueue(urlJob(1), { id: "r" });
    const first = (await q.claim("w")).job!;
    expect(await q.handBack(first)).toEqual({ ok: true });
    const again = (await q.claim("w")).job!;
    expect(again.id).toBe("r");
    expect(again.attempt).toBe(1);
  });

  it("operator retry requeues dead-lettered jobs with a fresh attempt count", async () => {
    const q = queueOn(stack, { policy: { maxAttempts: 1 } });
    const admin = new QueueAdmin(q);
    await q.enqueue(urlJob(1), { id: "d1" });
    await q.enqueue(urlJob(2), { id: "d2" });
    for (let i = 0; i < 2; i++) await q.fail((await q.claim("w")).job!, { code: "x", message: "y", retryable: true });
    expect((await admin.stats()).dead).toBe(2);
    expect(await admin.retryAllDead()).toBe(2);
    const s = await admin.stats();
    expect(s).toMatchObject({ dead: 0, queued: 2 });
    expect((await q.claim("w")).job?.attempt).toBe(1);
  });

  it("a bad job id is refused before any audio goes up: no orphaned audio key", async () => {
    const q = queueOn(stack);
    for (const id of ["", "bad id", "x".repeat(129), "a/b"]) {
      const err = await q.enqueueWithAudio({}, Buffer.from("OggS bytes"), { id }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "invalid_job_id", retryable: false });
    }
    expect(await q.redis.keys(`${q.prefix}*`)).toEqual([]);
  });

  it("stores pushed audio bytes (in pieces under the request limit) and hands them to the claimer", async () => {
    const q = queueOn(stack);
    const bytes = Buffer.alloc(9 * 1024 * 1024, 7); // base64 > 10 MB: must go up in pieces
    bytes.write("OggS", 0);
    await q.enqueueWithAudio({ language: "de" }, bytes, { id: "big" });
    const job = (await q.claim("w")).job!;
    expect(Buffer.from(job.audioBase64!, "base64").equals(bytes)).toBe(true);
    const input = (JSON.parse(job.rawPayload) as { input: { audio_key: string; language: string } }).input;
    expect(input.language).toBe("de");
    await q.complete(job, { ok: 1 });
    expect(await q.redis.exists(input.audio_key)).toBe(0); // audio removed once the job is done
  });

  it("re-pushing a known id keeps the existing job's audio and leaves no second copy", async () => {
    const q = queueOn(stack);
    await q.enqueueWithAudio({}, Buffer.from("first voice message"), { id: "same" });
    const again = await q.enqueueWithAudio({}, Buffer.from("a different file"), { id: "same" });
    expect(again).toMatchObject({ created: false, state: "queued" });
    const job = (await q.claim("w")).job!;
    expect(Buffer.from(job.audioBase64!, "base64").toString()).toBe("first voice message");
    expect(await q.redis.keys(`${q.prefix}audio:*`)).toHaveLength(1);
  });

  it("keeps dead-letter counts right through lease expiry, retry and purge", async () => {
    const clock = fakeClock();
    const q = queueOn(stack, { now: clock.now, policy: { maxAttempts: 1 } });
    const admin = new QueueAdmin(q);
    await q.enqueue(urlJob(1), { id: "crashed" });
    clock.advance(1);
    await q.enqueue(urlJob(2), { id: "bad" });
    await q.claim("w"); // "crashed": its worker dies holding it
    await q.fail((await q.claim("w")).job!, { code: "unsupported_format", message: "x", retryable: false });
    clock.advance(q.policy.leaseMs + 1);
    await q.claim("w"); // returns the expired lease: out of attempts -> dead
    expect(await admin.stats()).toMatchObject({ dead: 1, failed: 1, active: 0 });
    expect((await admin.status("crashed"))?.last_error?.code).toBe("lease_expired");
    expect(await admin.retry(["bad"])).toBe(1);
    expect(await admin.stats()).toMatchObject({ dead: 1, failed: 0, queued: 1 });
    expect(await admin.purgeDeadLetter()).toBe(1);
    expect(await admin.stats()).toMatchObject({ dead: 0, failed: 0 });
  });

  it("purges jobs of one state with their records", async () => {
    const q = queueOn(stack);
    const admin = new QueueAdmin(q);
    for (let i = 0; i < 5; i++) await q.enqueue(urlJob(i), { id: `p${i}` });
    expect(await admin.purge("queued")).toBe(5);
    expect(await admin.status("p0")).toBeNull();
    expect((await admin.stats()).queued).toBe(0);
  });
});
