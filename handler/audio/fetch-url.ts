// Download of a user-supplied audio URL into a file, hardened against SSRF and hostile servers:
// http(s) only, every redirect hop re-validated, the host resolved once and the connection pinned
// to the address that was checked (no DNS rebinding between check and connect), timeouts, a byte
// cap counted while streaming, compressed bodies refused (never inflated), no credentials sent.
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { WorkerError } from "../errors.ts";
import { isPublicAddress } from "./address-policy.ts";
import { receiveBody, untilAborted, watchConnection, type ConnectionWatch } from "./body.ts";
import { abortedError, audioError, downloadFailed } from "./errors.ts";

export interface DownloadPolicy {
  maxBytes: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  maxRedirects: number;
  allowPrivate: boolean;
  /** Name resolution (the network boundary; tests substitute it). Default: the system resolver. */
  resolveHost?: (hostname: string) => Promise<string[]>;
  /** Address policy; default: public unicast only unless allowPrivate. */
  isAddressAllowed?: (address: string) => boolean;
}

export interface DownloadResult {
  bytes: number;
  status: number;
  redirects: number;
  /** Final URL without its query string (safe to log). */
  finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Scheme, host and path only: query strings of presigned URLs carry credentials. */
export function redactUrl(url: URL | string): string {
  try {
    const u = typeof url === "string" ? new URL(url) : url;
    const text = `${u.protocol}//${u.host}${u.pathname}${u.search ? "?…" : ""}`;
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return "(unparsable URL)";
  }
}

async function systemResolve(hostname: string): Promise<string[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** Validates one hop's URL and resolves it to the addresses the connection may use (all checked). */
async function checkHop(url: URL, policy: DownloadPolicy, signal: AbortSignal): Promise<string[]> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw audioError("url_not_allowed", `only http and https URLs are accepted, not ${url.protocol}`);
  }
  if (url.username || url.password) throw audioError("url_not_allowed", "URLs with credentials (user:password@) are not accepted");
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await untilAborted((policy.resolveHost ?? systemResolve)(host), signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw downloadFailed(`could not resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { network: true, cause: err });
    }
    if (addresses.length === 0) throw downloadFailed(`could not resolve ${host}`, { network: true });
  }
  const allowed = policy.isAddressAllowed ?? ((a: string) => policy.allowPrivate || isPublicAddress(a));
  // One disallowed answer refuses the host: a legitimate media server never mixes in private addresses.
  const refused = addresses.find((a) => !allowed(a));
  if (refused !== undefined) {
    throw audioError("url_not_allowed", `${host} resolves to ${refused}, a loopback/private/link-local address`, { details: { address: refused } });
  }
  return addresses;
}

/**
 * A lookup that answers only the addresses already checked, so the socket connects exactly
 * there (no second DNS answer can switch it to an internal address). All of them, so Node's
 * IPv6/IPv4 fallback still works on a host that has only one of the two.
 */
function pinnedLookup(addresses: string[]): LookupFunction {
  const all: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, all);
    else callback(null, all[0]!.address, all[0]!.family);
  };
}

/** Sends one request and resolves when its headers arrive (or rejects on error/abort). */
function requestHeaders(url: URL, addresses: string[], signal: AbortSignal): Promise<{ res: IncomingMessage; conn: ConnectionWatch }> {
  return new Promise((resolve, reject) => {
    let conn: ConnectionWatch | undefined;
    const mod = url.protocol === "https:" ? https : http;
    const req = mod.request(url, {
      method: "GET",
      agent: false,
      lookup: pinnedLookup(addresses),
      signal,
      // No cookies, no Authorization: nothing of ours goes to a user-chosen server.
      headers: { "user-agent": "voice-worker-audio/1", accept: "*/*", "accept-encoding": "identity", connection: "close" },
    });
    // Watched from the start: how the connection ends decides whether the body is whole.
    req.once("socket", (socket) => (conn = watchConnection(socket)));
    req.once("response", (res) => resolve({ res, conn: conn ?? watchConnection(res.socket) }));
    req.on("error", reject); // `on`: a late parser error after the response must not go unhandled
    req.end();
  });
}

function retryAfterSeconds(res: IncomingMessage): number | undefined {
  const v = res.headers["retry-after"];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Downloads `rawUrl` into `dest` (created with mode 0600). Resolves only for a whole body; throws
 * WorkerError: url_not_allowed, download_failed (also for a body cut short), download_timeout,
 * audio_too_large, or aborted when `signal` fires. `dest` is left behind only on success.
 */
export async function downloadToFile(rawUrl: string, dest: string, policy: DownloadPolicy, signal?: AbortSignal): Promise<DownloadResult> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw audioError("url_not_allowed", "audio URL is not a valid absolute URL");
  }

  // One controller ends everything in flight; its reason is the error the caller gets.
  const ctl = new AbortController();
  const stop = (err: WorkerError) => {
    if (!ctl.signal.aborted) ctl.abort(err);
  };
  const onOuterAbort = () => signal && stop(abortedError(signal, "download"));
  if (signal?.aborted) throw abortedError(signal, "download");
  signal?.addEventListener("abort", onOuterAbort, { once: true });
  const total = setTimeout(() => stop(audioError("download_timeout", `download took longer than ${policy.totalTimeoutMs} ms`)), policy.totalTimeoutMs);
  let headersTimer: NodeJS.Timeout | undefined;

  try {
    for (let redirects = 0; ; redirects++) {
      const addresses = await checkHop(url, policy, ctl.signal);
      headersTimer = setTimeout(
        () => stop(audioError("download_timeout", `no response headers from ${url.host} within ${policy.connectTimeoutMs} ms`)),
        policy.connectTimeoutMs,
      );
      const { res, conn } = await requestHeaders(url, addresses, ctl.signal);
      clearTimeout(headersTimer);
      const status = res.statusCode ?? 0;

      if (REDIRECTS.has(status)) {
        res.destroy();
        const location = res.headers.location;
        if (!location) throw downloadFailed(`HTTP ${status} redirect without a Location header`, { status });
        if (redirects >= policy.maxRedirects) {
          throw downloadFailed(`more than ${policy.maxRedirects} redirects`, { status, details: { reason: "too_many_redirects" } });
        }
        try {
          url = new URL(location, url);
        } catch {
          throw audioError("url_not_allowed", "redirect Location is not a valid URL");
        }
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        const retryAfterS = retryAfterSeconds(res);
        throw downloadFailed(`HTTP ${status} from ${redactUrl(url)}`, { status, details: retryAfterS === undefined ? {} : { retryAfterS } });
      }
      const encoding = (res.headers["content-encoding"] ?? "").trim().toLowerCase();
      if (encoding !== "" && encoding !== "identity") {
        res.destroy();
        // Never inflated: a few KB of gzip can expand to gigabytes.
        throw downloadFailed(`server sent a ${encoding}-encoded body; only identity is accepted`, {
          status,
          details: { contentEncoding: encoding },
        });
      }
      const announced = Number(res.headers["content-length"]);
      if (Number.isFinite(announced) && announced > policy.maxBytes) {
        res.destroy();
        throw audioError("audio_too_large", `server announced ${announced} bytes, over the ${policy.maxBytes}-byte limit`, {
          details: { announced, maxBytes: policy.maxBytes },
        });
      }
      const bytes = await receiveBody(res, conn, dest, { maxBytes: policy.maxBytes, signal: ctl.signal, origin: redactUrl(url) });
      return { bytes, status, redirects, finalUrl: redactUrl(url) };
    }
  } catch (err) {
    if (ctl.signal.aborted) throw ctl.signal.reason;
    if (err instanceof WorkerError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw downloadFailed(`download from ${redactUrl(url)} failed: ${code ?? (err as Error).message}`, { network: true, cause: err });
  } finally {
    clearTimeout(total);
    clearTimeout(headersTimer);
    signal?.removeEventListener("abort", onOuterAbort);
    if (!ctl.signal.aborted) ctl.abort(); // closes any socket still open
  }
}
