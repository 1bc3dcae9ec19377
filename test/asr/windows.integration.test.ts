// Per-window delivery, what a cancel costs, and the compute budget (issue 13, items 6 and 8),
// with the real sidecar on the 1.2.1 double. The double pays a window's whole cost (every decode
// of its temperature fallback) before the window's first segment, as the real library does.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { CostModel, MIN_BUDGET_MS } from "../../handler/asr/cost.ts";
import { makeHarness, rejection, tone, type Harness } from "./helpers.ts";

const harnesses: Harness[] = [];
function harness(opts: Parameters<typeof makeHarness>[0] = {}): Harness {
  const h = makeHarness(opts);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("segments arrive per 30 s window, after the window's whole cost", () => {
  it("a window's segments come together; a window needing the full fallback costs six decodes first", async () => {
    // 20 ms per audio second per decode: one decode of a 30 s window is 0.6 s.
    const h = harness({
      env: { FAKE_FW_MS_PER_AUDIO_S: "20", FAKE_FW_SEGMENT_S: "10", FAKE_FW_FALLBACK: "all" },
      engine: { cost: { windowMs: { cpu: 5000, cuda: 5000 }, fallbackBudget: 3 } },
    });
    await h.engine.start();
    const arrivals: { id: number; at: number; temperature: number | null }[] = [];
    const t0 = performance.now();
    const r = await h.engine.transcribe({
      requestId: "w1",
      pcm: tone(60),
      durationS: 60,
      options: { language: "en", temperature_increment_on_fallback: 0.2 },
      onSegment: (s) => arrivals.push({ id: s.id, at: performance.now() - t0, temperature: s.temperature }),
    });
    expect(r.compute).toMatchObject({ windows: 2, fallback_capped: false, truncated: false });
    expect(arrivals.map((a) => a.id)).toEqual([1, 2, 3, 4, 5, 6]);
    // Window 1 (segments 1-3) arrives after six decodes (>= 3.6 s), all at once, at the last temperature.
    expect(arrivals[0]!.at).toBeGreaterThan(3400);
    expect(arrivals[2]!.at - arrivals[0]!.at).toBeLessThan(arrivals[3]!.at - arrivals[2]!.at);
    expect(arrivals.every((a) => a.temperature === 1)).toBe(true);
  });
});

describe("cancel costs at most the decode in flight and CANCEL_GRACE_MS (item 6)", () => {
  // One decode of the 30 s window: 1.5 s; the window with full fallback: 9 s.
  const longWindow = { FAKE_FW_MS_PER_AUDIO_S: "50", FAKE_FW_FALLBACK: "all" };

  async function cancelInsideTheWindow(h: Harness) {
    const { pid } = await h.engine.start();
    const ac = new AbortController();
    const job = rejection(h.engine.transcribe({ requestId: "cw", pcm: tone(30), durationS: 30, options: { language: "en" }, signal: ac.signal }));
    // Cancel while a decode is running (before it, the job would just end at once).
    await expect.poll(() => h.decodes().length, { timeout: 15_000, interval: 20 }).toBeGreaterThan(0);
    const t0 = performance.now();
    ac.abort();
    const err = await job;
    return { pid: pid!, err, rejectedAfterMs: performance.now() - t0, t0 };
  }

  it("inside a long window: the fallback stops after the decode in flight; the sidecar stays and keeps its model", async () => {
    const h = harness({ env: longWindow, engine: { timeouts: { startMs: 30_000, loadMs: 30_000, baseMs: 20_000, cancelGraceMs: 4000 } } });
    const { pid, err, t0 } = await cancelInsideTheWindow(h);
    expect(err).toMatchObject({ code: "cancelled", retryable: false });
    // The engine is idle again after at most one decode (1.5 s), far from the window's 9 s.
    await expect.poll(async () => (await h.engine.status()).busy, { timeout: 4000, interval: 50 }).toBeNull();
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(h.engine.info.pid).toBe(pid);
    const next = await h.engine.transcribe({ requestId: "after", pcm: tone(1), durationS: 1, options: { language: "en" } });
    expect(next.model_cached).toBe(true);
  });

  it("when the decode in flight outlasts the grace period: killed at CANCEL_GRACE_MS, restarted with the model loading, the next job pays at most that one load", async () => {
    // One decode of this window (5 s) outlasts the 1 s grace; the reload takes 1.5 s.
    const h = harness({
      env: { FAKE_FW_MS_PER_AUDIO_S: "170", FAKE_FW_FALLBACK: "all", FAKE_FW_LOAD_MS: "1500" },
      engine: { timeouts: { startMs: 30_000, loadMs: 30_000, baseMs: 60_000, cancelGraceMs: 1000 } },
    });
    const { pid, err, rejectedAfterMs, t0 } = await cancelInsideTheWindow(h);
    expect(err).toMatchObject({ code: "cancelled", retryable: false });
    expect(rejectedAfterMs).toBeGreaterThanOrEqual(900);
    expect(rejectedAfterMs).toBeLessThan(3000);
    await expect.poll(() => alive(pid), { timeout: 3000, interval: 20 }).toBe(false); // no more engine time
    expect(performance.now() - t0).toBeLessThan(4000);
    // The restarted sidecar loads the model at once, before any job asks for it.
    await expect.poll(() => h.loads().filter((e) => e.event === "load" && e.pid !== pid).length, { timeout: 15_000, interval: 50 }).toBe(1);
    const next = await h.engine.transcribe({ requestId: "after-kill", pcm: tone(1), durationS: 1, options: { language: "en" } });
    expect(next.model_cached).toBe(true);
    expect(h.loads().filter((e) => e.event === "load" && e.pid !== pid)).toHaveLength(1);
  });
});

describe("the compute budget bounds the fallback's worst case (item 8)", () => {
  it("a noisy single-window message: the fallback stops at the budget, the best result so far is returned and flagged", async () => {
    // One decode of the 10 s clip: 1 s; the full fallback would take 6 s. Estimate 1 s: budget 2 s.
    const h = harness({
      env: { FAKE_FW_MS_PER_AUDIO_S: "100", FAKE_FW_FALLBACK: "all" },
      engine: { cost: { windowMs: { cpu: 1000, cuda: 1000 }, fallbackBudget: 2 } },
    });
    await h.engine.start();
    const t0 = performance.now();
    const r = await h.engine.transcribe({ requestId: "b1", pcm: tone(10), durationS: 10, options: { language: "en" } });
    const took = performance.now() - t0;
    expect(r.compute).toMatchObject({ fallback_capped: true, truncated: false, budget_ms: 2000, transcribed_s: 10 });
    expect(took).toBeLessThan(5000); // the budget plus the decode in flight, not six decodes
    expect(r.segments.length).toBeGreaterThan(0);
    expect(r.segments[0]!.temperature).toBeLessThan(1); // the fallback did not reach its last temperature
  });

  it("a long noisy message: windows after the budget decode once; the transcript is complete", async () => {
    const h = harness({
      env: { FAKE_FW_MS_PER_AUDIO_S: "10", FAKE_FW_FALLBACK: "all" },
      engine: { cost: { windowMs: { cpu: 300, cuda: 300 }, fallbackBudget: 1 } },
    });
    const r = await h.engine.transcribe({ requestId: "b2", pcm: tone(150), durationS: 150, options: { language: "en" } });
    expect(r.compute).toMatchObject({ fallback_capped: true, truncated: false, windows: 5 });
    const temps = [...new Map(r.segments.map((s) => [s.seek, s.temperature])).values()];
    expect(temps[0]).toBeGreaterThan(0); // the first window fell back (its six decodes take 1.8 s, about the 2 s floor)
    expect(temps.at(-1)).toBe(0); // the last ones decoded once
    expect(r.segments.at(-1)!.end).toBe(150);
  });

  it("a device far slower than the cost model: the transcript so far is returned at the deadline, flagged, not killed", async () => {
    const h = harness({
      env: { FAKE_FW_MS_PER_AUDIO_S: "60" },
      engine: { cost: { windowMs: { cpu: 1, cuda: 1 }, fallbackBudget: 1 }, timeouts: { startMs: 30_000, loadMs: 30_000, baseMs: 2500, cancelGraceMs: 3000 } },
    });
    const { pid } = await h.engine.start();
    const r = await h.engine.transcribe({ requestId: "b3", pcm: tone(300), durationS: 300, options: { language: "en" } });
    expect(r.compute.truncated).toBe(true);
    expect(r.compute.transcribed_s).toBeGreaterThan(0);
    expect(r.compute.transcribed_s).toBeLessThan(300);
    expect(r.segments.at(-1)!.end).toBe(r.compute.transcribed_s);
    expect(h.engine.info.pid).toBe(pid);
  });
});

describe("cost model (from the measured 1.2.1 figures)", () => {
  const cpu = () => new CostModel({ windowMs: { cpu: 3000, cuda: 2500 }, fallbackBudget: 3, baseMs: 60_000 });
  const defaults = { device: "cpu" as const, model: "tiny", beamSize: 5, bestOf: 5, temperatures: 6, wordTimestamps: false, translate: false };

  it("lets the measured worst cases finish, and caps the fallback well before them", () => {
    // Measured on CPU int8 (tiny, 2 threads): a 10 s clip with defaults 18-22 s, with word timestamps 59-94 s.
    const plain = cpu().plan({ ...defaults, audioS: 10 });
    expect(plain.limitMs).toBeGreaterThan(22_000);
    expect(plain.budgetMs).toBeLessThan(18_000);
    const words = cpu().plan({ ...defaults, audioS: 10, wordTimestamps: true });
    expect(words.limitMs).toBeGreaterThan(94_000);
    expect(words.budgetMs).toBeLessThan(59_000);
    // A translation is a second pass; a GPU window is cheaper.
    expect(cpu().plan({ ...defaults, audioS: 10, translate: true }).budgetMs).toBe(2 * plain.budgetMs);
    expect(cpu().plan({ ...defaults, audioS: 10, device: "cuda" }).budgetMs).toBeLessThan(plain.budgetMs);
  });

  it("learns a slow model from its jobs", () => {
    const m = cpu();
    const before = m.plan({ ...defaults, audioS: 60, model: "large-v3" });
    m.observe({ device: "cpu", model: "large-v3", engineMs: 2 * 40_000, decodes: 2, beamSize: 5, wordTimestamps: false });
    const after = m.plan({ ...defaults, audioS: 60, model: "large-v3" });
    expect(after.budgetMs).toBeGreaterThan(10 * before.budgetMs);
    expect(m.plan({ ...defaults, audioS: 60 }).budgetMs).toBe(before.budgetMs); // other models unchanged
  });

  it("orders budget <= deadline < limit, grows with the audio, never cuts before the base time (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          audioS: fc.double({ min: 0.1, max: 3600, noNaN: true }),
          device: fc.constantFrom("cpu" as const, "cuda" as const),
          beamSize: fc.integer({ min: 1, max: 32 }),
          bestOf: fc.integer({ min: 1, max: 32 }),
          temperatures: fc.integer({ min: 1, max: 11 }),
          wordTimestamps: fc.boolean(),
          translate: fc.boolean(),
        }),
        fc.integer({ min: 1, max: 60_000 }),
        (c, window) => {
          const m = new CostModel({ windowMs: { cpu: window, cuda: window }, fallbackBudget: 3, baseMs: 30_000 });
          const p = m.plan({ ...c, model: "m" });
          expect(p.budgetMs).toBeGreaterThanOrEqual(MIN_BUDGET_MS);
          expect(p.deadlineMs).toBeGreaterThanOrEqual(30_000);
          expect(p.limitMs).toBeGreaterThan(p.deadlineMs);
          if (c.temperatures > 1) expect(p.deadlineMs).toBeGreaterThan(p.budgetMs);
          const longer = m.plan({ ...c, model: "m", audioS: c.audioS + 30 });
          expect(longer.limitMs).toBeGreaterThanOrEqual(p.limitMs);
        },
      ),
      { numRuns: 300 },
    );
  });
});
