import { z } from "zod";
import type { Logger } from "../log/logger.ts";
import type { Analysis } from "./schema.ts";
import type { LlmErrorCode } from "./failure.ts";

export type { Analysis } from "./schema.ts";
export { analysisSchema, analysisJsonSchema } from "./schema.ts";
export type { LlmErrorCode } from "./failure.ts";
export { createAnalyzer, type AnalyzerDeps } from "./analyzer.ts";

// A model id as the Gemini API names it; no path tricks ("..", "?", "/") reach the URL.
const MODEL_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Per-job options a job may carry under `llm` (the pipeline validates job input with this).
 * - `enabled: false` skips the analysis (`analysis_skipped: "disabled"`).
 * - `model` picks another model; it must be GEMINI_MODEL or listed in GEMINI_ALLOWED_MODELS.
 * There is deliberately no per-job prompt: prompts are versioned files chosen by the operator,
 * and a job must not be able to read worker files or bypass the recorded prompt version.
 */
export const analysisOptionsSchema = z
  .object({
    model: z.string().regex(MODEL_NAME, "must be a Gemini model id like gemini-3.5-flash-lite").optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export type AnalysisOptions = z.infer<typeof analysisOptionsSchema>;

export interface AnalysisRequest {
  transcript: string;
  /** Language detected by speech recognition (a BCP-47 code); a hint for the model. */
  language?: string;
  /** Aborting it cancels the analysis (outcome `llm_cancelled`). */
  signal?: AbortSignal;
  /** Job logger; the analyzer's own logger is used when absent. */
  log?: Logger;
  options?: AnalysisOptions;
}

export interface AnalysisUsage {
  prompt_tokens: number;
  /** Generated tokens, thinking included (what is billed as output). */
  output_tokens: number;
  total_tokens: number;
  /** HTTP requests sent, retries and the repair request included. */
  requests: number;
}

export interface AnalysisErrorInfo {
  /** An LlmErrorCode; `internal_error` only for a bug in the worker itself. */
  code: LlmErrorCode | "internal_error";
  message: string;
  retryable: boolean;
}

export type SkipReason = "no_api_key" | "disabled" | "empty_transcript";

export type AnalysisOutcome =
  | {
      analysis: Analysis;
      analysis_model: string;
      /** modelVersion reported by Gemini, when it sent one. */
      analysis_model_version?: string;
      analysis_prompt_version: string;
      analysis_truncated: boolean;
      analysis_usage?: AnalysisUsage;
    }
  | {
      analysis: null;
      analysis_model: string;
      analysis_prompt_version: string;
      analysis_truncated: boolean;
      analysis_error: AnalysisErrorInfo;
    }
  | { analysis: null; analysis_skipped: SkipReason };

export interface TranscriptAnalyzer {
  /** Never throws: every failure becomes `analysis_error`, so the transcript is never lost. */
  analyze(req: AnalysisRequest): Promise<AnalysisOutcome>;
}
