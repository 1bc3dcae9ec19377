import { z } from "zod";

/**
 * The analysis of one transcript. This one schema is the response schema sent to Gemini,
 * the validation of its reply and the TypeScript type: they cannot drift apart.
 */
export const CATEGORIES = ["personal", "work", "appointment", "task", "question", "information", "complaint", "sales", "support", "other"] as const;

export const analysisSchema = z.object({
  title: z.string().min(1).describe("A short headline for the message, at most about ten words, in the transcript's language."),
  summary: z.string().min(1).describe("Two to four sentences: what the speaker says and wants, in the transcript's language."),
  language: z.string().min(2).describe("Language of the transcript as a BCP-47 code, e.g. en, de, pt-BR."),
  category: z.enum(CATEGORIES).describe("The best-fitting kind of message."),
  sentiment: z.enum(["positive", "neutral", "negative", "mixed"]).describe("The speaker's overall tone."),
  urgency: z.enum(["low", "normal", "high", "critical"]).describe("How soon the recipient should act."),
  action_items: z
    .array(
      z.object({
        text: z.string().min(1).describe("What has to be done, and by whom if said."),
        due: z.string().optional().describe("When it is due: an ISO 8601 date if the speaker names one, else the words used."),
      }),
    )
    .max(20)
    .describe("Concrete things the recipient is asked to do; empty if none."),
  key_points: z.array(z.string().min(1)).max(10).describe("The main facts of the message, one short sentence each."),
});

export type Analysis = z.infer<typeof analysisSchema>;

// The keywords Gemini's responseJsonSchema honours (per the SDK's GenerateContentConfig docs);
// anything else ($schema, minLength, ...) is dropped rather than risk a rejected request.
const KEPT_KEYWORDS = new Set([
  "$id",
  "$defs",
  "$ref",
  "$anchor",
  "type",
  "format",
  "title",
  "description",
  "enum",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minimum",
  "maximum",
  "anyOf",
  "oneOf",
  "properties",
  "additionalProperties",
  "required",
  "propertyOrdering",
]);
const SCHEMA_MAPS = new Set(["properties", "$defs"]);
const SCHEMA_LISTS = new Set(["anyOf", "oneOf", "prefixItems"]);

function keepSupported(node: unknown): unknown {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (!KEPT_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && typeof value === "object" && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, sub]) => [name, keepSupported(sub)]));
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(keepSupported);
    } else if (key === "items" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = keepSupported(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The JSON Schema sent as `responseJsonSchema`, restricted to what Gemini supports. */
export function analysisJsonSchema(): Record<string, unknown> {
  return keepSupported(z.toJSONSchema(analysisSchema)) as Record<string, unknown>;
}

/** Every keyword Gemini accepts; exported for the tests that check the schema sent. */
export const SUPPORTED_SCHEMA_KEYWORDS: ReadonlySet<string> = KEPT_KEYWORDS;
