// No memory address reaches a result or a log line, whatever text surrounds it: the shared
// scrubbing (handler/log/scrub.ts) under error messages, results and every logged line.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toErrorInfo, WorkerError } from "../../handler/errors.ts";
import { createLogger } from "../../handler/log/logger.ts";
import { ADDRESS_REDACTED, scrubAddresses, scrubMessage } from "../../handler/log/scrub.ts";
import { captureLines } from "../helpers/log-capture.ts";

/** What must never be left: 0x and five or more hex digits, any case. */
const ADDRESS_SHAPE = /0x[0-9a-f]{5,}/i;

const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: min, maxLength: max });
const prefix = fc.constantFrom("0x", "0X");

/** Pointers as processes print them: heap (0x55...), stack and mmap (0x7f...), zero-padded, kernel, 32-bit, any length 5-16, and longer runs. */
const address = fc.oneof(
  fc.tuple(prefix, fc.constantFrom("55", "56", "7f", "7ff", "ffff"), hex(8, 12)).map(([p, hi, lo]) => `${p}${hi}${lo}`),
  fc.tuple(prefix, hex(5, 12)).map(([p, d]) => p + d.padStart(16, "0")),
  fc.tuple(prefix, hex(5, 16)).map(([p, d]) => p + d),
  fc.tuple(prefix, hex(17, 40)).map(([p, d]) => p + d),
);

/** Text around it: printable, any Unicode, and hex-heavy text that glues digits onto the address. */
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: "binary", maxLength: 30 }), fc.stringMatching(/^[0-9a-fxX@[\], ]{0,20}$/));

/** A demuxer/filter name as ffmpeg prints it in a log context, commas included. */
const contextName = fc.array(fc.stringMatching(/^[a-z0-9_]{1,8}$/), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(","));

/** Where addresses show up: ffmpeg log contexts, Python reprs, glibc backtraces, anywhere. */
const messageWithAddresses = fc.oneof(
  fc.tuple(contextName, address, text).map(([name, a, msg]) => `[${name} @ ${a}] ${msg}`),
  fc.tuple(text, address, text).map(([before, a, after]) => `${before}<_io.BufferedReader object at ${a}>${after}`),
  fc.tuple(text, address, address, text).map(([before, a, b, after]) => `${before}./ffmpeg(+${a})[${b}]${after}`),
  fc.tuple(text, address, text, address, text).map(([t1, a, t2, b, t3]) => `${t1}${a}${t2}${b}${t3}`),
);

describe("memory addresses", () => {
  it("are gone from every error message, whatever the address and the text around it (property)", () => {
    fc.assert(
      fc.property(messageWithAddresses, (message) => {
        expect(scrubMessage(message)).not.toMatch(ADDRESS_SHAPE);
        expect(scrubMessage(message)).toContain(ADDRESS_REDACTED);
      }),
      { numRuns: 500 },
    );
  });

  it("never reach a result: WorkerError messages, toErrorInfo of foreign errors (property)", () => {
    fc.assert(
      fc.property(messageWithAddresses, (message) => {
        expect(JSON.stringify(new WorkerError("decode_failed", message, { retryable: false }).toJSON())).not.toMatch(ADDRESS_SHAPE);
        expect(JSON.stringify(toErrorInfo(new Error(message)))).not.toMatch(ADDRESS_SHAPE);
        expect(JSON.stringify(toErrorInfo(message))).not.toMatch(ADDRESS_SHAPE);
      }),
      { numRuns: 300 },
    );
  });

  it("never reach a log line: error serializer (message, stack, cause), plain fields, the message itself (property)", () => {
    fc.assert(
      fc.property(messageWithAddresses, messageWithAddresses, (a, b) => {
        const out = captureLines();
        const log = createLogger({ destination: out, level: "trace" });
        const err = new Error(a, { cause: new Error(b) });
        log.error({ err }, "decode failed");
        log.warn({ stderr: a, nested: { detail: [b] } }, b);
        log.info(`${a} / ${b}`);
        expect(out.lines).toHaveLength(3);
        // Checked on the parsed values too: JSON escapes must not hide one from the line-level check.
        for (const line of out.lines) {
          expect(line).not.toMatch(ADDRESS_SHAPE);
          expect(JSON.stringify(JSON.parse(line))).not.toMatch(ADDRESS_SHAPE);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("only addresses go: text without one is left as it was (property), small hex constants too", () => {
    fc.assert(
      fc.property(text, (t) => {
        fc.pre(!ADDRESS_SHAPE.test(t));
        expect(scrubAddresses(t)).toBe(t);
      }),
      { numRuns: 500 },
    );
    expect(scrubAddresses("WAVE tag 0x0055, flags 0xff, 0x1F2E")).toBe("WAVE tag 0x0055, flags 0xff, 0x1F2E");
    expect(scrubAddresses("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d81be21180] moov atom not found")).toBe("[mov,mp4,m4a,3gp,3g2,mj2 @ [address]] moov atom not found");
  });
});
