// Cancellation, one-job-at-a-time queueing, the model cache (LRU, idle unload with memory given
// back, offline loading of cached models) and model errors, against the real sidecar.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeHarness, rejection, tone, type Harness } from "./helpers.ts";

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});
function harness(opts: Parameters<typeof makeHarness>[0] = {}): Harness {
  const h = makeHarness(opts);
  harnesses.push(h);
  return h;
}
// 30 ms of engine time per second of audio: a 30 s window costs 0.9 s, paid before its segments.
const slow = { FAKE_FW_SEGMENT_S: "5", FAKE_FW_MS_PER_AUDIO_S: "30" };

describe("cancel", () => {
  it("stops a running job between windows; the sidecar stays up for the next job", async () => {
    const h = harness({ env: slow });
    const { pid } = await h.engine.start();
    const ac = new AbortController();
    const segments: number[] = [];
    const err = await rejection(
      h.engine.transcribe({
        requestId: "c1",
        pcm: tone(120),
        durationS: 120,
        options: {},
        signal: ac.signal,
        onSegment: (s) => {
          segments.push(s.id);
          ac.abort();
        },
      }),
    );
    expect(err).toMatchObject({ code: "cancelled", retryable: false });
    // The first window's six segments came at once; the cancel stopped the job before the last window.
    expect(segments.length).toBeGreaterThanOrEqual(1);
    expect(segments.length).toBeLessThan(24);
    const next = await h.engine.transcribe({ requestId: "c2", pcm: tone(1), durationS: 1, options: {} });
    expect(next.segments).toHaveLength(1);
    expect(h.engine.info.pid).toBe(pid); // cancelled politely, not killed
  });

  it("kills a sidecar stuck in native code after the grace period, and restarts it", async () => {
    const h = harness({ engine: { timeouts: { startMs: 30_000, loadMs: 30_000, baseMs: 60_000, cancelGraceMs: 500 } } });
    h.setFault("hang");
    const { pid } = await h.engine.start();
    const ac = new AbortController();
    const job = rejection(h.engine.transcribe({ requestId: "s1", pcm: tone(3), durationS: 3, options: {}, signal: ac.signal }));
    // Status is answered by the sidecar's reader thread while the main thread hangs in the job.
    await expect.poll(async () => (await h.engine.status()).busy, { timeout: 15_000, interval: 50 }).toBe("s1");
    ac.abort();
    expect(await job).toMatchObject({ code: "cancelled" });
    h.setFault("");
    await h.engine.transcribe({ requestId: "s2", pcm: tone(1), durationS: 1, options: {} });
    expect(h.engine.info.pid).not.toBe(pid);
  });

  it("rejects at once when the signal is already aborted, or while the job waits its turn", async () => {
    const h = harness({ env: slow });
    await h.engine.start();
    const pre = new AbortController();
    pre.abort();
    expect(await rejection(h.engine.transcribe({ requestId: "pre", pcm: tone(1), durationS: 1, options: {}, signal: pre.signal }))).toMatchObject({
      code: "cancelled",
    });

    const first = h.engine.transcribe({ requestId: "q1", pcm: tone(4), durationS: 4, options: {} });
    const ac = new AbortController();
    const queued = h.engine.transcribe({ requestId: "q2", pcm: tone(1), durationS: 1, options: {}, signal: ac.signal });
    ac.abort();
    expect(await rejection(queued)).toMatchObject({ code: "cancelled" });
    expect((await first).segments).toHaveLength(1);
    expect(h.calls().map((c) => c.audio_samples)).toEqual([64000]); // q2 never reached the engine
  });

  it("rejects at once when cancelled during a slow model load, and keeps the model loading for the next job", async () => {
    const h = harness({ env: { FAKE_FW_LOAD_MS: "2500" } });
    const { pid } = await h.engine.start();
    const ac = new AbortController();
    const job = rejection(h.engine.transcribe({ requestId: "L1", pcm: tone(1), durationS: 1, options: {}, signal: ac.signal }));
    // Cancel once the sidecar is inside the load (it logs the download before constructing the model).
    await expect.poll(() => h.logLines.some((l) => l.includes("not cached, downloading")), { timeout: 15_000, interval: 20 }).toBe(true);
    const t0 = Date.now();
    ac.abort();
    expect(await job).toMatchObject({ code: "cancelled" });
    expect(Date.now() - t0).toBeLessThan(1500); // not after the 2.5 s load
    const next = await h.engine.transcribe({ requestId: "L1", pcm: tone(1), durationS: 1, options: {} }); // same id: not poisoned
    expect(next.segments).toHaveLength(1);
    expect(h.loads().filter((e) => e.event === "load")).toHaveLength(1);
    expect(h.engine.info.pid).toBe(pid);
  });
});

describe("progress", () => {
  it("reports seconds done per segment, over both passes when a translation is asked", async () => {
    const h = harness();
    const seen: [number, number][] = [];
    await h.engine.transcribe({ requestId: "p1", pcm: tone(10), durationS: 10, options: {}, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([
      [5, 10],
      [10, 10],
    ]);
    seen.length = 0;
    await h.engine.transcribe({ requestId: "p2", pcm: tone(10), durationS: 10, options: { translate: true }, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([
      [5, 20],
      [10, 20],
      [15, 20],
      [20, 20],
    ]);
  });

  it("survives a callback that throws", async () => {
    const h = harness();
    const r = await h.engine.transcribe({
      requestId: "cb",
      pcm: tone(6),
      durationS: 6,
      options: {},
      onProgress: () => {
        throw new Error("boom");
      },
      onSegment: () => {
        throw new Error("bang");
      },
    });
    expect(r.segments).toHaveLength(2);
    expect(h.logLines.some((l) => l.includes("a transcription callback threw"))).toBe(true);
  });
});

describe("one job at a time", () => {
  it("queues concurrent jobs and runs them in order on the one sidecar", async () => {
    const h = harness({ env: { FAKE_FW_MS_PER_AUDIO_S: "100" } });
    const lengths = [3, 1, 2];
    const results = await Promise.all(lengths.map((s, i) => h.engine.transcribe({ requestId: `o${i}`, pcm: tone(s), durationS: s, options: {} })));
    expect(results.map((r) => r.duration)).toEqual(lengths);
    expect(h.calls().map((c) => c.audio_samples / 16000)).toEqual(lengths);
    expect(new Set(h.calls().map((c) => c.pid)).size).toBe(1);
  });

  it("rejects PCM that is not float32 of the stated duration (e.g. s16 passed by mistake)", async () => {
    const h = harness();
    const s16 = Buffer.alloc(16000 * 2 * 4); // 4 s of s16 reads as 2 s of f32
    expect(await rejection(h.engine.transcribe({ requestId: "s16", pcm: s16, durationS: 4, options: {} }))).toMatchObject({
      code: "invalid_audio",
      retryable: false,
    });
    expect(await rejection(h.engine.transcribe({ requestId: "odd", pcm: Buffer.alloc(7), durationS: 0, options: {} }))).toMatchObject({
      code: "invalid_audio",
    });
  });
});

describe("model cache", () => {
  it("keeps at most MAX_CACHED_MODELS, evicting the least recently used", async () => {
    const h = harness({ engine: { maxCachedModels: 2 } });
    for (const model of ["tiny", "base", "tiny", "small"]) {
      await h.engine.transcribe({ requestId: `m-${model}-${Math.random()}`, pcm: tone(1), durationS: 1, options: { model } });
    }
    const status = await h.engine.status();
    expect(status.models.map((m) => m.model).sort()).toEqual(["small", "tiny"]);
    const events = h.loads().map((e) => `${e.event}:${e.model.model_size_or_path}`);
    expect(events).toEqual(["load:tiny", "load:base", "release:base", "load:small"]); // tiny was reused, base evicted
  });

  it("unloads a model after MODEL_IDLE_UNLOAD_MS and gives its memory back", async () => {
    const h = harness({ env: { FAKE_FW_MODEL_MB: "200" }, engine: { modelIdleUnloadMs: 1500 } });
    const baseline = await h.engine.status();
    await h.engine.transcribe({ requestId: "i1", pcm: tone(1), durationS: 1, options: {} });
    const loaded = await h.engine.status();
    // Each step waits for its own event: the cache entry goes first, the release is logged when
    // the model object is collected, and the memory is returned after that.
    await expect.poll(async () => (await h.engine.status()).models, { timeout: 15_000, interval: 100 }).toEqual([]);
    await expect.poll(() => h.loads().map((e) => e.event), { timeout: 15_000, interval: 50 }).toEqual(["load", "release"]);
    await expect.poll(async () => (await h.engine.status()).rss_mb! - baseline.rss_mb!, { timeout: 15_000, interval: 100 }).toBeLessThan(60);
    if (loaded.models.length) expect(loaded.rss_mb! - baseline.rss_mb!).toBeGreaterThan(150); // the model's 200 MB were resident
    // The next job loads it again.
    const r = await h.engine.transcribe({ requestId: "i2", pcm: tone(1), durationS: 1, options: {} });
    expect(r.model_cached).toBe(false);
  });

  it("loads a cached model offline (local_files_only) and downloads only what is missing", async () => {
    const h = harness();
    await h.engine.transcribe({ requestId: "d1", pcm: tone(1), durationS: 1, options: {} });
    expect(h.loads()[0]!.model.local_files_only).toBe(false); // first time: fetched into MODEL_DIR
    await h.engine.stop();

    // Same cache, fresh process, no network.
    const offline = harness({ env: { FAKE_FW_OFFLINE: "1" }, engine: { modelDir: h.modelDir } });
    const r = await offline.engine.transcribe({ requestId: "d2", pcm: tone(1), durationS: 1, options: {} });
    expect(r.model_cached).toBe(false);
    expect(offline.loads()[0]!.model.local_files_only).toBe(true);
    // Not cached and the Hub unreachable: an outage, retried later (issue 13, item 7).
    expect(await rejection(offline.engine.transcribe({ requestId: "d3", pcm: tone(1), durationS: 1, options: { model: "medium" } }))).toMatchObject({
      code: "model_unavailable",
      retryable: true,
    });
  });

  it("never downloads with MODEL_DOWNLOAD=never", async () => {
    const h = harness({ engine: { allowDownload: false } });
    const err = await rejection(h.engine.transcribe({ requestId: "n1", pcm: tone(1), durationS: 1, options: {} }));
    expect(err).toMatchObject({ code: "model_not_found", retryable: false });
    expect(h.loads()).toEqual([]);
  });

  it("accepts a local model directory the operator allowed and names the missing files of an incomplete one", async () => {
    const h = harness();
    const good = join(h.dir, "my-model");
    const bad = join(h.dir, "half-model");
    const allowed = harness({ engine: { allowedModels: [good, bad], modelDir: h.modelDir } });
    mkdirSync(good);
    writeFileSync(join(good, "config.json"), "{}");
    writeFileSync(join(good, "model.bin"), "x");
    // Not in ALLOWED_MODELS: refused before the sidecar sees the path.
    expect(await rejection(h.engine.transcribe({ requestId: "l0", pcm: tone(1), durationS: 1, options: { model: good } }))).toMatchObject({
      code: "invalid_input",
      retryable: false,
    });
    expect(h.loads()).toEqual([]);
    const r = await allowed.engine.transcribe({ requestId: "l1", pcm: tone(1), durationS: 1, options: { model: good } });
    expect(r.model).toBe(good);
    mkdirSync(bad);
    writeFileSync(join(bad, "config.json"), "{}");
    const err = await rejection(allowed.engine.transcribe({ requestId: "l2", pcm: tone(1), durationS: 1, options: { model: bad } }));
    expect(err.code).toBe("model_not_found");
    expect(err.message).toContain("model.bin");
  });

  it("reports a model the library cannot find (load_error) as model_not_found", async () => {
    const h = harness({ env: { FAKE_FW_FAULT: "load_error" } });
    expect(await rejection(h.engine.transcribe({ requestId: "le", pcm: tone(1), durationS: 1, options: {} }))).toMatchObject({ code: "model_not_found" });
  });
});

describe("stop", () => {
  it("shuts the sidecar down and refuses later jobs with a retryable error", async () => {
    const h = harness();
    const { pid } = await h.engine.start();
    await h.engine.stop();
    expect(() => process.kill(pid!, 0)).toThrow();
    expect(await rejection(h.engine.transcribe({ requestId: "z", pcm: tone(1), durationS: 1, options: {} }))).toMatchObject({
      code: "engine_stopped",
      retryable: true,
    });
  });
});
