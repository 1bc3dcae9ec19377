// Who may read and who may act. Actions (retry, purge, push) always need DASHBOARD_TOKEN: a
// Bearer header for scripts, or the session cookie the login form sets for a browser. Bound to
// anything but loopback, reads need it too. Without a token set, actions are refused outright.
import { createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { IncomingMessage } from "node:http";
import type { Secret } from "../config/secret.ts";

export const COOKIE = "vw_dashboard";
export const SESSION_MS = 12 * 3600_000;
/** Sent by the page with every action: a cross-site form or image cannot set a header. */
export const ACTION_HEADER = "x-requested-with";
export const ACTION_HEADER_VALUE = "voice-worker-dashboard";

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1" || h === "0:0:0:0:0:0:0:1";
}

export type Denial = { status: 401 | 403; code: string; message: string };
export type Caller = { via: "bearer" | "cookie" | "none" };

const sameBytes = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class DashboardAuth {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly token: Secret | undefined,
    /** True when bound beyond loopback: every page and read needs the token. */
    readonly readsNeedToken: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  get actionsEnabled(): boolean {
    return this.token !== undefined;
  }

  /** A session cookie value: expiry and an HMAC keyed by the token (changing the token ends every session). */
  sessionValue(expiresAt = this.now() + SESSION_MS): string {
    return `${expiresAt}.${this.#mac(String(expiresAt))}`;
  }

  sessionCookie(): string {
    return `${COOKIE}=${this.sessionValue()}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`;
  }

  static clearCookie(): string {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  checkToken(candidate: string): boolean {
    return this.token !== undefined && sameBytes(candidate, this.token.reveal());
  }

  /** Who is calling: a valid Bearer token, a valid session cookie, or nobody. */
  caller(req: IncomingMessage): Caller {
    if (!this.token) return { via: "none" };
    const auth = req.headers.authorization ?? "";
    if (auth.startsWith("Bearer ") && this.checkToken(auth.slice(7).trim())) return { via: "bearer" };
    const value = cookieValue(req.headers.cookie ?? "", COOKIE);
    if (value && this.#validSession(value)) return { via: "cookie" };
    return { via: "none" };
  }

  /** Null when the request may read (pages, GET /api/...). */
  readDenial(req: IncomingMessage): Denial | null {
    if (!this.readsNeedToken) return null;
    return this.caller(req).via === "none" ? { status: 401, code: "unauthorized", message: "sign in (or send Authorization: Bearer <DASHBOARD_TOKEN>)" } : null;
  }

  /**
   * Null when the request may act. A browser's session cookie also needs the page's own header
   * and, when the browser sends one, an Origin of this very server: SameSite=Strict already keeps
   * the cookie off cross-site requests; these two checks hold even where it does not.
   */
  actionDenial(req: IncomingMessage): Denial | null {
    if (!this.token) return { status: 403, code: "actions_disabled", message: "actions are off: set DASHBOARD_TOKEN where the dashboard runs" };
    const who = this.caller(req);
    if (who.via === "none")
      return { status: 401, code: "unauthorized", message: "actions need the dashboard token: sign in, or send Authorization: Bearer <DASHBOARD_TOKEN>" };
    if (who.via === "cookie") {
      if (req.headers[ACTION_HEADER] !== ACTION_HEADER_VALUE)
        return { status: 403, code: "csrf", message: `a browser action needs the ${ACTION_HEADER} header the dashboard page sends` };
      if (!sameOrigin(req)) return { status: 403, code: "csrf", message: "cross-origin request refused" };
    }
    return null;
  }

  /** Brute-force brake on the login form: at most 5 wrong tokens a minute per address. */
  loginAllowed(addr: string): boolean {
    const recent = (this.#failures.get(addr) ?? []).filter((t) => this.now() - t < 60_000);
    this.#failures.set(addr, recent);
    return recent.length < 5;
  }

  loginFailed(addr: string): void {
    if (this.#failures.size > 10_000) this.#failures.clear(); // bounded memory, whoever knocks
    this.#failures.set(addr, [...(this.#failures.get(addr) ?? []), this.now()]);
  }

  #validSession(value: string): boolean {
    const [exp, mac] = value.split(".");
    if (!exp || !mac || !/^\d+$/.test(exp) || Number(exp) < this.now()) return false;
    return sameBytes(mac, this.#mac(exp));
  }

  #mac(text: string): string {
    return createHmac("sha256", this.token?.reveal() ?? "")
      .update(`dashboard-session:${text}`)
      .digest("base64url");
  }
}

export function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/** The Origin header, when present, must name this server (as the browser reached it). */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser's cross-origin request: browsers send Origin on every cross-origin POST
  const host = req.headers.host;
  if (!host) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}

/** On loopback, reads need no token; a Host header naming anything else is a DNS-rebinding attempt. */
export function hostAllowed(req: IncomingMessage, readsNeedToken: boolean): boolean {
  if (readsNeedToken) return true;
  const host = req.headers.host;
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  return isLoopbackHost(name);
}
