import { ApiError, GoogleGenAI, type GenerateContentResponse } from "@google/genai";
import type { Secret } from "../config/secret.ts";
import { classifyHttpError, classifyNetworkError, LlmFailure } from "./failure.ts";

/** One generateContent request, in the worker's terms. */
export interface GeminiCall {
  model: string;
  systemInstruction: string;
  turns: Array<{ role: "user" | "model"; text: string }>;
  responseJsonSchema: Record<string, unknown>;
  maxOutputTokens: number;
  signal: AbortSignal;
}

/** What the analyzer needs from a reply. `text` is undefined when nothing was generated. */
export interface GeminiReply {
  text: string | undefined;
  finishReason?: string;
  blockReason?: string;
  blockReasonMessage?: string;
  modelVersion?: string;
  usage?: { promptTokens: number; outputTokens: number; totalTokens: number };
}

/** The outside system, behind one small interface; failures are thrown as LlmFailure. */
export interface GeminiClient {
  generate(call: GeminiCall): Promise<GeminiReply>;
}

function toReply(res: GenerateContentResponse): GeminiReply {
  const candidate = res.candidates?.[0];
  const u = res.usageMetadata;
  const reply: GeminiReply = { text: res.text };
  if (candidate?.finishReason) reply.finishReason = candidate.finishReason;
  if (res.promptFeedback?.blockReason) reply.blockReason = res.promptFeedback.blockReason;
  if (res.promptFeedback?.blockReasonMessage) reply.blockReasonMessage = res.promptFeedback.blockReasonMessage;
  if (res.modelVersion) reply.modelVersion = res.modelVersion;
  if (u) {
    reply.usage = {
      promptTokens: u.promptTokenCount ?? 0,
      // Thinking tokens are billed as output.
      outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
      totalTokens: u.totalTokenCount ?? 0,
    };
  }
  return reply;
}

/**
 * The real adapter on @google/genai. The SDK's own retries stay off (no `retryOptions`): the
 * analyzer retries, so attempts and waits are bounded, logged and testable. The caller's
 * signal bounds each attempt (the analyzer arms it with the per-attempt timeout).
 * Aborts are re-thrown as they are; the analyzer knows whether it was a timeout or a cancel.
 */
export function createGeminiClient(opts: { apiKey: Secret; baseUrl?: string }): GeminiClient {
  const ai = new GoogleGenAI({
    vertexai: false,
    apiKey: opts.apiKey.reveal(),
    ...(opts.baseUrl ? { httpOptions: { baseUrl: opts.baseUrl } } : {}),
  });
  return {
    async generate(call) {
      let res: GenerateContentResponse;
      try {
        res = await ai.models.generateContent({
          model: call.model,
          contents: call.turns.map((t) => ({ role: t.role, parts: [{ text: t.text }] })),
          config: {
            systemInstruction: call.systemInstruction,
            responseMimeType: "application/json",
            responseJsonSchema: call.responseJsonSchema,
            maxOutputTokens: call.maxOutputTokens,
            abortSignal: call.signal,
          },
        });
      } catch (err) {
        if (call.signal.aborted) throw err;
        throw toFailure(err);
      }
      return toReply(res);
    },
  };
}

function toFailure(err: unknown): unknown {
  if (err instanceof ApiError) return classifyHttpError(err.status, err.message);
  // Node's fetch: TypeError("fetch failed") with the socket error as cause; "terminated" mid-body.
  if (err instanceof TypeError && /fetch failed|terminated|network|socket/i.test(err.message)) return classifyNetworkError(err);
  if (err instanceof SyntaxError) {
    // A 200 whose body is not JSON: a broken proxy or a cut connection.
    return new LlmFailure("llm_unavailable", "Gemini returned a response body that is not JSON", { retryable: true, retryNow: true, cause: err });
  }
  return err;
}
