import { describe, expect, it } from "vitest";
import { decodeBase64Audio, maxBase64Chars } from "../../handler/audio/base64.ts";
import { expectWorkerError } from "./helpers.ts";

const bytes = Buffer.from([0x4f, 0x67, 0x67, 0x53, 0x00, 0xff, 0xfe, 0x10, 0x3e, 0x3f]);
const run = async (text: string, max = 1024) => decodeBase64Audio(text, max);

describe("strict base64", () => {
  it.each([
    ["standard, padded", bytes.toString("base64")],
    ["standard, unpadded", bytes.toString("base64").replace(/=+$/, "")],
    ["URL-safe", bytes.toString("base64url")],
    ["MIME line breaks", bytes.toString("base64").replace(/(.{4})/g, "$1\r\n")],
    ["data: URI", `data:audio/ogg;base64,${bytes.toString("base64")}`],
    ["data: URI with codec parameter", `DATA:audio/webm;codecs=opus;base64,${bytes.toString("base64")}`],
  ])("accepts %s", (_label, text) => {
    expect(decodeBase64Audio(text, 1024).equals(bytes)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["only whitespace", " \n\t "],
    ["characters outside the alphabet", "T2dn*UwA="],
    ["mixed standard and URL-safe alphabets", "ab+_cd=="],
    ["wrong padding length", "T2dnUw="],
    ["padding in the middle", "T2==dnUw"],
    ["impossible length (4n+1)", "T2dnU"],
    ["a data: URI that is not base64", "data:audio/ogg,T2dnUw=="],
    ["JSON instead of base64", '{"audio":"x"}'],
  ])("refuses %s -> invalid_base64", async (_label, text) => {
    await expectWorkerError(run(text), "invalid_base64", false);
  });

  it("refuses oversized input by its length, before decoding", async () => {
    await expectWorkerError(run("A".repeat(maxBase64Chars(1024) + 1), 1024), "audio_too_large", false);
    // Within the scan limit but decoding to more than the cap.
    await expectWorkerError(run(Buffer.alloc(1100).toString("base64"), 1024), "audio_too_large", false);
    expect(decodeBase64Audio(Buffer.alloc(1024, 1).toString("base64"), 1024)).toHaveLength(1024);
  });
});
