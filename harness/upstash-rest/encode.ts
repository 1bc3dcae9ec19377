// Reply encoding exactly as Upstash's REST API does it, so the unchanged @upstash/redis client
// (which base64-decodes every string except "OK") round-trips through real Redis.

/** What ioredis' callBuffer gives back: Buffers for bulk/status strings, numbers, null, arrays, errors. */
export type RedisReply = Buffer | string | number | null | RedisReply[] | Error;
export type JsonReply = string | number | null | JsonReply[];

export function encodeReply(reply: RedisReply, base64: boolean): JsonReply {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((r) => encodeReply(r, base64));
  if (reply instanceof Error) {
    // An error nested in an array (EXEC results) has no RESP2 JSON form on Upstash other than
    // its text; callers that can, surface it as {error} instead.
    return reply.message;
  }
  const buf = typeof reply === "string" ? Buffer.from(reply) : reply;
  if (!base64) return buf.toString("utf8");
  return buf.length === 2 && buf.toString() === "OK" ? "OK" : buf.toString("base64");
}

/** Upstash accepts strings, numbers and booleans as arguments and sends them to Redis as strings. */
export function toArgs(command: unknown): string[] | null {
  if (!Array.isArray(command) || command.length === 0) return null;
  const out: string[] = [];
  for (const a of command) {
    if (typeof a === "string") out.push(a);
    else if (typeof a === "number" || typeof a === "boolean") out.push(String(a));
    else return null;
  }
  return out;
}
