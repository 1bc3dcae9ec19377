// A fake Gemini API for tests, faithful to the REST wire format the real SDK speaks:
// POST /{v1beta|v1}/models/{model}:generateContent, key in x-goog-api-key, Google's JSON
// request/response shapes and `{error:{code,message,status,details}}` error bodies.
// Each test scripts the replies it needs; every request is recorded.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";

/** The generateContent request body, as the REST API defines it (the fields this worker uses). */
export interface WireRequestBody {
  contents: Array<{ role?: string; parts: Array<{ text?: string }> }>;
  systemInstruction?: { role?: string; parts: Array<{ text?: string }> };
  generationConfig?: { responseMimeType?: string; responseJsonSchema?: unknown; maxOutputTokens?: number; [field: string]: unknown };
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  apiVersion?: string;
  model?: string;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body; `jsonOk` false (and an empty body) when it was not JSON. */
  body: WireRequestBody;
  jsonOk: boolean;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface ScriptedReply {
  status: number;
  /** A JSON body, or a function of the request giving it (to echo the model, count tokens). */
  body: unknown;
  /** Wait this long before answering (a slow model). */
  delayMs?: number;
}

export const SAMPLE_ANALYSIS = {
  title: "Dentist appointment moved to Friday",
  summary: "Anna from the dental practice says Tuesday's appointment moves to Friday at 10. She asks for a call back to confirm.",
  language: "en",
  category: "appointment",
  sentiment: "neutral",
  urgency: "normal",
  action_items: [{ text: "Call the practice back to confirm Friday 10:00", due: "before Friday" }],
  key_points: ["The appointment moves from Tuesday to Friday at 10:00.", "A confirmation call is expected."],
};

const googleError = (code: number, status: string, message: string, details?: unknown[]) => ({
  error: { code, message, status, ...(details ? { details } : {}) },
});

const approxTokens = (value: unknown) => Math.max(1, Math.ceil(JSON.stringify(value ?? "").length / 4));

function candidateReply(text: string | undefined, finishReason: string, extra: Record<string, unknown> = {}) {
  return (req: RecordedRequest) => {
    const promptTokens = approxTokens(req.body.contents) + approxTokens(req.body.systemInstruction);
    const outputTokens = text === undefined ? 0 : approxTokens(text);
    return {
      candidates: [
        {
          ...(text === undefined ? {} : { content: { parts: [{ text }], role: "model" } }),
          finishReason,
          index: 0,
          ...extra,
        },
      ],
      usageMetadata: {
        promptTokenCount: promptTokens,
        candidatesTokenCount: outputTokens,
        totalTokenCount: promptTokens + outputTokens,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: promptTokens }],
      },
      modelVersion: req.model,
      responseId: randomBytes(12).toString("base64url"),
    };
  };
}

const HARM_CATEGORIES = ["HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_SEXUALLY_EXPLICIT"];
const ratings = (flagged: string) =>
  HARM_CATEGORIES.map((category) => ({
    category,
    probability: category === flagged ? "HIGH" : "NEGLIGIBLE",
    ...(category === flagged ? { blocked: true } : {}),
  }));

/** The replies the real API gives, by fault mode. */
export const reply = {
  analysis: (analysis: unknown = SAMPLE_ANALYSIS): ScriptedReply => ({ status: 200, body: candidateReply(JSON.stringify(analysis), "STOP") }),
  text: (text: string, finishReason = "STOP"): ScriptedReply => ({ status: 200, body: candidateReply(text, finishReason) }),
  /** JSON cut off mid-way, as when a reply hits maxOutputTokens. */
  malformedJson: (): ScriptedReply => ({ status: 200, body: candidateReply('{"title": "Dentist appointment", "summary": "Anna says the appo', "MAX_TOKENS") }),
  invalidKey: (): ScriptedReply => ({
    status: 400,
    body: googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: "generativelanguage.googleapis.com" },
      },
      { "@type": "type.googleapis.com/google.rpc.LocalizedMessage", locale: "en-US", message: "API key not valid. Please pass a valid API key." },
    ]),
  }),
  permissionDenied: (message = "Your API key was reported as leaked. Please use another API key."): ScriptedReply => ({
    status: 403,
    body: googleError(403, "PERMISSION_DENIED", message),
  }),
  /** 429 for a per-minute quota, with RetryInfo when `retryDelay` is given ("2s"). */
  rateLimited: (opts: { retryDelay?: string; daily?: boolean } = {}): ScriptedReply => {
    const quotaId = opts.daily ? "GenerateRequestsPerDayPerProjectPerModel-FreeTier" : "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
    const details: unknown[] = [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            quotaId,
            quotaDimensions: { location: "global", model: "gemini-3.5-flash-lite" },
            quotaValue: opts.daily ? "1000" : "15",
          },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [{ description: "Learn more about Gemini API quotas", url: "https://ai.google.dev/gemini-api/docs/rate-limits" }],
      },
    ];
    if (opts.retryDelay) details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: opts.retryDelay });
    const message =
      "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n" +
      `* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: ${opts.daily ? 1000 : 15}` +
      (opts.retryDelay ? `\nPlease retry in ${opts.retryDelay}.` : "");
    return { status: 429, body: googleError(429, "RESOURCE_EXHAUSTED", message, details) };
  },
  /** A bare 429, as proxies and some quota paths send it. */
  rateLimitedBare: (): ScriptedReply => ({ status: 429, body: googleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).") }),
  unavailable: (): ScriptedReply => ({ status: 503, body: googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.") }),
  internal: (): ScriptedReply => ({
    status: 500,
    body: googleError(
      500,
      "INTERNAL",
      "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
  }),
  slow: (delayMs: number, inner: ScriptedReply = reply.analysis()): ScriptedReply => ({ ...inner, delayMs }),
  /** The prompt itself was refused: no candidates, promptFeedback.blockReason. */
  blockedPrompt: (blockReason = "PROHIBITED_CONTENT"): ScriptedReply => ({
    status: 200,
    body: (req: RecordedRequest) => ({
      promptFeedback: { blockReason, ...(blockReason === "SAFETY" ? { safetyRatings: ratings("HARM_CATEGORY_HARASSMENT") } : {}) },
      usageMetadata: { promptTokenCount: approxTokens(req.body.contents), totalTokenCount: approxTokens(req.body.contents) },
      modelVersion: req.model,
      responseId: randomBytes(12).toString("base64url"),
    }),
  }),
  /** The answer was stopped: finishReason SAFETY (or RECITATION, ...) and no text. */
  safetyStop: (finishReason = "SAFETY"): ScriptedReply => ({
    status: 200,
    body: candidateReply(undefined, finishReason, finishReason === "SAFETY" ? { safetyRatings: ratings("HARM_CATEGORY_DANGEROUS_CONTENT") } : {}),
  }),
  /** A 502 page from a load balancer in front of the API (HTML, not Google's JSON). */
  badGateway: (): ScriptedReply => ({ status: 502, body: "<html><body><h1>502 Bad Gateway</h1></body></html>" }),
  custom: (status: number, body: unknown): ScriptedReply => ({ status, body }),
};

export interface FakeGemini {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Queue replies for the next authenticated generateContent requests, in order. */
  script(...replies: ScriptedReply[]): void;
  /** Replies not used yet. */
  pending(): number;
  close(): Promise<void>;
}

const PATH = /^\/(v1beta|v1)\/models\/([^/:]+):generateContent$/;

/** Starts the fake on 127.0.0.1 with a free port. Unscripted requests get a valid analysis. */
export async function startFakeGemini(opts: { apiKey: string }): Promise<FakeGemini> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  const timers = new Set<NodeJS.Timeout>();

  // A string body goes out as HTML, like a load balancer's error page; anything else as JSON.
  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed || res.writableEnded) return;
    const html = typeof body === "string";
    const text = html ? body : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": html ? "text/html; charset=UTF-8" : "application/json; charset=UTF-8",
      "content-length": Buffer.byteLength(text),
      server: "scaffolding on HTTPServer2",
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const match = PATH.exec(url.pathname);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = undefined;
    }
    const jsonOk = typeof body === "object" && body !== null;
    const rec: RecordedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      headers: req.headers,
      body: (jsonOk ? body : { contents: [] }) as WireRequestBody,
      jsonOk,
      at: performance.now(),
    };
    if (match) {
      rec.apiVersion = match[1];
      rec.model = decodeURIComponent(match[2]!);
    }
    requests.push(rec);

    if (req.method !== "POST" || !match) return send(res, 404, googleError(404, "NOT_FOUND", `Method not found: ${req.method} ${url.pathname}`));
    const key = req.headers["x-goog-api-key"];
    if (key === undefined) {
      return send(
        res,
        403,
        googleError(
          403,
          "PERMISSION_DENIED",
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
      );
    }
    if (key !== opts.apiKey) return send(res, 400, reply.invalidKey().body);
    const problem = rec.jsonOk ? checkRequest(rec.body) : "Invalid JSON payload received.";
    if (problem) return send(res, 400, googleError(400, "INVALID_ARGUMENT", problem));

    const next = queue.shift() ?? reply.analysis();
    const answer = () => send(res, next.status, typeof next.body === "function" ? (next.body as (r: RecordedRequest) => unknown)(rec) : next.body);
    if (!next.delayMs) return answer();
    const timer = setTimeout(() => {
      timers.delete(timer);
      answer();
    }, next.delayMs);
    timers.add(timer);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, googleError(500, "INTERNAL", "fake server error")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The checks the real API makes that this worker could trip over. */
function checkRequest(body: Partial<WireRequestBody>): string | undefined {
  const contents: unknown = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return "* GenerateContentRequest.contents: contents is not specified\n";
  for (const c of contents as Array<{ parts?: unknown; role?: unknown }>) {
    if (!Array.isArray(c?.parts) || c.parts.length === 0) return "* GenerateContentRequest.contents.parts: contents.parts must not be empty.\n";
  }
  // Gemini 3.5 Flash-Lite refuses a request whose last turn is the model's.
  if ((contents.at(-1) as { role?: unknown }).role === "model") return "Please ensure that the last content has role user.";
  const gen = body.generationConfig ?? {};
  if (gen.responseJsonSchema !== undefined && gen.responseMimeType !== "application/json") {
    return "response_mime_type must be application/json when response_json_schema is set.";
  }
  return undefined;
}
