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

/** Removes every known secret value and credential-shaped substring from `text`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of registeredSecrets()) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * For text that ends up in logs or results: secrets removed, then cut to a bounded length.
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
