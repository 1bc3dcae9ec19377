import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listen, readBody, sendJson as send } from "../../handler/net/http-server.ts";
import { timingSafeEqual } from "node:crypto";
import { Command, Redis as IORedis } from "ioredis";
import { encodeReply, toArgs, type JsonReply, type RedisReply } from "./encode.ts";
import { CommandCounter } from "./counter.ts";

export const UPSTASH_MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface UpstashRestOptions {
  redis: { host: string; port: number };
  token: string;
  port?: number;
  host?: string;
  maxRequestBytes?: number;
}

export interface UpstashRestServer {
  url: string;
  port: number;
  token: string;
  /** Commands executed, per name: the benchmarks' count of billed commands. */
  counter: CommandCounter;
  /** Refuse connections for a while, as an outage would (the chaos run uses it). */
  stop(): Promise<void>;
}

type Entry = { result: JsonReply } | { error: string };

/** ioredis reshapes some replies (HGETALL to an object, WITHSCORES to pairs); Upstash sends RESP2 as is. */
class RawCommand extends Command {
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

function raw(conn: IORedis, args: string[]): Promise<RedisReply> {
  return conn.sendCommand(new RawCommand(args[0] ?? "", args.slice(1), { replyEncoding: null })) as Promise<RedisReply>;
}

/**
 * A small Upstash-compatible REST server in front of a real redis-server: `POST /` (one
 * command), `/pipeline` (commands in order, not atomic), `/multi-exec` (MULTI/EXEC on one
 * dedicated connection), bearer auth, `Upstash-Encoding: base64`, RESP2-shaped replies.
 */
export async function startUpstashRestServer(opts: UpstashRestOptions): Promise<UpstashRestServer> {
  const maxBytes = opts.maxRequestBytes ?? UPSTASH_MAX_REQUEST_BYTES;
  // RESP2: Upstash replies are RESP2-shaped (ioredis 6 defaults to RESP3, which nests WITHSCORES pairs).
  const redisOpts = { host: opts.redis.host, port: opts.redis.port, protocol: 2 as const, maxRetriesPerRequest: 1 };
  const shared = new IORedis(redisOpts);
  const txConn = new IORedis(redisOpts);
  // Connection errors surface per command as {error}; without listeners ioredis would also
  // print "Unhandled error event" for each reconnect attempt.
  for (const conn of [shared, txConn]) conn.on("error", () => undefined);
  let txChain: Promise<unknown> = Promise.resolve();
  const counter = new CommandCounter();
  const expected = Buffer.from(`Bearer ${opts.token}`);

  const run = async (args: string[], b64: boolean): Promise<Entry> => {
    counter.add(args[0] ?? "");
    try {
      const reply = await raw(shared, args);
      return { result: encodeReply(reply, b64) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };

  // MULTI/EXEC on one connection, one transaction at a time, so nothing interleaves.
  const transaction = (cmds: string[][], b64: boolean): Promise<{ status: number; body: unknown }> => {
    const next = txChain.then(async () => {
      for (const c of cmds) counter.add(c[0] ?? "");
      await raw(txConn, ["MULTI"]);
      let queueError: string | null = null;
      for (const c of cmds) {
        try {
          await raw(txConn, c);
        } catch (err) {
          queueError ??= (err as Error).message;
        }
      }
      try {
        const replies = (await raw(txConn, ["EXEC"])) as RedisReply[] | null;
        if (replies === null) return { status: 400, body: { error: "ERR transaction aborted" } };
        const body: Entry[] = replies.map((r) => (r instanceof Error ? { error: r.message } : { result: encodeReply(r, b64) }));
        return { status: 200, body };
      } catch (err) {
        // EXECABORT: a command was rejected while queueing; nothing ran.
        return { status: 400, body: { error: queueError ? `${(err as Error).message} ${queueError}` : (err as Error).message } };
      }
    });
    txChain = next.catch(() => undefined);
    return next;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const auth = req.headers.authorization ?? "";
    const authBuf = Buffer.from(auth);
    if (authBuf.length !== expected.length || !timingSafeEqual(authBuf, expected)) {
      return send(res, 401, { error: "Unauthorized" });
    }
    if (req.method !== "POST") return send(res, 405, { error: "ERR only POST is supported by this server" });
    const raw = await readBody(req, maxBytes);
    if (raw === null) return send(res, 413, { error: `ERR max request size exceeded. Limit: ${maxBytes} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return send(res, 400, { error: "ERR failed to parse command" });
    }
    const b64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const path = (req.url ?? "/").split("?")[0]?.replace(/\/+$/, "") || "/";
    counter.addRequest(path);

    if (path === "/") {
      const args = toArgs(body);
      if (!args) return send(res, 400, { error: "ERR failed to parse command" });
      const entry = await run(args, b64);
      return send(res, "error" in entry ? 400 : 200, entry);
    }
    if (path === "/pipeline" || path === "/multi-exec") {
      const cmds = Array.isArray(body) ? body.map(toArgs) : null;
      if (!cmds || cmds.length === 0 || cmds.some((c) => c === null)) {
        return send(res, 400, { error: "ERR failed to parse pipeline request" });
      }
      const valid = cmds as string[][];
      if (path === "/multi-exec") {
        const out = await transaction(valid, b64);
        return send(res, out.status, out.body);
      }
      // Sent back to back on one connection: ioredis pipelines them and keeps the order.
      const entries = await Promise.all(valid.map((c) => run(c, b64)));
      return send(res, 200, entries);
    }
    return send(res, 404, { error: `ERR unknown path ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: `ERR ${(err as Error).message}` }));
  });
  const listening = await listen(server, opts.port, opts.host);
  const port = listening.port;

  return {
    url: listening.url,
    port,
    token: opts.token,
    counter,
    async stop() {
      await listening.close();
      shared.disconnect();
      txConn.disconnect();
    },
  };
}


