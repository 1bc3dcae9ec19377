import { registeredSecrets } from "../config/secret.ts";

export const MAX_MESSAGE_CHARS = 1000;
const REDACTED = "[secret]";

// Shapes of credentials that may reach text without passing through config (a header echoed
// in an error, a key in a URL). Known secret values are removed separately, by value.
const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, `$1${REDACTED}`],
  [/([?&](?:key|token|api_key|apikey|_token)=)[^&\s"']+/gi, `$1${REDACTED}`],
  [/("?(?:x-goog-api-key|authorization|apiKey|api_key|token)"?\s*[:=]\s*"?)[^"\s,}]{6,}/gi, `$1${REDACTED}`],
  [/AIza[0-9A-Za-z_-]{30,}/g, REDACTED],
];

// A memory address tells a reader of logs or results where the heap, stack and libraries of a
// process that parses hostile files (ffmpeg, the sidecar) were mapped: half of an exploit against
// ASLR. Every hexadecimal number with a 0x prefix and 5 or more digits goes; no user-space
// pointer is smaller (Linux maps nothing below mmap_min_addr, 0x10000), zero-padded ones are
// longer, and small constants (0xff, a WAVE format tag 0x0055) stay readable. Any text may sit
// right before or after it (ffmpeg's "[mov,mp4,m4a @ 0x55d81be21180]", Python's "at
// 0x7f3a...>", glibc's "[0x7ffd...]", "a0x5562" glued to a word).
const ADDRESS = /0x[0-9a-f]{5,}/gi;
export const ADDRESS_REDACTED = "[address]";

/** Replaces every memory-address-shaped number in `text`. */
export function scrubAddresses(text: string): string {
  return text.replace(ADDRESS, ADDRESS_REDACTED);
}

/**
 * Removes every known secret value, credential-shaped substring and memory address from `text`.
 * Every log line passes through it (see logger.ts), and every error message via scrubMessage.
 */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of registeredSecrets()) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replacement);
  return scrubAddresses(out);
}

/**
 * For text that ends up in logs or results: secrets and addresses removed, then cut to a bounded length.
 * The Upstash client appends the whole command (payload included) to its error messages
 * ("..., command was: [...]"), so that tail is cut much shorter than the rest.
 */
export function scrubMessage(text: string, max = MAX_MESSAGE_CHARS): string {
  let out = scrubSecrets(text);
  const marker = ", command was: ";
  const at = out.indexOf(marker);
  if (at >= 0 && out.length - at > 200) out = `${out.slice(0, at + marker.length + 120)}… (command truncated)`;
  return out.length > max ? `${out.slice(0, max)}… (${out.length - max} more chars)` : out;
}
