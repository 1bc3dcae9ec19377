import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { startRedisServer, findRedisServer } from "../../handler/local-stack/redis-server.ts";

/** Gone, or a zombie nobody has reaped yet (it holds no port, no memory). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] === "Z";
  } catch {
    return true;
  }
}

async function waitGone(pid: number, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (isGone(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return isGone(pid);
}

/** Starts `npm run local`'s program directly (one node process) and reads its JSON line. */
async function startLocalCli() {
  const child = execa("node", ["--import", "tsx", "scripts/local.ts", "--json"], { env: { LOCAL_REST_PORT: "0" }, reject: false });
  const rl = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    rl.once("line", resolve);
    child.once("exit", () => reject(new Error("local stack exited early")));
  });
  rl.close();
  return { child, info: JSON.parse(first) as { redis_pid: number; UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string } };
}

describe("redis-server launcher and local stack", () => {
  it("starts a private server that answers, and stop() leaves no process and no data dir", async () => {
    const srv = await startRedisServer();
    expect(isGone(srv.pid)).toBe(false);
    await srv.stop();
    expect(await waitGone(srv.pid)).toBe(true);
    expect(() => readFileSync(srv.dir)).toThrow();
  });

  it("never mistakes another redis-server on its port for its own", async () => {
    // Losing the race for a free port used to pass: the other server's PONG read as ours.
    const other = await startRedisServer();
    try {
      await expect(startRedisServer({ port: other.port, startTimeoutMs: 3000 })).rejects.toThrow(/did not start on port/);
      expect(isGone(other.pid)).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it("names the install command when redis-server is missing", () => {
    expect(() => findRedisServer("/nonexistent/redis-server")).toThrow(/apt-get install redis-server.*npm run setup/s);
  });

  it("serves the REST API, and SIGTERM to the parent leaves no redis-server behind", async () => {
    const { child, info } = await startLocalCli();
    const res = await fetch(info.UPSTASH_REDIS_REST_URL, {
      method: "POST",
      headers: { authorization: `Bearer ${info.UPSTASH_REDIS_REST_TOKEN}` },
      body: '["PING"]',
    });
    expect(await res.json()).toEqual({ result: "PONG" });
    child.kill("SIGTERM");
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(await waitGone(info.redis_pid)).toBe(true);
  });

  it("even SIGKILL of the parent leaves no redis-server behind (parent-death signal)", async () => {
    const { child, info } = await startLocalCli();
    expect(isGone(info.redis_pid)).toBe(false);
    child.kill("SIGKILL");
    await child;
    expect(await waitGone(info.redis_pid)).toBe(true);
  });
});
