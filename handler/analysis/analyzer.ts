import type { Config } from "../config/schema.ts";
import { toErrorInfo } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { fitToBudget } from "./budget.ts";
import { LlmFailure } from "./failure.ts";
import { createGeminiClient, type GeminiCall, type GeminiClient, type GeminiReply } from "./gemini.ts";
import type { AnalysisErrorInfo, AnalysisOutcome, AnalysisRequest, AnalysisUsage, TranscriptAnalyzer } from "./index.ts";
import { DEFAULT_PROMPT_FILE, loadPrompt, renderPrompt, renderRepair, type PromptTemplate } from "./prompt.ts";
import { callWithRetries, systemClock, type Clock, type RetryPolicy } from "./retry.ts";
import { analysisJsonSchema, analysisSchema, type Analysis } from "./schema.ts";

export interface AnalyzerDeps {
  /** Time, waits and jitter (tests inject a fake clock). */
  clock?: Clock;
  /** Replaces the @google/genai adapter. */
  client?: GeminiClient;
}

// finishReason values that mean the output was withheld for policy reasons.
const BLOCKING_FINISH = new Set(["SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"]);

type Parsed = { ok: true; analysis: Analysis } | { ok: false; problem: string };

/** Reads the model's text as an Analysis; tolerates a Markdown code fence around the JSON. */
function parseAnalysis(reply: GeminiReply): Parsed {
  const text = reply.text;
  const cutOff = reply.finishReason === "MAX_TOKENS" ? " (it was cut off at the output token limit)" : "";
  if (text === undefined || text.trim() === "")
    return { ok: false, problem: `the reply was empty${reply.finishReason ? ` (finishReason ${reply.finishReason})` : ""}` };
  const unfenced = text.trim().replace(/^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i, "$1");
  let json: unknown;
  try {
    json = JSON.parse(unfenced);
  } catch {
    // Not the parser's message: it quotes the reply, i.e. transcript content, into logs.
    return { ok: false, problem: `the reply is not valid JSON${cutOff}` };
  }
  const result = analysisSchema.safeParse(json);
  if (result.success) return { ok: true, analysis: result.data };
  const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  return { ok: false, problem: `the JSON does not match the schema (${issues.join("; ")})` };
}

function blocked(reply: GeminiReply): LlmFailure | undefined {
  if (reply.blockReason) {
    const why = reply.blockReasonMessage ? `: ${reply.blockReasonMessage}` : "";
    return new LlmFailure("llm_blocked", `Gemini blocked the prompt (blockReason ${reply.blockReason})${why}`, { retryable: false });
  }
  if (reply.finishReason && BLOCKING_FINISH.has(reply.finishReason)) {
    return new LlmFailure("llm_blocked", `Gemini stopped the answer (finishReason ${reply.finishReason})`, { retryable: false });
  }
  return undefined;
}

function addUsage(total: AnalysisUsage, reply: GeminiReply): void {
  if (!reply.usage) return;
  total.prompt_tokens += reply.usage.promptTokens;
  total.output_tokens += reply.usage.outputTokens;
  total.total_tokens += reply.usage.totalTokens;
}

export function createAnalyzer(cfg: Config, log: Logger, deps: AnalyzerDeps = {}): TranscriptAnalyzer {
  // A broken prompt file is a start-up error (WorkerError llm_prompt_invalid), not a per-job one.
  const template: PromptTemplate = loadPrompt(cfg.GEMINI_PROMPT_FILE ?? DEFAULT_PROMPT_FILE);
  const responseJsonSchema = analysisJsonSchema();
  const clock = deps.clock ?? systemClock;
  const allowedModels = new Set([
    cfg.GEMINI_MODEL,
    ...(cfg.GEMINI_ALLOWED_MODELS ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean),
  ]);
  const policy: RetryPolicy = {
    maxAttempts: cfg.GEMINI_MAX_ATTEMPTS,
    baseMs: cfg.GEMINI_BACKOFF_BASE_MS,
    maxMs: cfg.GEMINI_BACKOFF_MAX_MS,
    attemptTimeoutMs: cfg.GEMINI_TIMEOUT_MS,
  };
  const client =
    deps.client ??
    (cfg.GEMINI_API_KEY ? createGeminiClient({ apiKey: cfg.GEMINI_API_KEY, ...(cfg.GEMINI_BASE_URL ? { baseUrl: cfg.GEMINI_BASE_URL } : {}) }) : undefined);
  const baseLog = log.child({ stage: "llm" });
  if (!client) baseLog.warn("GEMINI_API_KEY is not set: transcripts are delivered without analysis");
  else baseLog.info({ model: cfg.GEMINI_MODEL, prompt_version: template.version }, "Gemini analysis ready");

  async function run(req: AnalysisRequest, model: string, jobLog: Logger): Promise<AnalysisOutcome> {
    const started = clock.now();
    const budgeted = fitToBudget(req.transcript.trim(), cfg.GEMINI_MAX_INPUT_TOKENS);
    const base = { analysis: null, analysis_model: model, analysis_prompt_version: template.version, analysis_truncated: budgeted.truncated } as const;
    const usage: AnalysisUsage = { prompt_tokens: 0, output_tokens: 0, total_tokens: 0, requests: 0 };
    const fail = (error: AnalysisErrorInfo): AnalysisOutcome => {
      jobLog.warn(
        { code: error.code, retryable: error.retryable, requests: usage.requests, duration_ms: Math.round(clock.now() - started), err_message: error.message },
        "analysis failed; transcript kept",
      );
      return { ...base, analysis_error: error };
    };
    if (!client) throw new Error("unreachable: no Gemini client");
    if (!allowedModels.has(model)) {
      return fail({ code: "llm_bad_request", message: `Model ${model} is not allowed (set GEMINI_ALLOWED_MODELS to allow it)`, retryable: false });
    }
    if (budgeted.truncated) {
      jobLog.info(
        { chars: req.transcript.length, kept_chars: budgeted.text.length, budget_tokens: cfg.GEMINI_MAX_INPUT_TOKENS },
        "transcript cut to the token budget",
      );
    }

    const retryCtx = {
      policy,
      clock,
      deadline: started + cfg.GEMINI_TOTAL_TIMEOUT_MS,
      log: jobLog,
      onRequest: () => void usage.requests++,
      ...(req.signal ? { signal: req.signal } : {}),
    };
    const call = (turns: GeminiCall["turns"]) =>
      callWithRetries(
        (signal) =>
          client.generate({ model, systemInstruction: template.system, turns, responseJsonSchema, maxOutputTokens: cfg.GEMINI_MAX_OUTPUT_TOKENS, signal }),
        retryCtx,
      );

    try {
      const turns: GeminiCall["turns"] = [
        { role: "user", text: renderPrompt(template, { transcript: budgeted.text, language: req.language, truncated: budgeted.truncated }) },
      ];
      let reply = await call(turns);
      addUsage(usage, reply);
      const stop = blocked(reply);
      if (stop) return fail(stop.toJSON() as AnalysisErrorInfo);
      let parsed = parseAnalysis(reply);

      if (!parsed.ok) {
        // One repair: show the model its answer and what is wrong with it.
        jobLog.warn({ problem: parsed.problem.slice(0, 300), finish_reason: reply.finishReason }, "unusable Gemini reply; asking once for a repair");
        const repairTurns: GeminiCall["turns"] = [
          ...turns,
          ...(reply.text?.trim() ? [{ role: "model" as const, text: reply.text }] : []),
          { role: "user", text: renderRepair(template, parsed.problem) },
        ];
        reply = await call(repairTurns);
        addUsage(usage, reply);
        const repairStop = blocked(reply);
        if (repairStop) return fail(repairStop.toJSON() as AnalysisErrorInfo);
        parsed = parseAnalysis(reply);
        if (!parsed.ok) {
          return fail({
            code: "llm_invalid_output",
            message: `Gemini's reply was unusable after one repair attempt: ${parsed.problem}`.slice(0, 600),
            retryable: false,
          });
        }
      }

      jobLog.info(
        {
          requests: usage.requests,
          prompt_tokens: usage.prompt_tokens,
          output_tokens: usage.output_tokens,
          truncated: budgeted.truncated,
          duration_ms: Math.round(clock.now() - started),
        },
        "analysis done",
      );
      return {
        analysis: parsed.analysis,
        analysis_model: model,
        ...(reply.modelVersion ? { analysis_model_version: reply.modelVersion } : {}),
        analysis_prompt_version: template.version,
        analysis_truncated: budgeted.truncated,
        analysis_usage: usage,
      };
    } catch (err) {
      if (err instanceof LlmFailure) return fail(err.toJSON() as AnalysisErrorInfo);
      throw err;
    }
  }

  return {
    async analyze(req) {
      if (req.options?.enabled === false) return { analysis: null, analysis_skipped: "disabled" };
      if (!client) return { analysis: null, analysis_skipped: "no_api_key" };
      if (!req.transcript || req.transcript.trim() === "") return { analysis: null, analysis_skipped: "empty_transcript" };
      const model = req.options?.model ?? cfg.GEMINI_MODEL;
      // A job logger from the pipeline carries its own stage; pino would repeat a rebound key.
      const jobLog = req.log ? req.log.child({ model }) : baseLog.child({ model });
      try {
        return await run(req, model, jobLog);
      } catch (err) {
        // A bug, not a Gemini failure: still never lose the transcript.
        const info = toErrorInfo(err);
        jobLog.error({ err }, "analysis crashed; transcript kept");
        return {
          analysis: null,
          analysis_model: model,
          analysis_prompt_version: template.version,
          analysis_truncated: false,
          analysis_error: { code: info.code as AnalysisErrorInfo["code"], message: info.message, retryable: info.retryable },
        };
      }
    },
  };
}
