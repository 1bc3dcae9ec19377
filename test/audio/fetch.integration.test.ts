// URL download rules in detail (real HTTP servers on loopback; name resolution and the address
// policy are the only substituted parts, at the network boundary).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { downloadToFile, redactUrl, type DownloadPolicy } from "../../handler/audio/fetch-url.ts";
import { expectWorkerError, startHttpServer, startRawServer, type TestServer } from "./helpers.ts";

let dir: string;
let n = 0;
const dest = () => join(dir, `file-${n++}`);
const servers: TestServer[] = [];
const serve = async (handler: Parameters<typeof startHttpServer>[0], host?: string) => {
  const s = await startHttpServer(handler, host);
  servers.push(s);
  return s;
};

const policy = (over: Partial<DownloadPolicy> = {}): DownloadPolicy => ({
  maxBytes: 1024 * 1024,
  connectTimeoutMs: 5000,
  totalTimeoutMs: 20_000,
  maxRedirects: 3,
  allowPrivate: true,
  ...over,
});
const onlyLoopback1 = (a: string) => a === "127.0.0.1";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vw-fetch-test-"));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("redirects", () => {
  it("follows up to 3 redirects (relative Location too) and writes the final body", async () => {
    const s = await serve((req, res) => {
      const hops: Record<string, string> = { "/a": "/b", "/b": "c", "/c": "/final" };
      const next = hops[req.url ?? ""];
      if (next) return void res.writeHead(307, { location: next }).end();
      res.writeHead(200).end("OggS-payload");
    });
    const file = dest();
    const r = await downloadToFile(s.url("/a"), file, policy());
    expect(r).toMatchObject({ bytes: 12, status: 200, redirects: 3 });
    expect(await readFile(file, "utf8")).toBe("OggS-payload");
    expect(s.requests.map((q) => q.url)).toEqual(["/a", "/b", "/c", "/final"]);
  });

  it("re-validates the address of every hop: a redirect to a refused address is not followed", async () => {
    const inner = await serve((_req, res) => res.writeHead(200).end("secret"), "127.0.0.2");
    const outer = await serve((_req, res) => res.writeHead(302, { location: inner.url("/admin") }).end());
    await expectWorkerError(downloadToFile(outer.url(), dest(), policy({ isAddressAllowed: onlyLoopback1 })), "url_not_allowed", false);
    expect(outer.requests).toHaveLength(1);
    expect(inner.requests).toHaveLength(0);
  });

  it("re-validates the scheme of every hop", async () => {
    const s = await serve((_req, res) => res.writeHead(302, { location: "gopher://127.0.0.1/x" }).end());
    await expectWorkerError(downloadToFile(s.url(), dest(), policy()), "url_not_allowed", false);
  });
});

describe("addresses", () => {
  it("connects to the address that was checked, not to a second DNS answer (no rebinding)", async () => {
    const good = await serve((_req, res) => res.writeHead(200).end("ok"));
    const evil = await serve((_req, res) => res.writeHead(200).end("internal"), "127.0.0.2");
    expect(evil.port).toBeGreaterThan(0);
    const answers = ["127.0.0.1", "127.0.0.2"];
    const asked: string[] = [];
    const resolveHost = async (host: string) => {
      asked.push(host);
      return [answers.shift() ?? "127.0.0.2"];
    };
    const file = dest();
    await downloadToFile(`http://media.test:${good.port}/v.ogg`, file, policy({ resolveHost, isAddressAllowed: onlyLoopback1 }));
    expect(await readFile(file, "utf8")).toBe("ok");
    expect(asked).toEqual(["media.test"]);
    expect(good.requests[0]?.headers.host).toBe(`media.test:${good.port}`);
    expect(evil.requests).toHaveLength(0);
  });

  it("falls back to the host's other checked address when the first cannot be reached (IPv6 answer on an IPv4-only path)", async () => {
    const good = await serve((_req, res) => res.writeHead(200).end("ok"));
    // "::2" answers first but nothing listens there; the IPv4 answer must still be used.
    const resolveHost = async () => ["::2", "127.0.0.1"];
    const file = dest();
    await downloadToFile(`http://dual.test:${good.port}/v.ogg`, file, policy({ resolveHost, isAddressAllowed: (a) => a === "::2" || a === "127.0.0.1" }));
    expect(await readFile(file, "utf8")).toBe("ok");
  });

  it("refuses a host whose answers include a private address, even next to a public one", async () => {
    const resolveHost = async () => ["93.184.216.34", "10.0.0.5"];
    const err = await expectWorkerError(
      downloadToFile("http://mixed.test/v.ogg", dest(), policy({ allowPrivate: false, resolveHost })),
      "url_not_allowed",
      false,
    );
    expect(err.details).toMatchObject({ address: "10.0.0.5" });
  });

  it.each([
    "http://[::1]:9/v.ogg",
    "http://[::ffff:127.0.0.1]:9/v.ogg",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433:9/v.ogg", // 127.0.0.1 written as a number
    "http://0.0.0.0:9/v.ogg",
  ])("refuses %s by default, before connecting", async (u) => {
    await expectWorkerError(downloadToFile(u, dest(), policy({ allowPrivate: false })), "url_not_allowed", false);
  });

  it("a name that does not resolve is a (retryable) download failure", async () => {
    const resolveHost = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    await expectWorkerError(downloadToFile("http://nowhere.test/", dest(), policy({ resolveHost })), "download_failed", true);
  });
});

describe("requests and responses", () => {
  it("sends no credentials and refuses URLs carrying them", async () => {
    const s = await serve((_req, res) => res.writeHead(200).end("x"));
    await downloadToFile(s.url("/v.ogg?X-Amz-Signature=abc"), dest(), policy());
    const h = s.requests[0]?.headers ?? {};
    expect(h.authorization).toBeUndefined();
    expect(h.cookie).toBeUndefined();
    expect(h["accept-encoding"]).toBe("identity");
    await expectWorkerError(downloadToFile(`http://user:pw@127.0.0.1:${s.port}/`, dest(), policy()), "url_not_allowed", false);
    expect(s.requests).toHaveLength(1);
  });

  it.each([
    [408, true],
    [503, true],
    [403, false],
    [410, false],
  ])("HTTP %i -> download_failed, retryable %s", async (status, retryable) => {
    const s = await serve((_req, res) => res.writeHead(status).end());
    await expectWorkerError(downloadToFile(s.url(), dest(), policy()), "download_failed", retryable);
  });

  it("no response headers within the connect timeout -> download_timeout", async () => {
    const s = await serve(() => undefined); // accepts, never answers
    await expectWorkerError(downloadToFile(s.url(), dest(), policy({ connectTimeoutMs: 300 })), "download_timeout", true);
  });

  it("keeps query strings (presigned credentials) out of messages and results", async () => {
    const s = await serve((req, res) => (req.url?.startsWith("/ok") ? res.writeHead(200).end("x") : res.writeHead(404).end()));
    const r = await downloadToFile(s.url("/ok.ogg?token=SECRETVALUE"), dest(), policy());
    expect(r.finalUrl).toBe(`${s.url("/ok.ogg")}?…`);
    const err = await expectWorkerError(downloadToFile(s.url("/missing.ogg?token=SECRETVALUE"), dest(), policy()), "download_failed", false);
    expect(err.message).not.toContain("SECRETVALUE");
    expect(redactUrl("https://h.example/p?a=1")).toBe("https://h.example/p?…");
  });

  it("accepts an explicit identity Content-Encoding", async () => {
    const s = await serve((_req, res) => res.writeHead(200, { "content-encoding": "identity" }).end("plain"));
    const r = await downloadToFile(s.url(), dest(), policy());
    expect(r.bytes).toBe(5);
  });
});

describe("timeouts around name resolution", () => {
  it("a resolver that never answers still ends at the total timeout", async () => {
    const resolveHost = () => new Promise<string[]>(() => undefined);
    await expectWorkerError(downloadToFile("http://slow-dns.test/", dest(), policy({ resolveHost, totalTimeoutMs: 300 })), "download_timeout", true);
  });
});

describe("servers that break HTTP framing", () => {
  it("an understated Content-Length: only the announced bytes are taken, the rest is never written", async () => {
    const raw = await startRawServer((sock) => {
      sock.once("data", () => sock.end(Buffer.concat([Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), Buffer.alloc(2 * 1024 * 1024, 0x41)])));
    });
    try {
      const file = dest();
      const r = await downloadToFile(raw.url, file, policy());
      expect(r.bytes).toBe(10);
      expect((await readFile(file)).length).toBe(10);
    } finally {
      await raw.close();
    }
  });

  it("garbage instead of an HTTP response -> download_failed (retryable), no crash", async () => {
    const raw = await startRawServer((sock) => {
      sock.once("data", () => sock.end("SSH-2.0-OpenSSH_9.2\r\n"));
    });
    try {
      await expectWorkerError(downloadToFile(raw.url, dest(), policy()), "download_failed", true);
    } finally {
      await raw.close();
    }
  });
});
