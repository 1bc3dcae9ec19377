// The test double and the sidecar against the committed record of faster-whisper 1.2.1 and
// ctranslate2 4.6.3 (test/doubles/faster-whisper-1.2.1.record.json, facts read from the tags).
// A pin change means a new record; every difference from it then fails here.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { STANDARD_MODELS } from "../../handler/asr/models.ts";
import { parseTranscribeOptions, VadParameters } from "../../handler/asr/options.ts";
import { paramNames, engineFacts, record, type Field, type Param, type RaisesCase } from "./record.ts";

interface Surface {
  faster_whisper: {
    version: string;
    __all__: string[];
    signatures: Record<string, Param[]>;
    dataclasses: Record<string, Field[]>;
    instance_attributes: Record<string, string[]>;
    has_supported_languages: boolean;
    models: Record<string, string>;
    "tokenizer._TASKS": string[];
    "tokenizer._LANGUAGE_CODES": string[];
  };
  ctranslate2: EngineCt2;
  tokenizers: Record<string, Param[]>;
  vocabulary_by_model: Record<string, number>;
  huggingface_hub: { exceptions: Record<string, string[]> };
}
type EngineCt2 = (typeof record)["ctranslate2"];

const withoutTypes = (fields: Field[]) => fields.map(({ name, default: d }) => (d ? { name, default: d } : { name }));

let surface: Surface;
beforeAll(async () => {
  surface = await engineFacts<Surface>("surface");
});

describe("the faster-whisper double is 1.2.1, per the record", () => {
  it("has the version, exports, model names, tasks and language codes of the tag", () => {
    const fw = record.faster_whisper;
    expect(surface.faster_whisper.version).toBe(fw.version);
    expect(surface.faster_whisper.__all__).toEqual(fw.__all__);
    expect(surface.faster_whisper.models).toEqual(fw.models);
    expect(surface.faster_whisper["tokenizer._TASKS"]).toEqual(fw["tokenizer._TASKS"]);
    expect(surface.faster_whisper["tokenizer._LANGUAGE_CODES"]).toEqual(fw["tokenizer._LANGUAGE_CODES"]);
    expect(surface.faster_whisper.has_supported_languages).toBe(true);
  });

  it.each(Object.keys(record.faster_whisper.signatures))("signature of %s: every parameter, kind and default", (name) => {
    expect(surface.faster_whisper.signatures[name]).toEqual(record.faster_whisper.signatures[name]);
  });

  it.each(Object.keys(record.faster_whisper.dataclasses))("dataclass %s: every field and default", (name) => {
    expect(surface.faster_whisper.dataclasses[name]).toEqual(withoutTypes(record.faster_whisper.dataclasses[name]!));
  });

  it("VadOptions has exactly 1.2.1's six fields (no min_silence_at_max_speech, no use_max_poss_sil_at_max_speech)", () => {
    expect(record.faster_whisper.dataclasses["faster_whisper.vad.VadOptions"]!.map((f) => f.name)).toEqual([
      "threshold",
      "neg_threshold",
      "min_speech_duration_ms",
      "max_speech_duration_s",
      "min_silence_duration_ms",
      "speech_pad_ms",
    ]);
  });

  it.each(Object.keys(record.faster_whisper.instance_attributes))("%s instances carry the tag's public attributes, and no others", (cls) => {
    const publicAttrs = surface.faster_whisper.instance_attributes[cls]!.filter((a) => !a.startsWith("_"));
    expect(publicAttrs.sort()).toEqual([...record.faster_whisper.instance_attributes[cls]!].sort());
  });

  it("ctranslate2 (module functions, Whisper constructor, properties, unload/load) is 4.6.3's", () => {
    const ct2 = record.ctranslate2;
    expect(surface.ctranslate2.version).toBe(ct2.version);
    expect(surface.ctranslate2.module_functions).toEqual(ct2.module_functions);
    expect(surface.ctranslate2["models.Whisper.__init__"]).toEqual(ct2["models.Whisper.__init__"]);
    expect(surface.ctranslate2["models.Whisper.properties"]).toEqual([...ct2["models.Whisper.properties"]].sort());
    for (const m of ["unload_model", "load_model"]) expect(surface.ctranslate2["models.Whisper.methods"][m], m).toEqual(ct2["models.Whisper.methods"][m]);
  });

  it("the loaded model's tokenizer has the recorded vocabulary size for every standard model", () => {
    expect(surface.tokenizers["Tokenizer.get_vocab_size"]).toEqual(record.tokenizers["Tokenizer.get_vocab_size"]);
    const expected: Record<string, number> = {};
    for (const [size, names] of Object.entries(record.vocabulary_sizes as Record<string, unknown>)) {
      if (Array.isArray(names)) for (const n of names as string[]) expected[n] = Number(size);
    }
    expect(Object.keys(expected).sort()).toEqual(Object.keys(record.faster_whisper.models).sort());
    expect(surface.vocabulary_by_model).toEqual(expected);
  });

  it("huggingface_hub's double raises classes with the real names and bases", () => {
    expect(surface.huggingface_hub.exceptions).toEqual(record.huggingface_hub.exceptions);
  });
});

describe("the double raises what 1.2.1 raises, where 1.2.1 raises it", () => {
  let results: Map<string, { raised: string | null; phase: string; message: string | null; cause: string | null; info?: Record<string, unknown> }>;
  beforeAll(async () => {
    const out = await engineFacts<{ id: string; raised: string | null; phase: string; message: string | null; cause: string | null }[]>(
      "cases",
      record.faster_whisper.raises,
    );
    results = new Map(out.map((r) => [r.id, r]));
  });

  it.each(record.faster_whisper.raises.map((c) => [c.id, c] as [string, RaisesCase]))("%s", (_id, c) => {
    const r = results.get(c.id)!;
    expect({ raised: r.raised, phase: r.phase }, `${c.fact}: ${r.message}`).toEqual({ raised: c.raises, phase: c.phase });
    if (c.message_contains) expect(r.message).toContain(c.message_contains);
    if (c.cause) expect(r.cause).toBe(c.cause);
    if (c.info) expect(r.info).toMatchObject(c.info);
  });
});

describe("the sidecar's calls fit the record", () => {
  const vadFields = record.faster_whisper.dataclasses["faster_whisper.vad.VadOptions"]!.map((f) => f.name);

  it("Node's vad_parameters schema and the sidecar accept exactly VadOptions' fields; STANDARD_MODELS are _MODELS", async () => {
    expect(Object.keys(VadParameters.shape)).toEqual(vadFields);
    const out = await engineFacts<{ vad_keys: string[] }>("sidecar", []);
    expect(out.vad_keys).toEqual(vadFields);
    expect([...STANDARD_MODELS]).toEqual(Object.keys(record.faster_whisper.models));
  });

  it("every attribute, field and keyword the sidecar uses exists in 1.2.1 / 4.6.3", async () => {
    const out = await engineFacts<{ model_kwargs: string[]; uses: Record<string, string[]> }>("sidecar", []);
    expect(
      out.model_kwargs.every((k) => paramNames("faster_whisper.WhisperModel.__init__").includes(k)),
      out.model_kwargs.join(),
    ).toBe(true);
    const known: Record<string, string[]> = {
      "faster_whisper.WhisperModel.__init__": paramNames("faster_whisper.WhisperModel.__init__"),
      "faster_whisper.WhisperModel": record.faster_whisper.instance_attributes["faster_whisper.WhisperModel"]!,
      "ctranslate2.models.Whisper.methods": Object.keys(record.ctranslate2["models.Whisper.methods"]),
      "tokenizers.Tokenizer.get_vocab_size": record.tokenizers["Tokenizer.get_vocab_size"]!.map((p) => p.name),
    };
    for (const [name, fields] of Object.entries(record.faster_whisper.dataclasses)) known[name] = fields.map((f) => f.name);
    for (const [where, names] of Object.entries(out.uses)) {
      expect(known[where], where).toBeDefined();
      for (const n of names) expect(known[where], `${where}.${n}`).toContain(n);
    }
  });

  it("every faster-whisper call written in the sidecar, the CUDA preflight and the model prefetch uses recorded keywords", async () => {
    const files = [
      "sidecar/preflight/smoke.py",
      "diagnostics/python/prefetch_model.py",
      ...["jobs", "server", "models", "engine_api"].map((m) => `sidecar/asr_sidecar/${m}.py`),
    ];
    const calls = await engineFacts<{ file: string; line: number; api: string; keywords: string[] }[]>("static", files);
    expect(calls.map((c) => c.file)).toEqual(expect.arrayContaining(["sidecar/preflight/smoke.py"]));
    for (const c of calls) for (const k of c.keywords) expect(paramNames(c.api), `${c.file}:${c.line} ${k}`).toContain(k);
  });

  // Any job options the worker accepts: the keywords the sidecar builds exist in the recorded
  // signature, VAD keys in VadOptions, and the batched clip windows are seconds within the audio.
  const jobOptions = fc.record(
    {
      language: fc.constantFrom(null, "en", "de"),
      temperature: fc.constantFrom(0, 0.2, 0.5, 1),
      temperature_increment_on_fallback: fc.constantFrom(null, 0.2, 0.5),
      beam_size: fc.integer({ min: 1, max: 8 }),
      best_of: fc.integer({ min: 1, max: 8 }),
      enable_vad: fc.boolean(),
      word_timestamps: fc.boolean(),
      translate: fc.boolean(),
      batch_size: fc.constantFrom(1, 1, 2, 4, 8),
      hotwords: fc.constantFrom(null, "Kubernetes"),
      vad_parameters: fc.option(
        fc.record(
          {
            threshold: fc.double({ min: 0, max: 1, noNaN: true }),
            min_silence_duration_ms: fc.integer({ min: 0, max: 3000 }),
            speech_pad_ms: fc.integer({ min: 0, max: 800 }),
          },
          { requiredKeys: [] },
        ),
        { nil: null },
      ),
    },
    { requiredKeys: [] },
  );

  it("for any accepted options and audio length (property)", async () => {
    const samples = fc.integer({ min: 1600, max: 200 * 16000 });
    const cases = fc.sample(fc.tuple(jobOptions, samples), { numRuns: 150, seed: 1312 });
    const requests = cases.map(([o, n]) => ({ options: { ...parseTranscribeOptions(o), model: "tiny" }, samples: n, run: true }));
    const out = await engineFacts<{
      requests: {
        api: string;
        kwargs: string[];
        vad_keys: string[];
        clip_timestamps: { start: number; end: number }[] | null;
        error: string | null;
        engine_error: string | null;
        duration_after_vad?: number;
      }[];
    }>("sidecar", requests);
    out.requests.forEach((r, i) => {
      const n = requests[i]!.samples;
      const what = JSON.stringify(requests[i]);
      expect(r.error, what).toBeNull();
      const allowed = paramNames(`faster_whisper.${r.api}`);
      for (const k of r.kwargs) expect(allowed, `${k} in ${r.api}`).toContain(k);
      for (const k of r.vad_keys) expect(vadFields, k).toContain(k);
      if (r.clip_timestamps) {
        for (const c of r.clip_timestamps) {
          expect(c.start, what).toBeGreaterThanOrEqual(0);
          expect(c.end, what).toBeLessThanOrEqual(n / 16000);
          expect(c.end - c.start, what).toBeLessThanOrEqual(30);
        }
        expect(r.clip_timestamps.at(-1)!.end).toBe(n / 16000);
      }
      expect(r.engine_error, what).toBeNull(); // the double (1.2.1's checks) accepts what the sidecar sends
    });
  });
});
