// Small pieces every node:http server here needs (REST stand-ins, RunPod's test API).
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** The request body, or null once it exceeds `maxBytes` (the rest is drained and dropped). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) chunks.push(c);
    });
    req.on("end", () => resolve(size > maxBytes ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export interface Listening {
  port: number;
  url: string;
  /** Closes the server and every open connection (keep-alive ones too). */
  close(): Promise<void>;
}

/** Listens (port 0: any free one) and tracks sockets so `close` never waits on idle keep-alives. */
export async function listen(server: Server, port = 0, host = "127.0.0.1"): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A JSON reply (nothing if the response is already on its way or the client is gone). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
