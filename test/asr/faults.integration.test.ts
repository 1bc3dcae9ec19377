// What a job's own options can make the real engine do, and what the worker makes of it
// (issue 13, items 3, 4 and 7), against the real sidecar on the 1.2.1 double.
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeHarness, rejection, tone, type Harness } from "./helpers.ts";
import { engineFacts, record } from "./record.ts";

const harnesses: Harness[] = [];
function harness(opts: Parameters<typeof makeHarness>[0] = {}): Harness {
  const h = makeHarness(opts);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

const vocabulary = (model: string): number => {
  for (const [size, names] of Object.entries(record.vocabulary_sizes as Record<string, unknown>)) {
    if (Array.isArray(names) && (names as string[]).includes(model)) return Number(size);
  }
  throw new Error(`no vocabulary size for ${model}`);
};

describe("suppress_tokens: only -1 and ids of the loaded model's vocabulary reach ctranslate2 (item 3)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = makeHarness({ engine: { maxCachedModels: 3 } });
    await h.engine.start();
  });
  afterAll(async () => h.cleanup());

  const MODELS = ["tiny", "tiny.en", "large-v3"] as const;
  // Ids around every boundary: -1, negatives, 0, the vocabulary's last id and the first past it,
  // the 60000 of the report, int32's edges and beyond.
  const id = (vocab: number) =>
    fc.oneof(
      fc.constantFrom(-1, 0, vocab - 1, vocab, 60_000, 2 ** 31 - 1, 2 ** 31, 2 ** 40, -2, -(2 ** 31) - 1),
      fc.integer({ min: -5, max: vocab + 5 }),
      fc.integer({ min: 0, max: vocab - 1 }),
    );

  it("accepts a list exactly when every id is -1 or 0 <= id < vocabulary, and refuses the rest before the engine runs (property)", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...MODELS)
          .chain((model) => fc.tuple(fc.constant(model), fc.array(id(vocabulary(model)), { minLength: 0, maxLength: 6 }), fc.boolean())),
        async ([model, ids, asString]) => {
          const vocab = vocabulary(model);
          const valid = ids.every((t) => t === -1 || (t >= 0 && t < vocab));
          const before = h.calls().length;
          const job = h.engine.transcribe({
            requestId: `st${n++}`,
            pcm: tone(2),
            durationS: 2,
            options: { model, language: "en", suppress_tokens: asString ? ids.join(",") : ids },
          });
          if (valid) {
            const r = await job;
            expect(r.vocabulary_size).toBe(vocab);
            expect(r.segments.every((s) => Number.isFinite(s.avg_logprob))).toBe(true); // no out-of-bounds garbage
          } else {
            const err = await rejection(job);
            expect(err, JSON.stringify(ids)).toMatchObject({ code: "invalid_input", retryable: false });
            expect(h.calls()).toHaveLength(before); // never reached transcribe()
          }
        },
      ),
      { numRuns: 60, seed: 1313 },
    );
  });

  it("names the model's vocabulary in the error (60000 on a 51865-token model)", async () => {
    const err = await rejection(
      h.engine.transcribe({ requestId: "st-msg", pcm: tone(1), durationS: 1, options: { model: "tiny", suppress_tokens: [60_000] } }),
    );
    expect(err.code).toBe("invalid_input");
    expect(err.message).toContain("51865");
  });
});

describe("errors the library raises for the job's options are permanent invalid_input (item 4)", () => {
  // Every exception class faster-whisper / ctranslate2 raise on bad arguments, at every point
  // where they raise it: inside transcribe(), or lazily when the first window is decoded.
  const argumentErrors = ["TypeError", "ValueError", "AssertionError"] as const;
  const early = ["call", "first_window"] as const;

  it.each(argumentErrors.flatMap((cls) => early.map((at) => [cls, at] as const)))("%s raised at %s: invalid_input, not retried", async (cls, at) => {
    const h = harness({ env: { FAKE_FW_RAISE: `${cls}@${at}` } });
    const err = await rejection(h.engine.transcribe({ requestId: `${cls}-${at}`, pcm: tone(2), durationS: 2, options: { language: "en" } }));
    expect(err).toMatchObject({ code: "invalid_input", retryable: false });
    expect(err.message).toContain(cls);
    expect(h.calls()).toHaveLength(1); // one attempt, no CPU retry
  });

  it("the same class after the first window has been delivered is a retryable transcribe_failed", async () => {
    const h = harness({ env: { FAKE_FW_RAISE: "ValueError@later" } });
    const err = await rejection(h.engine.transcribe({ requestId: "later", pcm: tone(45), durationS: 45, options: { language: "en" } }));
    expect(err).toMatchObject({ code: "transcribe_failed", retryable: true });
  });

  it("real inputs: an unknown language and a VAD field 1.2.1 lacks", async () => {
    const h = harness();
    expect(await rejection(h.engine.transcribe({ requestId: "lang", pcm: tone(2), durationS: 2, options: { language: "xx" } }))).toMatchObject({
      code: "invalid_input",
      retryable: false,
    });
    const vad = await rejection(
      h.engine.transcribe({
        requestId: "vad",
        pcm: tone(2),
        durationS: 2,
        options: { enable_vad: true, vad_parameters: { min_silence_at_max_speech: 98 } as never },
      }),
    );
    expect(vad).toMatchObject({ code: "invalid_input", retryable: false });
    expect(vad.message).toContain("min_silence_at_max_speech");
  });

  it("a CUDA library failure (RuntimeError) is still a CUDA error, and other RuntimeErrors stay retryable", async () => {
    const out = await engineFacts<{ code: string; retryable: boolean }[]>("classify", [
      { type: "RuntimeError", message: "Library libcublas.so.12 is not found or cannot be loaded", where: "first_window" },
      { type: "RuntimeError", message: "CUDA failed with error out of memory", where: "call" },
      { type: "RuntimeError", message: "No clip timestamps found.", where: "call" },
      { type: "MemoryError", message: "", where: "first_window" },
      ...argumentErrors.map((t) => ({ type: t, message: "bad argument", where: "later" })),
    ]);
    expect(out).toEqual([
      { code: "cuda_error", retryable: true },
      { code: "cuda_oom", retryable: true },
      { code: "transcribe_failed", retryable: true },
      { code: "transcribe_failed", retryable: true },
      ...argumentErrors.map(() => ({ code: "transcribe_failed", retryable: true })),
    ]);
  });
});

describe("model downloads: an outage is retryable, a missing model is not (item 7)", () => {
  const cases: [string, Record<string, string>, string, { code: string; retryable: boolean }][] = [
    ["no network (connection error)", { FAKE_HF_NETWORK: "down" }, "medium", { code: "model_unavailable", retryable: true }],
    ["the Hub answers 503", { FAKE_HF_NETWORK: "5xx" }, "medium", { code: "model_unavailable", retryable: true }],
    ["the connection resets during the download", { FAKE_HF_NETWORK: "reset" }, "medium", { code: "model_unavailable", retryable: true }],
    ["a repository that does not exist", {}, "evil-org/some-model", { code: "model_not_found", retryable: false }],
    ["a gated repository", { FAKE_HF_REPOS: "org/gated", FAKE_HF_GATED: "org/gated" }, "org/gated", { code: "model_not_found", retryable: false }],
    ["HF_HUB_OFFLINE=1 and not cached", { HF_HUB_OFFLINE: "1" }, "medium", { code: "model_not_found", retryable: false }],
  ];

  it.each(cases)("%s", async (_name, env, model, expected) => {
    const h = harness({ env, engine: { allowedModels: ["tiny", model] } });
    const err = await rejection(h.engine.transcribe({ requestId: "hub", pcm: tone(1), durationS: 1, options: { model } }));
    expect(err).toMatchObject(expected);
    expect(h.loads()).toEqual([]);
  });

  it("with downloads off, a model not in the cache is model_not_found", async () => {
    const h = harness({ env: { FAKE_HF_NETWORK: "down" }, engine: { allowDownload: false } });
    const err = await rejection(h.engine.transcribe({ requestId: "off", pcm: tone(1), durationS: 1, options: {} }));
    expect(err).toMatchObject({ code: "model_not_found", retryable: false });
    expect(err.message).toContain("downloads are off");
  });

  it("classifies every huggingface_hub exception class by what it means", async () => {
    const out = await engineFacts<{ code: string }[]>("classify", [
      { type: "LocalEntryNotFoundError", message: "... check your internet connection ...", cause: "RequestsConnectionError", where: "load" },
      { type: "LocalEntryNotFoundError", message: "... set 'HF_HUB_OFFLINE=0' ...", cause: "OfflineModeIsEnabled", where: "load" },
      { type: "LocalEntryNotFoundError", message: "... pass 'local_files_only=False' ...", where: "load", downloads_tried: false },
      { type: "RepositoryNotFoundError", message: "401", where: "load" },
      { type: "GatedRepoError", message: "403", where: "load" },
      { type: "RevisionNotFoundError", message: "404", where: "load" },
      { type: "HfHubHTTPError", message: "502 Bad Gateway", where: "load" },
      { type: "RequestsConnectionError", message: "Connection aborted", where: "load" },
      { type: "TimeoutError", message: "timed out", where: "load" },
    ]);
    expect(out.map((o) => o.code)).toEqual([
      "model_unavailable",
      "model_not_found",
      "model_not_found",
      "model_not_found",
      "model_not_found",
      "model_not_found",
      "model_unavailable",
      "model_unavailable",
      "model_unavailable",
    ]);
  });
});
