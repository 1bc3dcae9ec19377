import { inspect } from "node:util";

const REDACTED = "[secret]";

/** Registry of every secret value loaded, so the log scrubber can find them anywhere in text. */
const knownSecrets = new Set<string>();

/**
 * A configuration value that must never be printed. It hides itself from `String()`,
 * `JSON.stringify`, `util.inspect` and template literals; only `reveal()` gives the value,
 * and only the adapter that sends it to its service should call that.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    // Very short values would make the scrubber mangle ordinary words.
    if (value.length >= 6) knownSecrets.add(value);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function registeredSecrets(): ReadonlySet<string> {
  return knownSecrets;
}

/** For values that are secret but do not come from config (a token generated at run time). */
export function registerSecret(value: string): void {
  if (value.length >= 6) knownSecrets.add(value);
}
