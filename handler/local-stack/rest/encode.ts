// Reply encoding exactly as Upstash's REST API does it, so the unchanged @upstash/redis client
// (which base64-decodes every string except "OK") round-trips through real Redis.

/**
 * What ioredis' callBuffer gives back with `stringNumbers`: Buffers for bulk and status strings,
 * integers as their decimal text (a JS number would round beyond 2^53), null, arrays, errors.
 */
export type RedisReply = Buffer | string | number | null | RedisReply[] | Error;

/** An integer reply, kept as the digits Redis sent: it goes out as a JSON number, digit for digit. */
export class RedisInteger {
  constructor(readonly digits: string) {}
}

export type JsonReply = string | RedisInteger | null | JsonReply[];

export function encodeReply(reply: RedisReply, base64: boolean): JsonReply {
  if (reply === null) return null;
  if (typeof reply === "string" || typeof reply === "number") return new RedisInteger(String(reply));
  if (Array.isArray(reply)) return reply.map((r) => encodeReply(r, base64));
  if (reply instanceof Error) {
    // An error nested in an array (EXEC results) has no RESP2 JSON form on Upstash other than
    // its text; callers that can, surface it as {error} instead.
    return reply.message;
  }
  if (!base64) return reply.toString("utf8");
  return reply.length === 2 && reply.toString() === "OK" ? "OK" : reply.toString("base64");
}

const JSON_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** JSON text in which every RedisInteger is written as its digits (JSON.stringify cannot). */
export function toJson(value: unknown): string {
  if (value instanceof RedisInteger) return JSON_INTEGER.test(value.digits) ? value.digits : JSON.stringify(value.digits);
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
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
