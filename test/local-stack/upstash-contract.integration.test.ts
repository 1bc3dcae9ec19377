// Contract between the real @upstash/redis client (default options: auto-pipelining, automatic
// deserialization, base64 responses) and an Upstash REST endpoint. Runs against the local
// REST server + real redis-server always, and against a real Upstash database when
// UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN are set.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "@upstash/redis";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";

interface Target {
  name: string;
  connect(): Promise<{ url: string; token: string; stack?: LocalStack }>;
}

const realUrl = process.env.UPSTASH_REDIS_REST_URL;
const realToken = process.env.UPSTASH_REDIS_REST_TOKEN;
const targets: Target[] = [
  {
    name: "local REST server + redis-server",
    connect: async () => {
      const stack = await startLocalStack();
      return { ...toCreds(stack), stack };
    },
  },
];
if (realUrl && realToken) {
  targets.push({ name: "real Upstash", connect: async () => ({ url: realUrl, token: realToken }) });
} else {
  console.info("[upstash contract] UPSTASH_REDIS_REST_URL/TOKEN not set: the real-Upstash half of the contract suite is not run.");
}

function toCreds(stack: LocalStack) {
  return { url: stack.env.UPSTASH_REDIS_REST_URL, token: stack.env.UPSTASH_REDIS_REST_TOKEN };
}

describe.each(targets)("Upstash REST contract: $name", (target) => {
  let url = "";
  let token = "";
  let stack: LocalStack | undefined;
  let redis: Redis;
  const ns = `contract:${randomUUID()}:`;
  const k = (s: string) => ns + s;

  beforeAll(async () => {
    ({ url, token, stack } = await target.connect());
    redis = new Redis({ url, token });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${ns}*`);
    if (keys.length) await redis.del(...keys);
    await stack?.stop();
  });

  it("round-trips JSON, unicode and emoji through SET/GET", async () => {
    const value = { text: "Grüße aus Köln — привет 👋🏽 مرحبا", n: 3, nested: { ok: true } };
    expect(await redis.set(k("json"), value)).toBe("OK");
    expect(await redis.get(k("json"))).toEqual(value);
    await redis.set(k("plain"), "naïve café 🚀");
    expect(await redis.get(k("plain"))).toBe("naïve café 🚀");
  });

  it("deserializes numeric strings automatically (the documented client default)", async () => {
    await redis.set(k("num"), "123");
    expect(await redis.get(k("num"))).toBe(123);
    const raw = new Redis({ url, token, automaticDeserialization: false });
    expect(await raw.get(k("num"))).toBe("123");
  });

  it("INCR returns integers as numbers", async () => {
    expect(await redis.incr(k("counter"))).toBe(1);
    expect(await redis.incrby(k("counter"), 41)).toBe(42);
  });

  it("HSET/HGETALL map a flat RESP2 array to an object", async () => {
    expect(await redis.hset(k("hash"), { a: "1", b: "two", c: "✓" })).toBe(3);
    expect(await redis.hgetall(k("hash"))).toEqual({ a: 1, b: "two", c: "✓" });
  });

  it("LPUSH/LMOVE move elements between lists", async () => {
    await redis.lpush(k("src"), "x", "y", "z");
    expect(await redis.lmove(k("src"), k("dst"), "right", "left")).toBe("x");
    expect(await redis.lrange(k("dst"), 0, -1)).toEqual(["x"]);
    expect(await redis.lrange(k("src"), 0, -1)).toEqual(["z", "y"]);
  });

  it("ZADD and a by-score range", async () => {
    await redis.zadd(k("z"), { score: 3, member: "c" }, { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zrange(k("z"), 2, 3, { byScore: true })).toEqual(["b", "c"]);
    expect(await redis.zrange(k("z"), 0, -1, { withScores: true })).toEqual(["a", 1, "b", 2, "c", 3]);
  });

  it("runs a Lua script with createScript: EVALSHA, NOSCRIPT fallback to EVAL", async () => {
    const script = redis.createScript<number>(`return redis.call("INCRBY", KEYS[1], ARGV[1])`);
    // A random body keeps the SHA unknown to the server, so the first call takes the fallback.
    const fresh = redis.createScript<string>(`-- ${randomUUID()}\nreturn ARGV[1] .. ":" .. KEYS[1]`);
    expect(await fresh.exec([k("s")], ["hi"])).toBe(`hi:${k("s")}`);
    expect(await script.exec([k("sc")], ["5"])).toBe(5);
    expect(await script.exec([k("sc")], ["5"])).toBe(10);
    if (stack) {
      const byName = stack.rest.counter.snapshot().byName;
      expect(byName.EVALSHA).toBeGreaterThanOrEqual(3);
      expect(byName.EVAL).toBeGreaterThanOrEqual(1);
    }
  });

  it("executes an explicit pipeline in order", async () => {
    const p = redis.pipeline();
    p.set(k("p1"), "one");
    p.incr(k("p2"));
    p.get(k("p1"));
    p.get(k("missing"));
    expect(await p.exec()).toEqual(["OK", 1, "one", null]);
  });

  it("executes a transaction atomically", async () => {
    const tx = redis.multi();
    tx.set(k("t1"), "a");
    tx.lpush(k("t2"), "b");
    tx.get(k("t1"));
    expect(await tx.exec()).toEqual(["OK", 1, "a"]);
  });

  it("reports a command that fails inside a transaction, the others still applied", async () => {
    await redis.set(k("str"), "not a number");
    const tx = redis.multi();
    tx.set(k("t3"), "applied");
    tx.incr(k("str"));
    await expect(tx.exec()).rejects.toThrow(/not an integer/);
    expect(await redis.get(k("t3"))).toBe("applied");
  });

  it("aborts a transaction whose command is rejected while queueing (EXECABORT), nothing applied", async () => {
    const res = await fetch(`${url}/multi-exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify([
        ["SET", k("never"), "x"],
        ["SET", k("never")],
      ]),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/EXECABORT|wrong number of arguments/i);
    expect(await redis.exists(k("never"))).toBe(0);
  });

  it("surfaces a command error as UpstashError", async () => {
    await redis.set(k("str2"), "abc");
    await expect(redis.incr(k("str2"))).rejects.toThrow(/not an integer/);
  });

  it("rejects a wrong token with 401", async () => {
    const res = await fetch(url, { method: "POST", headers: { authorization: "Bearer wrong-token" }, body: '["PING"]' });
    expect(res.status).toBe(401);
    const bad = new Redis({ url, token: "wrong-token", retry: false });
    await expect(bad.get(k("x"))).rejects.toThrow();
  });

  it("stores and reads a 1 MB value", async () => {
    const big = "a".repeat(1024 * 1024 - 7) + "🎙️";
    await redis.set(k("big"), big);
    expect(await redis.get(k("big"))).toBe(big);
  });

  it("refuses a request over the size limit with a clear error", async () => {
    const huge = "b".repeat(11 * 1024 * 1024);
    await expect(redis.set(k("huge"), huge)).rejects.toThrow(/max request size|too large|exceed/i);
    expect(await redis.exists(k("huge"))).toBe(0);
  });

  it("refuses commands that need a connection of their own with HTTP 400 and an ERR error, and keeps serving", async () => {
    for (const cmd of [["MULTI"], ["EXEC"], ["WATCH", k("w")], ["SUBSCRIBE", k("ch")], ["CLIENT", "REPLY", "OFF"], ["SELECT", "1"]]) {
      const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(cmd) });
      expect(res.status, cmd.join(" ")).toBe(400);
      expect(((await res.json()) as { error: string }).error, cmd.join(" ")).toMatch(/^ERR /);
    }
    expect(await redis.set(k("after-refusals"), "v")).toBe("OK");
    expect(await redis.get(k("after-refusals"))).toBe("v");
  });

  it("sends integers beyond 2^53 digit for digit (the JSON text; JSON.parse would round them)", async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(["INCRBY", k("bigint"), "9223372036854775807"]),
    });
    expect(await res.text()).toBe('{"result":9223372036854775807}');
  });

  it("subscribe() receives what another client publishes (server-sent events)", async () => {
    const channel = k("events");
    const sub = redis.subscribe<{ n: number }>(channel);
    try {
      await new Promise((resolve) => sub.on("subscribe", resolve));
      const received = new Promise((resolve) => sub.on("message", resolve));
      await new Redis({ url, token }).publish(channel, { n: 1 });
      expect(await received).toEqual({ channel, message: { n: 1 } });
    } finally {
      await sub.unsubscribe();
    }
  });

  it.runIf(target.name.startsWith("local"))("auto-pipelines concurrent commands into /pipeline and counts every command", async () => {
    stack!.rest.counter.reset();
    await Promise.all([redis.set(k("ap1"), 1), redis.set(k("ap2"), 2), redis.get(k("ap1"))]);
    const snap = stack!.rest.counter.snapshot();
    expect(snap.total).toBe(3);
    expect(snap.requests["/pipeline"]).toBeGreaterThanOrEqual(1);
    expect(snap.requests["/"] ?? 0).toBe(0);
  });
});
