// The local REST server shares one Redis connection between all requests (and the local-mode
// worker runs it in its own process: local-mode-worker.system.test.ts): no request may change,
// hold or hand over that connection, and none may crash the process. These tests send, through
// real HTTP to a real redis-server, each request the issue found harmful, and check what a
// second client sees afterwards.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { Redis } from "@upstash/redis";
import { execa } from "execa";
import { createInterface } from "node:readline";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { startUpstashRestServer } from "../../handler/local-stack/rest/server.ts";
import { sseEvent } from "../../handler/local-stack/rest/subscribe.ts";
import { commandTable, restClient, untilTrue, type Rest } from "./rest-helpers.ts";

let stack: LocalStack;
let rest: Rest;
let redis: Redis;
const k = (s: string) => `rest-test:${randomUUID().slice(0, 8)}:${s}`;
const NOT_AVAILABLE = /^ERR Command is not available: '/;

beforeAll(async () => {
  stack = await startLocalStack();
  rest = restClient(stack.env.UPSTASH_REDIS_REST_URL, stack.env.UPSTASH_REDIS_REST_TOKEN);
  redis = new Redis({ url: stack.env.UPSTASH_REDIS_REST_URL, token: stack.env.UPSTASH_REDIS_REST_TOKEN, automaticDeserialization: false });
});
afterAll(async () => {
  await stack.stop();
});

/** Sends `cmd` to `/`, expects Upstash's refusal, and checks the server still answers. */
async function expectRefused(cmd: Array<string | number>): Promise<void> {
  const r = await rest.post("/", cmd);
  expect(r.status, `${cmd.join(" ")}: ${r.text}`).toBe(400);
  expect((r.json as { error: string }).error, cmd.join(" ")).toMatch(NOT_AVAILABLE);
  expect((await rest.post("/", ["PING"])).json).toEqual({ result: "PONG" });
}

describe("REST server: connection-state commands are refused before they run", () => {
  it("SUBSCRIBE and the other subscription commands are refused with Upstash's error shape; the server keeps serving", async () => {
    for (const cmd of [["SUBSCRIBE", "x"], ["PSUBSCRIBE", "x*"], ["SSUBSCRIBE", "x"], ["UNSUBSCRIBE"], ["PUNSUBSCRIBE"], ["SUNSUBSCRIBE"]]) {
      await expectRefused(cmd);
    }
  });

  it("MULTI is refused: another client's next commands run, they are not QUEUED", async () => {
    const key = k("after-multi");
    await expectRefused(["MULTI"]);
    expect((await rest.post("/", ["SET", key, "v"])).json).toEqual({ result: "OK" });
    expect(await redis.get(key)).toBe("v");
    expect(await redis.set(key, "w")).toBe("OK");
  });

  it("CLIENT REPLY OFF / SKIP are refused: later requests still get their replies", async () => {
    for (const mode of ["OFF", "SKIP"]) await expectRefused(["CLIENT", "REPLY", mode]);
    expect(await redis.echo("still answered")).toBe("still answered");
  });

  it("SELECT, SWAPDB, MOVE and COPY ... DB are refused: every client stays on database 0 and keeps its keys", async () => {
    const key = k("db0");
    await redis.set(key, "in db 0");
    await expectRefused(["SELECT", 1]);
    await expectRefused(["SWAPDB", 0, 1]);
    await expectRefused(["MOVE", key, 1]);
    await expectRefused(["COPY", key, k("copy"), "DB", 1]);
    expect(await redis.get(key)).toBe("in db 0");
    // COPY within the database is an ordinary command.
    expect((await rest.post("/", ["COPY", key, k("copy")])).json).toEqual({ result: 1 });
  });

  it("blocking commands are refused at once instead of holding the shared connection; XREAD without BLOCK still runs", async () => {
    const key = k("list");
    const blocking = [
      ["BLPOP", key, 3],
      ["BRPOP", key, 3],
      ["BRPOPLPUSH", key, k("dst"), 3],
      ["BLMOVE", key, k("dst"), "LEFT", "RIGHT", 3],
      ["BLMPOP", 3, 1, key, "LEFT"],
      ["BZPOPMIN", key, 3],
      ["BZPOPMAX", key, 3],
      ["BZMPOP", 3, 1, key, "MIN"],
      ["XREAD", "BLOCK", 3000, "STREAMS", key, "$"],
      ["XREADGROUP", "GROUP", "g", "c", "BLOCK", 3000, "STREAMS", key, ">"],
      ["WAIT", 1, 3000],
    ];
    // All at once: had one of them run, it would hold the connection and the PING behind it.
    const [ping, ...replies] = await Promise.all([rest.post("/", ["PING"]), ...blocking.map((c) => rest.post("/", c))]);
    expect(ping.json).toEqual({ result: "PONG" });
    for (const [i, r] of replies.entries()) {
      expect(r.status, blocking[i]!.join(" ")).toBe(400);
      expect((r.json as { error: string }).error).toMatch(NOT_AVAILABLE);
    }
    expect((await rest.post("/", ["XREAD", "COUNT", 1, "STREAMS", key, "0"])).json).toEqual({ result: null });
  });

  it("administration and connection commands are refused; what the worker and @upstash/redis use is not", async () => {
    const refused = [
      ["EXEC"],
      ["DISCARD"],
      ["WATCH", k("w")],
      ["UNWATCH"],
      ["MONITOR"],
      ["SYNC"],
      ["PSYNC", "?", -1],
      ["QUIT"],
      ["RESET"],
      ["HELLO", 3],
      ["AUTH", "x"],
      ["CLIENT", "SETNAME", "x"],
      ["CLIENT", "KILL", "TYPE", "normal"],
      ["CLIENT", "PAUSE", 10],
      ["CLIENT", "TRACKING", "ON"],
      ["SHUTDOWN", "NOSAVE"],
      ["DEBUG", "SLEEP", 0],
      ["CONFIG", "SET", "maxmemory", "1"],
      ["CONFIG", "GET", "*"],
      ["REPLICAOF", "127.0.0.1", 9],
      ["ACL", "SETUSER", "default", "off"],
      ["SCRIPT", "DEBUG", "YES"],
      ["FAILOVER"],
      ["MIGRATE", "127.0.0.1", 9, k("m"), 0, 10],
      ["SAVE"],
      ["READONLY"],
      ["COMMAND"],
    ];
    for (const cmd of refused) await expectRefused(cmd);
    const key = k("allowed");
    const allowed = [
      ["PING"],
      ["ECHO", "e"],
      ["SET", key, "1"],
      ["GET", key],
      ["APPEND", key, "2"],
      ["HSET", k("h"), "f", "v"],
      ["HMGET", k("h"), "f"],
      ["ZADD", k("z"), 1, "m"],
      ["ZRANGE", k("z"), 0, -1],
      ["KEYS", `${key}*`],
      ["SCAN", 0],
      ["EXISTS", key],
      ["DEL", key],
      ["EVAL", "return 1", 0],
      ["SCRIPT", "LOAD", "return 2"],
      ["SCRIPT", "EXISTS", "x"],
      ["EVALSHA", "7f923f79fe76194c868d7e1d0820de36700eb649", 0],
      ["PUBLISH", "c", "m"],
      ["PUBSUB", "NUMSUB", "c"],
      ["TIME"],
      ["DBSIZE"],
      ["INFO", "server"],
      ["FUNCTION", "LIST"],
    ];
    for (const cmd of allowed) {
      const r = await rest.post("/", cmd);
      expect(r.status, `${cmd.join(" ")}: ${r.text}`).toBe(200);
    }
  });

  it("the rule follows the running server's own COMMAND flags, subcommands included", async () => {
    // Every entry Redis flags as blocking, admin, connection-bound or script-forbidden
    // (scripting commands aside) is refused, sent bare: the refusal comes before Redis's arity check.
    const table = await commandTable(stack.redis.port);
    const flagged = table.filter((c) => {
      if (c.name === "ping" || c.name === "echo" || c.subcommands.length > 0) return false;
      if (c.flags.includes("blocking")) return !["xread", "xreadgroup"].includes(c.name);
      return (
        c.flags.includes("admin") ||
        c.categories.includes("@admin") ||
        c.categories.includes("@connection") ||
        (c.flags.includes("noscript") && !c.categories.includes("@scripting"))
      );
    });
    expect(flagged.length).toBeGreaterThan(60);
    for (const c of flagged) {
      const r = await rest.post("/", c.name.split("|"));
      expect(r.status, `${c.name}: ${r.text}`).toBe(400);
      expect((r.json as { error: string }).error, c.name).toMatch(NOT_AVAILABLE);
    }
    expect((await rest.post("/", ["PING"])).json).toEqual({ result: "PONG" });
  });
});

describe("REST server: a pipeline or transaction with a refused command runs nothing", () => {
  it("/multi-exec containing EXEC, DISCARD, MULTI, WATCH or a refused command is rejected before anything runs", async () => {
    for (const inner of [
      ["EXEC"],
      ["DISCARD"],
      ["MULTI"],
      ["WATCH", "x"],
      ["UNWATCH"],
      ["BLPOP", "x", 1],
      ["SUBSCRIBE", "x"],
      ["SELECT", 1],
      ["CLIENT", "REPLY", "OFF"],
    ]) {
      const [a, b] = [k("before"), k("after")];
      const r = await rest.post("/multi-exec", [["SET", a, "1"], inner, ["SET", b, "2"]]);
      expect(r.status, inner.join(" ")).toBe(400);
      expect((r.json as { error: string }).error).toMatch(NOT_AVAILABLE);
      expect(await redis.exists(a, b), inner.join(" ")).toBe(0);
    }
    // The transaction connection is still clean: a good transaction applies all of it.
    const key = k("tx");
    expect(
      (
        await rest.post("/multi-exec", [
          ["SET", key, "1"],
          ["INCR", key],
        ])
      ).json,
    ).toEqual([{ result: "OK" }, { result: 2 }]);
  });

  it("/pipeline containing a refused command is rejected whole", async () => {
    const [a, b] = [k("p1"), k("p2")];
    const r = await rest.post("/pipeline", [["SET", a, "1"], ["MULTI"], ["SET", b, "2"]]);
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(NOT_AVAILABLE);
    expect(await redis.exists(a, b)).toBe(0);
    expect(
      (
        await rest.post("/pipeline", [
          ["SET", a, "1"],
          ["GET", a],
        ])
      ).json,
    ).toEqual([{ result: "OK" }, { result: "1" }]);
  });
});

describe("REST server: integers go out exactly as Redis sent them", () => {
  it("INCRBY k 9223372036854775807 reads back digit for digit, on /, /pipeline, /multi-exec and nested in script replies", async () => {
    const [a, b, c] = [k("i1"), k("i2"), k("i3")];
    expect((await rest.post("/", ["INCRBY", a, "9223372036854775807"])).text).toBe('{"result":9223372036854775807}');
    expect((await rest.post("/", ["INCRBY", a, "-9223372036854775807"], { base64: true })).text).toBe('{"result":0}');
    expect(
      (
        await rest.post("/pipeline", [
          ["INCRBY", b, "9007199254740993"],
          ["DECRBY", b, "1"],
        ])
      ).text,
    ).toBe('[{"result":9007199254740993},{"result":9007199254740992}]');
    expect((await rest.post("/multi-exec", [["INCRBY", c, "-9223372036854775808"]])).text).toBe('[{"result":-9223372036854775808}]');
    expect((await rest.post("/", ["BITFIELD", k("bf"), "INCRBY", "i64", 0, "9223372036854775807", "GET", "u8", 0])).text).toBe(
      '{"result":[9223372036854775807,127]}',
    );
    expect((await rest.post("/", ["EVAL", "return {1, {-2, 'y'}, 'x'}", 0])).text).toBe('{"result":[1,[-2,"y"],"x"]}');
  });

  it("any 64-bit integer survives INCRBY and INCR (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 2n }), async (n) => {
        const key = k("prop");
        expect((await rest.post("/", ["INCRBY", key, n.toString()])).text).toBe(`{"result":${n}}`);
        expect((await rest.post("/pipeline", [["INCR", key]])).text).toBe(`[{"result":${n + 1n}}]`);
      }),
      { numRuns: 60 },
    );
  });
});

describe("REST server: /subscribe and /psubscribe (server-sent events)", () => {
  it("@upstash/redis subscribe() gets what another client publishes; unsubscribe frees the stream's connection", async () => {
    const client = new Redis({ url: stack.env.UPSTASH_REDIS_REST_URL, token: stack.env.UPSTASH_REDIS_REST_TOKEN });
    const channel = `chat room/ü-${randomUUID().slice(0, 6)}`;
    const sub = client.subscribe<{ text: string }>(channel);
    const subscribed = new Promise<number>((resolve) => sub.on("subscribe", resolve));
    const received = new Promise<unknown>((resolve) => sub.on("message", resolve));
    expect(await subscribed).toBe(1);
    expect(stack.rest.subscriptions()).toBe(1);
    expect(await redis.publish(channel, JSON.stringify({ text: "grüße 👋" }))).toBe(1);
    expect(await received).toEqual({ channel, message: { text: "grüße 👋" } });
    await sub.unsubscribe();
    await untilTrue(async () => stack.rest.subscriptions() === 0, "subscription stream closed");
    await untilTrue(
      async () => ((await rest.post("/", ["PUBSUB", "NUMSUB", channel])).json as { result: [string, number] }).result[1] === 0,
      "Redis sees no subscriber",
    );
  });

  it("@upstash/redis psubscribe() gets pmessage events with pattern and channel", async () => {
    const client = new Redis({ url: stack.env.UPSTASH_REDIS_REST_URL, token: stack.env.UPSTASH_REDIS_REST_TOKEN });
    const prefix = `news-${randomUUID().slice(0, 6)}`;
    const sub = client.psubscribe<{ score: number }>(`${prefix}.*`);
    const subscribed = new Promise<number>((resolve) => sub.on("psubscribe", resolve));
    const received = new Promise<unknown>((resolve) => sub.on("pmessage", resolve));
    expect(await subscribed).toBe(1);
    // (The client JSON-parses pattern messages strictly: a message it published as a bare string would be an "error" event.)
    await client.publish(`${prefix}.sport`, { score: 1 });
    expect(await received).toEqual({ pattern: `${prefix}.*`, channel: `${prefix}.sport`, message: { score: 1 } });
    await sub.unsubscribe();
    await untilTrue(async () => stack.rest.subscriptions() === 0, "pattern subscription closed");
  });

  it("frames a message with line breaks as one event of several data lines; refuses streams beyond the cap", async () => {
    expect(sseEvent(["message", "c", "line1\nline2\r\nline3"])).toBe("data: message,c,line1\ndata: line2\ndata: line3\n\n");
    const small = await startUpstashRestServer({ redis: { host: stack.redis.host, port: stack.redis.port }, token: "cap-test-token", maxSubscriptions: 1 });
    const capped = restClient(small.url, "cap-test-token");
    try {
      const first = new AbortController();
      const open = await capped.stream("/subscribe/capped", first.signal);
      expect(open.status).toBe(200);
      expect(await open.nextEvent()).toBe("data: subscribe,capped,1");
      expect((await capped.post("/", ["PUBLISH", "capped", "line1\nline2"])).json).toEqual({ result: 1 });
      expect(await open.nextEvent()).toBe("data: message,capped,line1\ndata: line2");
      const second = await capped.post("/subscribe/capped2", []);
      expect(second.status).toBe(429);
      expect((second.json as { error: string }).error).toMatch(/^ERR too many subscriptions/);
      first.abort();
      await untilTrue(async () => small.subscriptions() === 0, "first stream closed");
      const again = new AbortController();
      const reopened = await capped.stream("/subscribe/capped", again.signal);
      expect(reopened.status).toBe(200);
      again.abort();
    } finally {
      await small.stop();
    }
  });
});

describe("REST server program (compose's upstash-rest service)", () => {
  it("survives each request the issue found harmful, keeps serving, and exits 0 on SIGTERM", async () => {
    const token = `proc-${randomUUID()}`;
    const child = execa("node", ["--import", "tsx", "scripts/rest-server.ts"], {
      env: { REDIS_HOST: stack.redis.host, REDIS_PORT: String(stack.redis.port), REST_PORT: "0", UPSTASH_REDIS_REST_TOKEN: token },
      reject: false,
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const listen = await new Promise<string>((resolve, reject) => {
        lines.on("line", (line) => {
          const rec = JSON.parse(line) as { listen?: string };
          if (rec.listen) resolve(rec.listen);
        });
        void child.then((r) => reject(new Error(`rest-server exited early: ${r.stderr}`)));
      });
      const proc = restClient(`http://${listen}`, token);
      const harmful = [
        ["SUBSCRIBE", "x"],
        ["PSUBSCRIBE", "*"],
        ["MULTI"],
        ["CLIENT", "REPLY", "OFF"],
        ["SELECT", "1"],
        ["BLPOP", "k", "3"],
        ["MONITOR"],
        ["HELLO", "3"],
        ["QUIT"],
        ["SHUTDOWN"],
      ];
      for (const cmd of harmful) {
        const r = await proc.post("/", cmd);
        expect(r.status, `${cmd.join(" ")}: ${r.text}`).toBe(400);
        expect(child.exitCode, cmd.join(" ")).toBeNull();
      }
      expect((await proc.post("/multi-exec", [["SET", k("proc"), "1"], ["EXEC"]])).status).toBe(400);
      expect((await proc.post("/", ["PING"])).json).toEqual({ result: "PONG" });
      expect((await proc.post("/", ["EXISTS", k("proc")])).json).toEqual({ result: 0 });
      child.kill("SIGTERM");
      expect((await child).exitCode).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
