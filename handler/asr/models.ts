// Which models a job may ask for. A job's `model` reaches faster-whisper's WhisperModel(), which
// downloads any Hugging Face repository id and opens any local directory: only the operator's
// settings may name those. A job picks from ALLOWED_MODELS (plus WHISPER_MODEL), by exact name.
import { WorkerError } from "../errors.ts";

/** faster-whisper 1.2.1's standard names (utils._MODELS; checked against the record of the tag). */
export const STANDARD_MODELS = [
  "tiny.en",
  "tiny",
  "base.en",
  "base",
  "small.en",
  "small",
  "medium.en",
  "medium",
  "large-v1",
  "large-v2",
  "large-v3",
  "large",
  "distil-large-v2",
  "distil-medium.en",
  "distil-small.en",
  "distil-large-v3",
  "distil-large-v3.5",
  "large-v3-turbo",
  "turbo",
] as const;

/** ALLOWED_MODELS as written (comma-separated; blanks ignored). */
export function parseModelList(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length ? list : null;
}

export class ModelPolicy {
  readonly allowed: readonly string[];

  constructor(
    readonly defaultModel: string,
    configured: string[] | null,
  ) {
    this.allowed = [...new Set([defaultModel, ...(configured ?? STANDARD_MODELS)])];
  }

  /** The model a job gets: its own choice when allowed, else the default. */
  resolve(requested: string | undefined): string {
    if (requested === undefined) return this.defaultModel;
    if (this.allowed.includes(requested)) return requested;
    // Never echo a rejected path back in full detail beyond what the job sent; list the names.
    const names = this.allowed.filter((m) => !m.includes("/"));
    throw new WorkerError(
      "invalid_input",
      `model ${JSON.stringify(requested.slice(0, 200))} is not allowed on this worker: a job may ask for a model listed in ALLOWED_MODELS` +
        ` (${names.join(", ")}${names.length < this.allowed.length ? ", and the repositories or directories the operator listed" : ""})`,
      { retryable: false, details: { setting: "ALLOWED_MODELS" } },
    );
  }
}
