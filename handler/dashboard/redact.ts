// What leaves for the browser: job payloads, results, errors and worker records pass through
// here, so no secret does. Known secret values (the Upstash token, the Gemini key, the dashboard
// token: every Secret this process loaded) and credential shapes are scrubbed from every string
// (handler/log/scrub.ts), every URL loses its query string (presigned URLs carry their signature
// there: redactUrl, as the worker's own logs do), inline audio is reduced to its size, and the
// Redis key of stored audio never leaves the server (the page plays it through /api/jobs/:id/audio).
import { redactUrl } from "../audio/fetch-url.ts";
import { scrubSecrets } from "../log/scrub.ts";

const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>]+/gi;

export function safeText(text: string): string {
  return scrubSecrets(text).replace(URL_IN_TEXT, (u) => redactUrl(u));
}

/** A deep copy of JSON data that is safe to show: see the file comment. */
export function forBrowser(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (key === "audio_base64") return `[${value.length} base64 characters]`;
    if (key === "audio_key") return "[stored audio]";
    return safeText(value);
  }
  if (Array.isArray(value)) return value.map((v) => forBrowser(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forBrowser(v, k)]));
  }
  return value;
}

/** JSON text as stored, parsed and made safe; text that is not JSON comes back as a safe string. */
export function parseForBrowser(text: string | null): unknown {
  if (text === null) return null;
  try {
    return forBrowser(JSON.parse(text));
  } catch {
    return safeText(text.length > 2000 ? `${text.slice(0, 2000)}…` : text);
  }
}
