// How the dashboard is started: beside the local default of `npm start` (its URL in the log;
// LOCAL_DASHBOARD=false turns it off; a busy port is only a warning), and on its own with
// `npm run dashboard [-- --port N --host H]`.
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { freePort } from "../../handler/net/ports.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { TOKEN } from "./helpers.ts";

const dashboardCli = (args: string[], env: Record<string, string>) =>
  execa("node", ["--import", "tsx", "scripts/dashboard.ts", ...args], { env, reject: false, all: true });

describe("npm start (local default) serves the dashboard", () => {
  it("logs the dashboard's URL, which serves the page and the API over the queue it consumes; stops with the worker", async () => {
    const port = await freePort();
    const env = { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "vw-dash-start-")), LOCAL_REST_PORT: "0", DASHBOARD_PORT: String(port) };
    const worker = startWorkerProcess(env);
    let url = "";
    try {
      const line = await worker.waitFor(/"msg":"dashboard: /, 60_000);
      url = (JSON.parse(line) as { url: string }).url;
      expect(url).toBe(`http://127.0.0.1:${port}/`);
      await worker.waitFor(/consuming the queue/, 60_000);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/static/app.js">');
      const session = (await (await fetch(`${url}api/session`)).json()) as { queue: { where: string; prefix: string }; actions: string };
      expect(session).toMatchObject({ queue: { where: "local stack", prefix: "vw" }, actions: "disabled" });
      // The worker's own registry record shows up in the dashboard.
      await expect
        .poll(async () => ((await (await fetch(`${url}api/workers`)).json()) as { workers: Array<{ mode: string }> }).workers.map((w) => w.mode), {
          timeout: 30_000,
        })
        .toEqual(["local"]);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
    await expect(fetch(url)).rejects.toThrow();
  }, 120_000);

  it("LOCAL_DASHBOARD=false serves none; a busy DASHBOARD_PORT is a warning and the worker runs on", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      const base = { LOCAL_REST_PORT: "0", DASHBOARD_PORT: String(port) };
      const off = startWorkerProcess({ ...base, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "vw-dash-off-")), LOCAL_DASHBOARD: "false" });
      const taken = startWorkerProcess({ ...base, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "vw-dash-busy-")) });
      try {
        await Promise.all([off.waitFor(/consuming the queue/, 60_000), taken.waitFor(/consuming the queue/, 60_000)]);
        expect(off.lines.join("\n")).not.toMatch(/dashboard/);
        expect(taken.lines.join("\n")).toMatch(/dashboard not started \(is DASHBOARD_PORT in use\?\)/);
      } finally {
        expect(await off.stop()).toBe(0);
        expect(await taken.stop()).toBe(0);
      }
    } finally {
      busy.close();
    }
  }, 120_000);

  it("DASHBOARD_HOST beyond loopback without DASHBOARD_TOKEN stops start-up with exit 2, naming the fix", async () => {
    const worker = startWorkerProcess({
      XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "vw-dash-bad-")),
      LOCAL_REST_PORT: "0",
      DASHBOARD_PORT: "0",
      DASHBOARD_HOST: "0.0.0.0",
    });
    const r = await worker.child;
    expect(r.exitCode).toBe(2);
    expect(worker.lines.join("\n")).toMatch(/dashboard_insecure.*set DASHBOARD_TOKEN/);
  }, 120_000);
});

describe("npm run dashboard", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it("serves the configured queue on --port and prints its URL; stops on SIGTERM with exit 0", async () => {
    const port = await freePort();
    const child = execa("node", ["--import", "tsx", "scripts/dashboard.ts", "--port", String(port), "--host", "127.0.0.1"], {
      env: { ...stack.env, QUEUE_PREFIX: "dash-cli", DASHBOARD_TOKEN: TOKEN },
      reject: false,
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /dashboard: (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void child.then((r) => reject(new Error(`exited ${r.exitCode}: ${r.stderr}`)));
      });
      expect(url).toBe(`http://127.0.0.1:${port}/`);
      const stats = await fetch(`${url}api/stats`);
      expect(stats.status).toBe(200);
      expect(await stats.json()).toMatchObject({ queued: 0, done_total: 0 });
      const session = (await (await fetch(`${url}api/session`)).json()) as { queue: { where: string; prefix: string } };
      expect(session.queue).toEqual({ where: "Upstash http://127.0.0.1:" + new URL(stack.env.UPSTASH_REDIS_REST_URL).port + "/", prefix: "dash-cli" });
    } finally {
      child.kill("SIGTERM");
    }
    expect((await child).exitCode).toBe(0);
  }, 60_000);

  it("misuse exits 2; no queue exits 1; --host beyond loopback without a token exits 2", async () => {
    const bare = { PATH: process.env.PATH ?? "", XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), "vw-dash-none-")) };
    const usage = await dashboardCli(["--port", "abc"], bare);
    expect(usage.exitCode).toBe(2);
    expect(usage.all).toContain("usage: npm run dashboard");
    expect((await dashboardCli(["--bogus"], bare)).exitCode).toBe(2);
    const none = await dashboardCli(["--port", "0"], bare);
    expect(none.exitCode).toBe(1);
    expect(none.all).toMatch(/queue_not_configured/);
    const open = await dashboardCli(["--port", "0", "--host", "0.0.0.0"], { ...bare, ...stack.env });
    expect(open.exitCode).toBe(2);
    expect(open.all).toMatch(/dashboard_insecure/);
  }, 60_000);
});
