// What the dashboard sends to the browser: no secret in any string of any shape of data, URLs
// without their query strings, stored audio typed from its bytes for the <audio> element.
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Secret } from "../../handler/config/secret.ts";
import { audioContentType } from "../../handler/dashboard/audio.ts";
import { forBrowser, parseForBrowser } from "../../handler/dashboard/redact.ts";
import { audioFixtures } from "../../harness/audio-fixtures/generate.ts";

const upstash = new Secret("AXupstashTokenForRedactTest0123456789");
const gemini = new Secret("AIzaRedactTestKey0123456789abcdefghijklm");
const SIGNATURE = "Zm9vYmFyU2lnbmF0dXJlMTIzNDU2";
const presigned = `https://bucket.s3.eu-west-1.amazonaws.com/a/voice.ogg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${SIGNATURE}`;
const planted = [upstash.reveal(), gemini.reveal(), presigned, `Bearer ${upstash.reveal()}`, `https://x.example/v.ogg?token=${SIGNATURE}`];
const secrets = [upstash.reveal(), gemini.reveal(), SIGNATURE];

/** JSON-shaped data with secrets planted inside some of its strings. */
const text = fc
  .tuple(fc.string({ maxLength: 12 }), fc.option(fc.constantFrom(...planted), { nil: undefined }), fc.string({ maxLength: 12 }))
  .map(([a, s, b]) => (s ? `${a} ${s} ${b}` : a + b));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, text, fc.integer(), fc.boolean(), fc.constant(null), tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(fc.constantFrom("message", "audio", "transcription", "text", "url", "note"), tie("value"), { maxKeys: 4 }),
})).value;

describe("forBrowser", () => {
  it("leaves no secret in any string, however deep (property)", () => {
    fc.assert(
      fc.property(json, (value) => {
        const out = JSON.stringify(forBrowser(value));
        for (const s of secrets) expect(out).not.toContain(s);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the shape and everything that is not secret: numbers, booleans, nulls, ordinary and hostile text", () => {
    const value = { n: 3, ok: true, none: null, list: [1, "two", { deep: "<script>alert(1)</script>" }], text: "Please call me back" };
    expect(forBrowser(value)).toEqual(value);
  });

  it("cuts URLs to scheme, host and path; reduces inline audio to its size and hides stored-audio keys", () => {
    expect(forBrowser({ input: { audio: presigned } })).toEqual({ input: { audio: "https://bucket.s3.eu-west-1.amazonaws.com/a/voice.ogg?…" } });
    expect(forBrowser({ message: `fetching ${presigned} failed` })).toEqual({
      message: "fetching https://bucket.s3.eu-west-1.amazonaws.com/a/voice.ogg?… failed",
    });
    expect(forBrowser({ input: { audio_base64: "QUJD".repeat(10), audio_key: "{vw}:audio:j1:abcd" } })).toEqual({
      input: { audio_base64: "[40 base64 characters]", audio_key: "[stored audio]" },
    });
    expect(parseForBrowser(`not json ${gemini.reveal()}`)).toBe("not json [secret]");
    expect(parseForBrowser(null)).toBeNull();
  });
});

describe("audioContentType", () => {
  it("names every accepted input format from its first bytes, so the page can play stored audio", async () => {
    const fx = await audioFixtures();
    const want: Record<string, string> = {
      "speech.ogg": "audio/ogg",
      "speech.m4a": "audio/mp4",
      "speech.mp3": "audio/mpeg",
      "speech.webm": "audio/webm",
      "speech-stream.webm": "audio/webm",
      "speech.wav": "audio/wav",
      "speech.flac": "audio/flac",
      "speech.amr": "audio/amr",
    };
    for (const [name, type] of Object.entries(want)) expect(audioContentType(await readFile(fx.path(name))), name).toBe(type);
  });

  it("anything else is application/octet-stream (served with nosniff, so never guessed into HTML)", () => {
    for (const b of ["<html><script>alert(1)</script>", "", "RIFF", "just text"]) expect(audioContentType(Buffer.from(b))).toBe("application/octet-stream");
  });
});
