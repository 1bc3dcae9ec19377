import { readBody as readBodyBytes, sendJson } from "../../handler/net/http-server.ts";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names, as Node gives them. */
  headers: Record<string, string>;
  body: string;
  status?: number;
}

export function send(res: ServerResponse, status: number, body?: unknown, raw?: { text: string; type: string }, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (raw) {
    res.writeHead(status, { "content-type": raw.type, "content-length": Buffer.byteLength(raw.text) });
    res.end(raw.text);
    return;
  }
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  sendJson(res, status, body);
}

/** The body as text, or null once it exceeds `max` bytes (the rest is drained). */
export async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return (await readBodyBytes(req, max))?.toString("utf8") ?? null;
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** True once the client hung up (a worker aborting its long poll): no job may be handed to it then. */
export function hungUp(res: ServerResponse): () => boolean {
  let gone = false;
  res.on("close", () => {
    if (!res.writableFinished) gone = true;
  });
  return () => gone;
}
