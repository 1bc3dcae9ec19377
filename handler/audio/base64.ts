// Strict decoding of `audio_base64`. Node's Buffer.from(..., "base64") silently skips junk, so a
// truncated or mangled payload would reach ffmpeg as garbage; here it is refused up front.
import { audioError } from "./errors.ts";

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;
// Browsers' FileReader.readAsDataURL() gives "data:audio/ogg;codecs=opus;base64,AAAA...".
const DATA_URI = /^data:[^,]*;base64,/i;

/** Largest base64 text worth scanning for `maxBytes` decoded bytes (line breaks allowed). */
export function maxBase64Chars(maxBytes: number): number {
  const plain = Math.ceil(maxBytes / 3) * 4;
  return plain + Math.ceil(plain / 64) * 2 + 256;
}

/**
 * Decodes base64 audio: standard or URL-safe alphabet (not mixed), padding optional but
 * correct when present, whitespace (MIME line breaks) ignored, an optional `data:...;base64,`
 * prefix stripped. Throws invalid_base64 or audio_too_large (checked before decoding).
 */
export function decodeBase64Audio(text: string, maxBytes: number): Buffer {
  if (text.length > maxBase64Chars(maxBytes)) {
    throw audioError("audio_too_large", `audio_base64 is ${text.length} characters, over the ${maxBytes}-byte limit`, { details: { maxBytes } });
  }
  let body = text.trimStart();
  if (body.slice(0, 5).toLowerCase() === "data:") {
    const prefix = DATA_URI.exec(body.slice(0, 300));
    if (!prefix) throw audioError("invalid_base64", "audio_base64 is a data: URI without ;base64");
    body = body.slice(prefix[0].length);
  }
  if (/\s/.test(body)) body = body.replace(/\s+/g, "");
  if (body.length === 0) throw audioError("invalid_base64", "audio_base64 is empty");

  const urlSafe = !STANDARD.test(body);
  if (urlSafe && !URL_SAFE.test(body)) {
    throw audioError("invalid_base64", "audio_base64 contains characters outside the base64 alphabet");
  }
  const padding = body.endsWith("==") ? 2 : body.endsWith("=") ? 1 : 0;
  if (padding > 0 ? body.length % 4 !== 0 : body.length % 4 === 1) {
    throw audioError("invalid_base64", "audio_base64 has a wrong length or padding (truncated?)");
  }
  const decodedBytes = Math.floor(((body.length - padding) * 3) / 4);
  if (decodedBytes > maxBytes) {
    throw audioError("audio_too_large", `audio_base64 decodes to ${decodedBytes} bytes, over the ${maxBytes}-byte limit`, { details: { maxBytes } });
  }
  const out = Buffer.from(body, urlSafe ? "base64url" : "base64");
  if (out.length !== decodedBytes) throw audioError("invalid_base64", "audio_base64 did not decode cleanly");
  return out;
}
