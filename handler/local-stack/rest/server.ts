import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listen, readBody } from "../../net/http-server.ts";
import { timingSafeEqual } from "node:crypto";
import { Command, Redis as IORedis, type RedisOptions } from "ioredis";
import { encodeReply, toArgs, toJson, type JsonReply, type RedisReply } from "./encode.ts";
import { CommandCounter } from "./counter.ts";
import { parseCommandTable, refusal, type CommandTable } from "./command-policy.ts";
import { createSubscriptions, type SubscribeKind } from "./subscribe.ts";

export const UPSTASH_MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface UpstashRestOptions {
  redis: { host: string; port: number };
  token: string;
  port?: number;
  host?: string;
  maxRequestBytes?: number;
  /** Subscription streams open at once (each holds a Redis connection). */
  maxSubscriptions?: number;
}

export interface UpstashRestServer {
  url: string;
  port: number;
  token: string;
  /** Commands executed, per name: the benchmarks' count of billed commands. */
  counter: CommandCounter;
  /** Subscription streams open now. */
  subscriptions(): number;
  /** Refuse connections for a while, as an outage would (the chaos run uses it). */
  stop(): Promise<void>;
}

type Entry = { result: JsonReply } | { error: string };
type Outcome = { status: number; body: unknown };

/** ioredis reshapes some replies (HGETALL to an object, WITHSCORES to pairs); Upstash sends RESP2 as is. */
class RawCommand extends Command {
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

function raw(conn: IORedis, args: string[]): Promise<RedisReply> {
  return conn.sendCommand(new RawCommand(args[0] ?? "", args.slice(1), { replyEncoding: null })) as Promise<RedisReply>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = toJson(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const SUBSCRIBE_PATH = /^\/(subscribe|psubscribe)\/(.+)$/;

/**
 * A small Upstash-compatible REST server in front of a real redis-server: `POST /` (one
 * command), `/pipeline` (commands in order, not atomic), `/multi-exec` (MULTI/EXEC on one
 * dedicated connection, all or nothing), `/subscribe/<channel>` and `/psubscribe/<pattern>`
 * (server-sent events, a connection each), bearer auth, `Upstash-Encoding: base64`,
 * RESP2-shaped replies with integers digit for digit. Commands that would change, hold or hand
 * over the shared connection are refused before anything runs (command-policy.ts).
 */
export async function startUpstashRestServer(opts: UpstashRestOptions): Promise<UpstashRestServer> {
  const maxBytes = opts.maxRequestBytes ?? UPSTASH_MAX_REQUEST_BYTES;
  // RESP2: Upstash replies are RESP2-shaped (ioredis 6 defaults to RESP3, which nests WITHSCORES
  // pairs). stringNumbers: integer replies keep every digit. No resending after a reconnect: a
  // command whose connection dropped fails (the client may retry), it never runs twice or, in a
  // transaction, outside MULTI.
  const redisOpts: RedisOptions = { host: opts.redis.host, port: opts.redis.port, protocol: 2 };
  const commandOpts: RedisOptions = { ...redisOpts, maxRetriesPerRequest: 1, stringNumbers: true, autoResendUnfulfilledCommands: false };
  const shared = new IORedis(commandOpts);
  const txConn = new IORedis(commandOpts);
  // Connection errors surface per command as {error}; without listeners ioredis would also
  // print "Unhandled error event" for each reconnect attempt.
  for (const conn of [shared, txConn]) conn.on("error", () => undefined);
  const subscriptions = createSubscriptions(redisOpts, opts.maxSubscriptions ?? 200);
  let txChain: Promise<unknown> = Promise.resolve();
  const counter = new CommandCounter();
  const expected = Buffer.from(`Bearer ${opts.token}`);

  // The running server's own command table, read once it answers (again after a failure).
  let table: Promise<CommandTable> | null = null;
  const commandTable = (): Promise<CommandTable> => {
    table ??= raw(shared, ["COMMAND"]).then(parseCommandTable, (err: unknown) => {
      table = null;
      throw err;
    });
    return table;
  };

  /** The first refusal among `cmds`, or null when all of them may run. */
  const refused = async (cmds: string[][]): Promise<string | null> => {
    let t: CommandTable;
    try {
      t = await commandTable();
    } catch (err) {
      return `ERR cannot check the command against Redis's command table: ${(err as Error).message}`;
    }
    for (const c of cmds) {
      const why = refusal(t, c);
      if (why) return why;
    }
    return null;
  };

  const run = async (args: string[], b64: boolean): Promise<Entry> => {
    counter.add(args[0] ?? "");
    try {
      return { result: encodeReply(await raw(shared, args), b64) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };

  // MULTI, the commands and EXEC go out back to back on one connection, one transaction at a
  // time, so nothing interleaves and EXEC is always sent (the connection never stays in MULTI).
  const transaction = (cmds: string[][], b64: boolean): Promise<Outcome> => {
    const next = txChain.then(async (): Promise<Outcome> => {
      for (const c of cmds) counter.add(c[0] ?? "");
      const sent = [raw(txConn, ["MULTI"]), ...cmds.map((c) => raw(txConn, c)), raw(txConn, ["EXEC"])];
      const settled = await Promise.allSettled(sent);
      const exec = settled[settled.length - 1]!;
      if (exec.status === "rejected") {
        // EXECABORT: a command was rejected while queueing; nothing ran.
        const queueError = settled.slice(0, -1).find((s) => s.status === "rejected");
        const reason = (exec.reason as Error).message;
        return { status: 400, body: { error: queueError ? `${reason} ${(queueError.reason as Error).message}` : reason } };
      }
      const replies = exec.value as RedisReply[] | null;
      if (replies === null) return { status: 400, body: { error: "ERR transaction aborted" } };
      const body: Entry[] = replies.map((r) => (r instanceof Error ? { error: r.message } : { result: encodeReply(r, b64) }));
      return { status: 200, body };
    });
    txChain = next.catch(() => undefined);
    return next;
  };

  const commands = async (path: string, body: unknown, b64: boolean): Promise<Outcome> => {
    if (path === "/") {
      const args = toArgs(body);
      if (!args) return { status: 400, body: { error: "ERR failed to parse command" } };
      const no = await refused([args]);
      if (no) return { status: 400, body: { error: no } };
      const entry = await run(args, b64);
      return { status: "error" in entry ? 400 : 200, body: entry };
    }
    const cmds = Array.isArray(body) ? body.map(toArgs) : null;
    if (!cmds || cmds.length === 0 || cmds.some((c) => c === null)) {
      return { status: 400, body: { error: "ERR failed to parse pipeline request" } };
    }
    const valid = cmds as string[][];
    // Refused before anything of the request runs: a pipeline or transaction is taken whole or not at all.
    const no = await refused(valid);
    if (no) return { status: 400, body: { error: no } };
    if (path === "/multi-exec") return transaction(valid, b64);
    // Sent back to back on one connection: ioredis pipelines them and keeps the order.
    return { status: 200, body: await Promise.all(valid.map((c) => run(c, b64))) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const auth = req.headers.authorization ?? "";
    const authBuf = Buffer.from(auth);
    if (authBuf.length !== expected.length || !timingSafeEqual(authBuf, expected)) {
      return send(res, 401, { error: "Unauthorized" });
    }
    const path = (req.url ?? "/").split("?")[0]?.replace(/\/+$/, "") || "/";
    const sub = SUBSCRIBE_PATH.exec(path);
    const allowed = sub ? ["POST", "GET"] : ["POST"];
    if (!allowed.includes(req.method ?? "")) return send(res, 405, { error: `ERR only ${allowed.join(" and ")} supported on this path` });
    const rawBody = await readBody(req, maxBytes);
    if (rawBody === null) return send(res, 413, { error: `ERR max request size exceeded. Limit: ${maxBytes} bytes` });
    if (sub) {
      counter.addRequest(`/${sub[1]}`);
      let target: string;
      try {
        target = decodeURIComponent(sub[2]!);
      } catch {
        return send(res, 400, { error: "ERR malformed channel in the path" });
      }
      return subscriptions.serve(sub[1] as SubscribeKind, target, req, res, (status, error) => send(res, status, { error }));
    }
    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString("utf8"));
    } catch {
      return send(res, 400, { error: "ERR failed to parse command" });
    }
    const b64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    counter.addRequest(path);
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") return send(res, 404, { error: `ERR unknown path ${path}` });
    const out = await commands(path, body, b64);
    return send(res, out.status, out.body);
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
    subscriptions: () => subscriptions.size,
    async stop() {
      subscriptions.closeAll();
      await listening.close();
      shared.disconnect();
      txConn.disconnect();
    },
  };
}
