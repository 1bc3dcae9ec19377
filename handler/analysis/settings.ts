import { int, optionalStr, secret, str } from "../config/fields.ts";

/** Transcript analysis with Gemini. */
export const analysisSettings = {
  GEMINI_API_KEY: secret({ doc: "Gemini API key. Unset: analysis is skipped, transcripts still delivered.", example: "AIza..." }),
  GEMINI_MODEL: str({
    default: "gemini-3.5-flash-lite",
    doc: "Gemini model used for analysis (recorded in every result). Pinned: change it deliberately when Google retires a model.",
    example: "gemini-3.8-flash",
  }),
  GEMINI_ALLOWED_MODELS: optionalStr({
    doc: "Comma-separated models a job may pick with `llm.model`. Unset: jobs can only use GEMINI_MODEL.",
    example: "gemini-3.5-flash-lite,gemini-3.8-flash",
  }),
  GEMINI_BASE_URL: optionalStr({ doc: "Override of the Gemini API base URL (proxies, tests).", example: "http://127.0.0.1:8090" }),
  GEMINI_TIMEOUT_MS: int({ default: 30000, min: 100, doc: "Timeout of one Gemini request (one attempt).", example: "60000" }),
  GEMINI_TOTAL_TIMEOUT_MS: int({
    default: 120000,
    min: 100,
    doc: "Deadline of a whole analysis: all attempts, waits and the repair request together.",
    example: "300000",
  }),
  GEMINI_MAX_ATTEMPTS: int({
    default: 4,
    min: 1,
    max: 10,
    doc: "Attempts per Gemini request on 429, 5xx, timeouts and network errors (the first one included).",
    example: "6",
  }),
  GEMINI_BACKOFF_BASE_MS: int({ default: 1000, min: 0, doc: "First retry wait; doubles per attempt, with jitter.", example: "2000" }),
  GEMINI_BACKOFF_MAX_MS: int({
    default: 30000,
    min: 0,
    doc: "Longest single retry wait, also the cap on a server-given retry delay.",
    example: "60000",
  }),
  GEMINI_MAX_INPUT_TOKENS: int({
    default: 32000,
    min: 100,
    doc: "Token budget of the transcript sent (estimated locally); longer transcripts are cut and flagged analysis_truncated.",
    example: "100000",
  }),
  GEMINI_MAX_OUTPUT_TOKENS: int({ default: 4096, min: 256, doc: "Upper bound of tokens Gemini may generate per request.", example: "8192" }),
  GEMINI_PROMPT_FILE: optionalStr({
    doc: "Prompt file (system instruction + prompt, with a version) replacing the built-in handler/analysis/prompts/analysis.v1.md.",
    example: "/config/analysis.v2.md",
  }),
};
