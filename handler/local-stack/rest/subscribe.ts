// Upstash's pub/sub over REST: `POST /subscribe/<channel>` and `/psubscribe/<pattern>` answer a
// server-sent event stream, one `data:` line per event, as @upstash/redis's subscribe() reads it:
//   data: subscribe,<channel>,<count>        data: message,<channel>,<message>
//   data: psubscribe,<pattern>,<count>       data: pmessage,<pattern>,<channel>,<message>
// Messages go out as UTF-8 text, not base64 (the client decodes none of them). Each stream has a
// Redis connection of its own, closed when the client goes away (unsubscribe aborts the fetch):
// a subscribed connection can run nothing else, so it is never the shared one.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Redis as IORedis, type RedisOptions } from "ioredis";

export type SubscribeKind = "subscribe" | "psubscribe";

/** SSE framing: a line break inside a field would end the event, so each line gets its own `data:`. */
export function sseEvent(fields: string[]): string {
  return `${fields
    .join(",")
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

export interface Subscriptions {
  /** Streams open now. */
  readonly size: number;
  serve(kind: SubscribeKind, target: string, req: IncomingMessage, res: ServerResponse, fail: (status: number, error: string) => void): Promise<void>;
  closeAll(): void;
}

/**
 * Serves subscription streams, at most `max` at a time (each holds a Redis connection and a
 * socket: a flood of them must not exhaust the server's file descriptors or Redis's clients).
 */
export function createSubscriptions(redis: RedisOptions, max: number, keepAliveMs = 15_000): Subscriptions {
  const open = new Set<() => void>();
  return {
    get size() {
      return open.size;
    },
    async serve(kind, target, _req, res, fail) {
      if (open.size >= max) return fail(429, `ERR too many subscriptions: at most ${max} streams at a time`);
      // One try, no reconnects: a stream whose connection drops ends, and the client sees it end.
      const conn = new IORedis({ ...redis, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
      // A comment now and then once the stream is open: proxies keep it, a dead client is noticed.
      const timer = setInterval(() => {
        if (res.headersSent && !res.writableEnded && !res.destroyed) res.write(": keep-alive\n\n");
      }, keepAliveMs);
      timer.unref();
      const close = () => {
        if (!open.delete(close)) return;
        clearInterval(timer);
        conn.disconnect();
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      conn.on("error", () => undefined); // surfaced through the commands below or the stream's end
      conn.on("end", close);
      res.on("close", close);
      res.on("error", close); // a write racing the client's disconnect must not become an uncaught error
      const write = (fields: string[]) => {
        if (!res.writableEnded && !res.destroyed) res.write(sseEvent(fields));
      };
      conn.on("messageBuffer", (channel: Buffer, message: Buffer) => write(["message", channel.toString("utf8"), message.toString("utf8")]));
      conn.on("pmessageBuffer", (pattern: Buffer, channel: Buffer, message: Buffer) =>
        write(["pmessage", pattern.toString("utf8"), channel.toString("utf8"), message.toString("utf8")]),
      );
      let count: unknown;
      try {
        await conn.connect();
        count = kind === "subscribe" ? await conn.subscribe(target) : await conn.psubscribe(target);
      } catch (err) {
        fail(400, `ERR ${(err as Error).message}`);
        close();
        return;
      }
      if (!open.has(close)) return; // the client left while we subscribed
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      write([kind, target, String(count)]);
    },
    closeAll() {
      for (const close of [...open]) close();
    },
  };
}
