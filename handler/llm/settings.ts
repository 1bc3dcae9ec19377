import { int, optionalStr, secret, str } from "../config/fields.ts";

/** Transcript analysis with Gemini. */
export const llmSettings = {
  GEMINI_API_KEY: secret({ doc: "Gemini API key. Unset: analysis is skipped, transcripts still delivered.", example: "AIza..." }),
  GEMINI_MODEL: str({ default: "gemini-2.5-flash-lite", doc: "Gemini model used for analysis (recorded in every result).", example: "gemini-2.5-flash" }),
  GEMINI_BASE_URL: optionalStr({ doc: "Override of the Gemini API base URL (proxies, tests).", example: "http://127.0.0.1:8090" }),
  GEMINI_TIMEOUT_MS: int({ default: 30000, min: 100, doc: "Timeout of one Gemini request.", example: "60000" }),
};
