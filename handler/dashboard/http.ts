// Response helpers: the security headers every answer carries, JSON, the static front-end.
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname } from "node:path";

/**
 * Scripts, styles, audio and fetches from this server only; no inline script or style, no
 * plugin, no framing, forms post only here. User content is inserted as text (textContent), and
 * this policy is the second line should that ever slip.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export function securityHeaders(res: ServerResponse): void {
  res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("x-frame-options", "DENY");
  // Not "no-referrer": under it browsers send `Origin: null` with same-origin POSTs, and the
  // actions' CSRF check needs the real origin. Nothing goes to other sites either way.
  res.setHeader("referrer-policy", "same-origin");
  res.setHeader("cross-origin-opener-policy", "same-origin");
  res.setHeader("cross-origin-resource-policy", "same-origin");
  res.setHeader("cache-control", "no-store");
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string | number> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...extra });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

export function redirect(res: ServerResponse, location: string, extra: Record<string, string> = {}): void {
  res.writeHead(303, { location, "content-length": 0, ...extra });
  res.end();
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The front-end's files, read once: a fixed list of names, so no path from a request ever reaches the file system. */
export class StaticFiles {
  readonly #files = new Map<string, { body: Buffer; type: string }>();

  constructor(dir: URL) {
    const walk = (sub: string) => {
      for (const entry of readdirSync(new URL(sub, dir), { withFileTypes: true })) {
        const rel = `${sub}${entry.name}`;
        if (entry.isDirectory()) walk(`${rel}/`);
        else if (TYPES[extname(entry.name)] && /^[a-z0-9/-]+\.[a-z]+$/.test(rel)) {
          this.#files.set(rel, { body: readFileSync(new URL(rel, dir)), type: TYPES[extname(entry.name)]! });
        }
      }
    };
    walk("");
  }

  has(name: string): boolean {
    return this.#files.has(name);
  }

  send(req: IncomingMessage, res: ServerResponse, name: string): boolean {
    const file = this.#files.get(name);
    if (!file) return false;
    res.writeHead(200, { "content-type": file.type, "content-length": file.body.length });
    res.end(req.method === "HEAD" ? undefined : file.body);
    return true;
  }
}

/** The request body as text, or null past `maxBytes` (then the connection is closed). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        if (!over) resolve(null);
        over = true;
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => !over && resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
