// Who may read and act: the token (Bearer or the login form's cookie), CSRF checks on actions,
// loopback-only reads, the Host check against DNS rebinding, the security headers, and the
// front-end's ban on HTML sinks.
import { request as httpRequest } from "node:http";
import { ESLint } from "eslint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboard } from "../../handler/dashboard/index.ts";
import { CONTENT_SECURITY_POLICY } from "../../handler/dashboard/http.ts";
import { isLoopbackHost } from "../../handler/dashboard/auth.ts";
import { loadConfig } from "../../handler/config/load.ts";
import { resolveConnection } from "../../handler/queue/index.ts";
import { startLocalStack, type LocalStack } from "../../handler/local-stack/stack.ts";
import { TOKEN, dashboardOn, settle, type TestDashboard } from "./helpers.ts";

let stack: LocalStack;
let open: TestDashboard; // no token: read-only
let guarded: TestDashboard; // token set, loopback
beforeAll(async () => {
  stack = await startLocalStack();
  open = await dashboardOn(stack);
  guarded = await dashboardOn(stack, { DASHBOARD_TOKEN: TOKEN });
});
afterAll(async () => {
  await open.close();
  await guarded.close();
  await stack.stop();
});

const ACTION = { "x-requested-with": "voice-worker-dashboard" };
const errorCode = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

async function login(d: TestDashboard, token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${d.base}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token }).toString(),
  });
}

async function sessionCookie(d: TestDashboard): Promise<string> {
  const r = await login(d, TOKEN);
  return r.headers.get("set-cookie")!.split(";")[0]!;
}

describe("without DASHBOARD_TOKEN", () => {
  it("pages and reads are open on loopback; every action is refused with 403 actions_disabled, even with a made-up token", async () => {
    expect((await open.get("/")).status).toBe(200);
    expect((await open.get("/api/overview")).status).toBe(200);
    await settle(open.queue, Date.now, "nt-1", "failed");
    for (const [path, body] of [
      ["/api/retry", { id: "nt-1" }],
      ["/api/purge", { all: true }],
      ["/api/push", { url: "https://x.example/a.ogg" }],
    ] as const) {
      for (const headers of [{}, { authorization: "Bearer whatever-0123456789" }, ACTION] as Array<Record<string, string>>) {
        const r = await open.post(path, body, headers);
        expect(r.status, path).toBe(403);
        expect(await errorCode(r)).toBe("actions_disabled");
      }
    }
    expect(await open.admin.status("nt-1")).toMatchObject({ state: "failed" });
    const r = await login(open, "anything");
    expect(r.headers.get("location")).toBe("/login?off=1");
    expect(r.headers.get("set-cookie")).toBeNull();
  });
});

describe("with DASHBOARD_TOKEN on loopback", () => {
  it("actions without the token get 401; a wrong Bearer token 401; the right one acts", async () => {
    await settle(guarded.queue, Date.now, "g-1", "failed");
    expect((await guarded.post("/api/retry", { id: "g-1" })).status).toBe(401);
    expect((await guarded.post("/api/retry", { id: "g-1" }, { ...ACTION })).status).toBe(401);
    expect((await guarded.post("/api/retry", { id: "g-1" }, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await guarded.post("/api/retry", { id: "g-1" }, { authorization: TOKEN })).status).toBe(401);
    expect(await guarded.admin.status("g-1")).toMatchObject({ state: "failed" });
    const ok = await guarded.post("/api/retry", { id: "g-1" }, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ requeued: 1, complete: true });
  });

  it("the login form sets an HttpOnly SameSite=Strict session cookie that is not the token; a wrong token sets none", async () => {
    const bad = await login(guarded, "not-the-token-at-all");
    expect(bad.status).toBe(303);
    expect(bad.headers.get("location")).toBe("/login?failed=1");
    expect(bad.headers.get("set-cookie")).toBeNull();
    const good = await login(guarded, TOKEN);
    expect(good.headers.get("location")).toBe("/");
    const cookie = good.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^vw_dashboard=\d+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(cookie).not.toContain(TOKEN);
    const session = (await (await guarded.get("/api/session", { headers: { cookie: cookie.split(";")[0]! } })).json()) as { signed_in: boolean };
    expect(session.signed_in).toBe(true);
  });

  it("a browser action (session cookie) also needs the page's header and a same-origin Origin: CSRF is refused with 403", async () => {
    await settle(guarded.queue, Date.now, "csrf-1", "failed");
    const cookie = await sessionCookie(guarded);
    const origin = guarded.base;
    const tries: Array<[Record<string, string>, number, string?]> = [
      [{ cookie }, 403, "csrf"], // a cross-site form cannot add the header
      [{ cookie, origin }, 403, "csrf"],
      [{ cookie, ...ACTION, origin: "https://evil.example" }, 403, "csrf"],
      [{ cookie, ...ACTION, origin: "null" }, 403, "csrf"],
      [{ cookie: `${cookie}x`, ...ACTION, origin }, 401], // a tampered session
      [{ cookie: "vw_dashboard=99999999999999.forged", ...ACTION, origin }, 401],
    ];
    for (const [headers, status, code] of tries) {
      const r = await guarded.post("/api/retry", { id: "csrf-1" }, headers);
      expect(r.status, JSON.stringify(headers)).toBe(status);
      if (code) expect(await errorCode(r)).toBe(code);
    }
    expect(await guarded.admin.status("csrf-1")).toMatchObject({ state: "failed" });
    const ok = await guarded.post("/api/retry", { id: "csrf-1" }, { cookie, ...ACTION, origin });
    expect(ok.status).toBe(200);
    // Actions are POST only; reads are GET only.
    expect((await guarded.get("/api/retry", { headers: { cookie } })).status).toBe(405);
    expect((await guarded.post("/api/overview", {}, { cookie, ...ACTION, origin })).status).toBe(405);
  });

  it("a login from another origin is refused, and the form is braked after 5 wrong tokens a minute", async () => {
    const d = await dashboardOn(stack, { DASHBOARD_TOKEN: TOKEN });
    try {
      expect((await login(d, TOKEN, { origin: "https://evil.example" })).status).toBe(403);
      for (let i = 0; i < 5; i++) expect((await login(d, `wrong-${i}`)).headers.get("location")).toBe("/login?failed=1");
      const braked = await login(d, TOKEN);
      expect(braked.headers.get("location")).toBe("/login?wait=1");
      expect(braked.headers.get("set-cookie")).toBeNull();
    } finally {
      await d.close();
    }
  });

  it("a session expires after 12 hours; sign-out clears the cookie", async () => {
    let now = Date.now();
    const d = await dashboardOn(stack, { DASHBOARD_TOKEN: TOKEN }, { now: () => now });
    try {
      const cookie = await sessionCookie(d);
      const signedIn = async () => ((await (await d.get("/api/session", { headers: { cookie } })).json()) as { signed_in: boolean }).signed_in;
      expect(await signedIn()).toBe(true);
      now += 12 * 3600_000 + 1000;
      expect(await signedIn()).toBe(false);
      const out = await fetch(`${d.base}/logout`, { method: "POST", redirect: "manual", headers: { cookie } });
      expect(out.headers.get("set-cookie")).toBe("vw_dashboard=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    } finally {
      await d.close();
    }
  });

  it("answers only to loopback names: another Host header (DNS rebinding) is refused", async () => {
    // fetch() sets Host itself: node:http sends what a rebound browser would.
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port: guarded.dashboard.port, path: "/api/session", headers: { host } }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    for (const host of ["evil.example", "evil.example:80", "10.0.0.5", "127.0.0.1.evil.example"]) {
      const r = await withHost(host);
      expect(r.status, host).toBe(403);
      expect(r.body).toContain("bad_host");
    }
    for (const host of [`127.0.0.1:${guarded.dashboard.port}`, `localhost:${guarded.dashboard.port}`, `[::1]:${guarded.dashboard.port}`]) {
      expect((await withHost(host)).status, host).toBe(200);
    }
  });
});

describe("bound beyond loopback", () => {
  it("refuses to start without DASHBOARD_TOKEN", async () => {
    const cfg = loadConfig({ ...stack.env, DASHBOARD_HOST: "0.0.0.0", DASHBOARD_PORT: "0" }, null);
    await expect(startDashboard({ cfg, conn: resolveConnection(cfg) })).rejects.toMatchObject({ code: "dashboard_insecure", retryable: false });
  });

  it("with a token, every page and read needs it; the front-end's code and the login page do not (they hold no data)", async () => {
    const d = await dashboardOn(stack, { DASHBOARD_TOKEN: TOKEN, DASHBOARD_HOST: "0.0.0.0" });
    try {
      const page = await d.get("/");
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toBe("/login");
      for (const path of ["/api/overview", "/api/stats", "/api/jobs?state=queued", "/api/jobs/x", "/api/jobs/x/audio", "/api/workers"]) {
        expect((await d.get(path)).status, path).toBe(401);
      }
      expect((await d.get("/api/stats", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      expect((await d.get("/", { headers: { cookie: await sessionCookie(d) } })).status).toBe(200);
      expect((await d.get("/login")).status).toBe(200);
      expect((await d.get("/static/app.js")).status).toBe(200);
      expect((await d.get("/api/session")).status).toBe(401);
    } finally {
      await d.close();
    }
  });
});

describe("headers and the front-end", () => {
  it("every answer carries a strict Content-Security-Policy (no inline script or style) and nosniff", async () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    for (const path of ["/", "/login", "/static/app.js", "/api/overview", "/api/nothing", "/nothing"]) {
      const r = await open.get(path);
      expect(r.headers.get("content-security-policy"), path).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(r.headers.get("x-frame-options"), path).toBe("DENY");
      expect(r.headers.get("referrer-policy"), path).toBe("same-origin"); // "no-referrer" would make browsers send Origin: null, failing the CSRF check
    }
    expect((await open.get("/static/../server.ts")).status).toBe(404);
    expect((await open.get("/static/%2e%2e/server.ts")).status).toBe(404);
  });

  it("lint forbids HTML sinks in the front-end (innerHTML, outerHTML, insertAdjacentHTML, document.write)", async () => {
    const eslint = new ESLint();
    for (const code of ["el.innerHTML = x;", "el.outerHTML = x;", "el.insertAdjacentHTML('beforeend', x);", "document.write(x);"]) {
      const [res] = await eslint.lintText(code, { filePath: "handler/dashboard/public/views/probe.js" });
      expect(
        res?.messages.map((m) => m.ruleId),
        code,
      ).toEqual(expect.arrayContaining([expect.stringMatching(/no-restricted-(properties|syntax)/)]));
    }
    const [clean] = await eslint.lintText("export function show(x) {\n  document.body.textContent = x;\n}\n", {
      filePath: "handler/dashboard/public/views/probe.js",
    });
    expect(clean?.messages).toEqual([]);
  });

  it("knows loopback names", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "app.localhost", "::1", "[::1]"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["0.0.0.0", "10.0.0.1", "192.168.1.2", "example.com", "::", "128.0.0.1", "localhost.evil.example"])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});
